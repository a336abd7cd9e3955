package vnet.itest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static vnet.itest.Framework.awaitFabric;
import static vnet.itest.Framework.awaitTrue;
import static vnet.itest.Framework.create;
import static vnet.itest.Framework.portNames;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.Configuration;

import vnet.switching.Fabric;

/**
 * Soak: 100 cycles of creating and removing a port (with a front-end on it), and 100 of stopping and starting the
 * vhost-user transport bundle and the switching bundle, while two other ports exchange frames whenever they are up.
 * Open file descriptors, live threads and the heap after GC must not grow; the figures are printed.
 */
@Timeout(value = 280, unit = TimeUnit.SECONDS)
class SoakTest {
    private static final int CYCLES = Integer.getInteger("vnet.soak.cycles", 100);
    private Path dir;

    @AfterEach
    void tearDown() throws Exception {
        Framework.deleteAllConfigurations();
        for (String bsn : List.of("vnet.transport.shm", "vnet.switching")) {
            Bundle b = Framework.bundle(bsn);
            if (b.getState() != Bundle.ACTIVE) {
                b.start();
            }
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void portsAndBundlesComeAndGoWithoutLeaking() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "vnet-soak-");
        create("vnet.switch", "name", "soak", "runtime.dir", dir.toString());
        awaitFabric("soak");
        create("vnet.port", "link", "soak", "name", "x");
        create("vnet.port", "link", "soak", "name", "y");
        awaitTrue(() -> portNames(awaitFabric("soak")).containsAll(List.of("x", "y")), "x and y up");
        cycle(0); // warm up: classes, JNA, thread pools
        Bundle transport = Framework.bundle("vnet.transport.shm");
        Bundle switching = Framework.bundle("vnet.switching");
        bounce(transport);
        bounce(switching);
        Thread.sleep(500);
        long fds0 = fds();
        int threads0 = threads();
        long heap0 = heapAfterGc();

        for (int i = 1; i <= CYCLES; i++) {
            cycle(i);
            bounce(i % 2 == 0 ? transport : switching);
        }
        awaitTrue(() -> portNames(awaitFabric("soak")).containsAll(List.of("x", "y")), "x and y up at the end");
        exchange(5);
        Thread.sleep(500);
        long fds1 = fds();
        int threads1 = threads();
        long heap1 = heapAfterGc();
        System.out.printf("SoakTest: %d port cycles and %d bundle restarts: fds %d -> %d, threads %d -> %d,"
                + " heap after GC %d KiB -> %d KiB%n", CYCLES, CYCLES, fds0, fds1, threads0, threads1, heap0 >> 10, heap1 >> 10);
        assertTrue(fds1 <= fds0 + 8, "file descriptors grew: " + fds0 + " -> " + fds1);
        assertTrue(threads1 <= threads0 + 4, "threads grew: " + threads0 + " -> " + threads1);
        assertTrue(heap1 <= heap0 + (16 << 20), "heap after GC grew: " + heap0 + " -> " + heap1);
    }

    /** A port made, a front-end attached and exchanging with x and y, the port removed; x and y exchange meanwhile. */
    private void cycle(int i) throws Exception {
        Configuration z = create("vnet.port", "link", "soak", "name", "z");
        awaitTrue(() -> portNames(awaitFabric("soak")).contains("z"), "z up");
        exchange(2);
        try (Client cz = Client.connect("z", dir.resolve("soak").resolve("z.sock"))) {
            byte[] f = Frames.frame(Frames.BROADCAST, 0x02_00_00_00_00_30L, i);
            cz.send(f);
        }
        z.delete();
        awaitTrue(() -> !portNames(awaitFabric("soak")).contains("z"), "z gone");
    }

    /** x and y exchange {@code n} frames each way (new front-ends each time: ports may have come back). */
    private void exchange(int n) throws Exception {
        awaitTrue(() -> portNames(awaitFabric("soak")).containsAll(List.of("x", "y")), "x and y up");
        try (Client x = Client.connect("x", dir.resolve("soak").resolve("x.sock"));
                Client y = Client.connect("y", dir.resolve("soak").resolve("y.sock"))) {
            // A frame sent before its ports forward (the last set-up message may still be on its way) may be dropped.
            awaitTrue(() -> awaitFabric("soak").port("x").running() && awaitFabric("soak").port("y").running(),
                    "x and y forwarding");
            for (int k = 0; k < n; k++) {
                byte[] toY = Frames.frame(Frames.BROADCAST, 0x02_00_00_00_00_10L, k);
                x.send(toY);
                assertArrayEquals(toY, skipOthers(y, toY));
                byte[] toX = Frames.frame(Frames.BROADCAST, 0x02_00_00_00_00_20L, k);
                y.send(toX);
                assertArrayEquals(toX, skipOthers(x, toX));
            }
        }
    }

    /** The next frame equal to {@code want} (a port's broadcasts from earlier cycles may still be queued). */
    private static byte[] skipOthers(Client c, byte[] want) throws IOException {
        for (int i = 0; i < 16; i++) {
            byte[] got = c.expect();
            if (java.util.Arrays.equals(got, want)) {
                return got;
            }
        }
        return c.expect();
    }

    private static void bounce(Bundle b) throws Exception {
        b.stop();
        b.start();
        if (b.getSymbolicName().equals("vnet.switching")) {
            awaitFabric("soak");
        }
        awaitTrue(() -> {
            Fabric f = Framework.fabric("soak");
            return f != null && portNames(f).containsAll(List.of("x", "y"));
        }, "x and y back after restarting " + b.getSymbolicName());
    }

    private static long fds() {
        String[] names = new File("/proc/self/fd").list();
        return names == null ? -1 : names.length;
    }

    private static int threads() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    private static long heapAfterGc() throws InterruptedException {
        MemoryMXBean m = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return m.getHeapMemoryUsage().getUsed();
    }
}
