package vnet.virtqueue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A benchmark hook for measuring a data-path change against the code without it in one run (README "A/B in one
 * run"): while the JVM runs with {@code -Dvnet.ab=<file>}, {@link #b} follows that file ({@code 1}: true), read every
 * 5 ms by a daemon thread; without the property {@link #b} stays false and no thread starts. To measure a change, put
 * it behind {@code if (AbSwitch.b)} and run {@code VNET_AB=1 runtime/bench/forwarding.sh}, which flips the file every
 * second; then take the switch out again. Code on main never reads it.
 */
public final class AbSwitch {
    /** Whether variant B runs (the file holds {@code 1}). */
    public static volatile boolean b;

    static {
        String file = System.getProperty("vnet.ab");
        if (file != null) {
            Path path = Path.of(file);
            Thread t = new Thread(() -> {
                while (true) {
                    try {
                        b = Files.readString(path).trim().equals("1");
                    } catch (java.io.IOException | RuntimeException e) {
                        // not written yet, or being rewritten: keep the last value
                    }
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "vnet-ab-switch");
            t.setDaemon(true);
            t.start();
        }
    }

    private AbSwitch() {
    }
}
