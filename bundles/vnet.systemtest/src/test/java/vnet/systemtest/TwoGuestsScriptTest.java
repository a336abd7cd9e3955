package vnet.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.testing.ExternalProcess;
import vnet.testing.WorkDir;

/**
 * runtime/two-guests.sh against a running runtime, as the README runs it: guest a pings guest b 5 of 5; stopped
 * early with SIGTERM it takes both QEMUs along at once; either way it leaves no QEMU, no console log in /tmp, and
 * no terminal reset sequence on its output.
 */
@Tag("real-peer")
@Timeout(value = 12, unit = TimeUnit.MINUTES)
class TwoGuestsScriptTest {

    @Test
    void twoGuestsPingAndTheScriptCleansUp() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-ops-");
                VnetRuntime vnet = VnetRuntime.start(dir.path(), dir.resolve("run"), "-Dgosh.args=--nointeractive")) {
            Path run = dir.resolve("run");
            MetricsTest.awaitFile(run.resolve("default/a.sock"));
            MetricsTest.awaitFile(run.resolve("default/b.sock"));
            Set<String> logsBefore = guestLogs();

            // Stopped early: SIGTERM to the script while both guests boot.
            try (ExternalProcess early = script(dir, "early")) {
                early.awaitLine(Pattern.compile("guest a: 192.0.2.1"), Duration.ofMinutes(5));
                List<ProcessHandle> qemus = qemusUnder(early.wrapperPid());
                // The script prints guest a's line just before it starts a's QEMU: give it a moment.
                for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20); qemus.size() < 2 && System.nanoTime() < end; ) {
                    Thread.sleep(100);
                    qemus = qemusUnder(early.wrapperPid());
                }
                assertEquals(2, qemus.size(), "both guests' QEMU run: " + early.output());
                ProcessHandle.of(early.pid()).orElseThrow().destroy();
                assertTrue(early.waitFor(Duration.ofSeconds(30)) != 0);
                for (ProcessHandle q : qemus) {
                    q.onExit().get(15, TimeUnit.SECONDS);
                    assertFalse(q.isAlive(), "QEMU " + q.pid() + " outlived the script");
                }
            }
            assertEquals(logsBefore, guestLogs(), "no console log left in /tmp");

            try (ExternalProcess full = script(dir, "full")) {
                int rc = full.waitFor(Duration.ofMinutes(8));
                String out = full.output();
                assertEquals(0, rc, out);
                assertTrue(out.contains("VNET-RESULT ping sent=5 received=5"), out);
                assertFalse(out.contains("\u001bc"), "no terminal reset on the script's output");
                assertTrue(qemusUnder(full.wrapperPid()).isEmpty());
            }
            assertEquals(logsBefore, guestLogs(), "no console log left in /tmp");
        }
    }

    private static ExternalProcess script(WorkDir dir, String name) throws IOException {
        return ExternalProcess.command("bash", Build.root().resolve("runtime/two-guests.sh").toString())
                .name("two-guests-" + name).env("VNET_RUNTIME_DIR", dir.resolve("run").toString())
                .log(dir.resolve("two-guests-" + name + ".log")).timeLimit(Duration.ofMinutes(9)).start();
    }

    private static List<ProcessHandle> qemusUnder(long pid) {
        return ProcessHandle.of(pid).map(p -> p.descendants()
                .filter(d -> d.info().command().orElse("").contains("qemu-system")).toList()).orElse(List.of());
    }

    private static Set<String> guestLogs() throws IOException {
        try (var s = Files.list(Path.of("/tmp"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.matches("vnet-guest-[ab]\\..*\\.log"))
                    .collect(Collectors.toSet());
        }
    }
}
