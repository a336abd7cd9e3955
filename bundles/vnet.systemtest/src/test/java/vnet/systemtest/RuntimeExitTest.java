package vnet.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.testing.ExternalProcess;
import vnet.testing.WorkDir;

/**
 * The runtime's behaviour for operators (issue 13): a failing command prints one line on stderr and stops a
 * {@code -c} run, a script or piped standard input with exit code 1 within seconds; {@code vnet:exit <n>} exits n;
 * SIGTERM stops the framework (no socket left) and exits 0; the control socket (runtime/vnetctl) runs commands in
 * the running vnet, and a second vnet on the same runtime folder is refused before it binds anything.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class RuntimeExitTest {
    /** A bad command must end the run this fast (the JVM and framework start in about 3 s). */
    private static final Duration FAST = Duration.ofSeconds(30);

    /** One run of the jar to its end: exit code, stdout, stderr, time taken. */
    record Run(int code, String out, String err, Duration took) {
        /** stderr without java.util.logging's records. */
        List<String> errLines() {
            return VnetRuntime.printed(err);
        }
    }

    private static Run run(WorkDir dir, String goshArgs, Path stdin, String... jvmArgs) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Build.java(), "-Dvnet.runtime.dir=" + dir.resolve("run"),
                "-Dorg.osgi.framework.storage=" + dir.resolve("state"), VnetRuntime.HTTP_ANY_PORT));
        cmd.addAll(List.of(jvmArgs));
        if (goshArgs != null) {
            cmd.add("-Dgosh.args=" + goshArgs);
        }
        cmd.addAll(List.of("-jar", Build.runtimeJar().toString()));
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.path().toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(stdin == null ? ProcessBuilder.Redirect.from(new File("/dev/null"))
                        : ProcessBuilder.Redirect.from(stdin.toFile()));
        long t0 = System.nanoTime();
        Process p = pb.start();
        try {
            boolean ended = p.waitFor(FAST.toSeconds(), TimeUnit.SECONDS);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertTrue(ended, "still running after " + FAST + ": " + cmd + "\n" + Files.readString(out)
                    + Files.readString(err));
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err), took);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void aFailingDashCRunExitsOneWithOneLine() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-ops-")) {
            Run r = run(dir, "--nointeractive -c vnet:create port nosw x; vnet:exit 0", null, "-Dvnet.default=false");
            assertEquals(1, r.code(), r.toString());
            assertEquals(List.of("error: no p2p link or switch \"nosw\" (there are none: create one with vnet:create"
                    + " p2p <name>)"), r.errLines(), r.toString());
            assertFalse(r.out().contains("\tat ") || r.err().contains("\tat "), "no stack trace on the console: " + r);
            String log = Files.readString(dir.resolve("run/vnet.log"));
            assertTrue(log.contains("IllegalArgumentException") && log.contains("\tat "), "the details are in the log: "
                    + log);
        }
    }

    @Test
    void aScriptStopsAtItsFirstError() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-ops-")) {
            Path script = dir.resolve("setup.gosh");
            Files.writeString(script, """
                    vnet:create switch sw
                    vnet:create port sw g1 mac=zz
                    vnet:create switch after
                    vnet:exit 0
                    """);
            Run r = run(dir, "--nointeractive " + script, null, "-Dvnet.default=false");
            assertEquals(1, r.code(), r.toString());
            assertTrue(r.out().contains("created switch sw"), r.toString());
            assertEquals(1, r.errLines().size(), r.toString());
            assertTrue(r.errLines().get(0).startsWith("error: ") && r.errLines().get(0).contains("mac=zz"), r.toString());
            assertFalse(r.out().contains("created switch after"), "the script stopped at line 2: " + r);
        }
    }

    @Test
    void pipedStandardInputStopsAtItsFirstError() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-ops-")) {
            Path in = dir.resolve("in.txt");
            Files.writeString(in, "vnet:list\nvnet:create thing x\nvnet:create switch after\n");
            Run r = run(dir, null, in, "-Dvnet.default=false");
            assertEquals(1, r.code(), r.toString());
            assertTrue(r.out().contains("no p2p links or switches"), r.toString());
            assertEquals(1, r.errLines().size(), r.toString());
            assertTrue(r.errLines().get(0).startsWith("error: \"thing\": say p2p, switch, port or peer"), r.toString());
            assertFalse(r.out().contains("created switch after"), r.toString());

            Files.writeString(in, "vnet:list\n");
            Run eof = run(dir, null, in, "-Dvnet.default=false");
            assertEquals(0, eof.code(), "the end of standard input ends vnet with 0: " + eof);
        }
    }

    @Test
    void exitCodesOfARun() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-ops-")) {
            assertEquals(7, run(dir, "--nointeractive -c vnet:list; vnet:exit 7", null).code());
            assertEquals(0, run(dir, "--nointeractive -c vnet:list", null, "-Dvnet.default=false").code(),
                    "a -c run that succeeds ends with 0 without vnet:exit");
            Run usage = run(dir, "--bogus", null, "-Dvnet.default=false");
            assertEquals(2, usage.code(), usage.toString());
            assertTrue(usage.errLines().get(0).startsWith("error: unknown option --bogus"), usage.toString());
            Run missing = run(dir, "--nointeractive " + dir.resolve("missing.gosh"), null, "-Dvnet.default=false");
            assertEquals(2, missing.code(), missing.toString());
            Run badExit = run(dir, "--nointeractive -c vnet:exit 300", null, "-Dvnet.default=false");
            assertEquals(1, badExit.code(), badExit.toString());
            assertTrue(badExit.err().contains("is not a number in 0..255"), badExit.toString());
        }
    }

    @Test
    void sigtermStopsTheFrameworkAndExitsZero() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-ops-");
                VnetRuntime vnet = VnetRuntime.start(dir.path(), dir.resolve("run"), "-Dgosh.args=--nointeractive")) {
            Path run = dir.resolve("run");
            List<Path> sockets = List.of(run.resolve("default/a.sock"), run.resolve("default/b.sock"),
                    run.resolve("vnet.ctl"));
            awaitFiles(sockets, Duration.ofSeconds(60));
            ProcessHandle java = ProcessHandle.of(vnet.pid()).orElseThrow();
            assertTrue(java.destroy(), "SIGTERM sent");
            java.onExit().get(30, TimeUnit.SECONDS);
            assertEquals(0, vnet.waitFor(Duration.ofSeconds(10)), "exit code after SIGTERM\n" + vnet.output());
            for (Path s : sockets) {
                assertFalse(Files.exists(s), s + " left behind\n" + vnet.output());
            }
        }
    }

    @Test
    void theControlSocketRunsCommandsInTheRunningVnet() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-ops-");
                VnetRuntime vnet = VnetRuntime.start(dir.path(), dir.resolve("run"), "-Dgosh.args=--nointeractive")) {
            Path run = dir.resolve("run");
            Path ctl = run.resolve("vnet.ctl");
            awaitFiles(List.of(ctl, run.resolve("default/b.sock")), Duration.ofSeconds(60));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(ctl)));

            Run list = vnetctl(dir, "vnet:list");
            assertEquals(0, list.code(), list.toString());
            assertTrue(list.out().contains("p2p link default") && list.out().contains("port a"), list.toString());
            assertTrue(list.took().compareTo(Duration.ofSeconds(20)) < 0, list.toString());

            Run created = vnetctl(dir, "vnet:create", "switch", "sw", "--max-ports", "2");
            assertEquals(0, created.code(), created.toString());
            assertTrue(vnetctl(dir, "vnet:list").out().contains("switch sw"), "the command ran in the running vnet");

            Run bad = vnetctl(dir, "vnet:create", "switch", "s0", "--max-ports", "0");
            assertEquals(1, bad.code(), bad.toString());
            assertEquals(List.of("error: --max-ports 0 is out of range 1..4096 (vnet:create --help)"), bad.errLines());

            // A second runtime on the same folder: refused before it binds a socket; the first one carries on.
            Run second = run(dir, "--nointeractive", null, "-Dorg.osgi.framework.storage=" + dir.resolve("state2"));
            assertEquals(1, second.code(), second.toString());
            assertTrue(second.err().contains("a vnet runs already with runtime folder " + run), second.toString());
            assertFalse(second.err().contains("EADDRINUSE") || second.err().contains("\tat "), second.toString());
            assertEquals(0, vnetctl(dir, "vnet:list").code(), "the first vnet still answers");

            Run exit = vnetctl(dir, "vnet:exit");
            assertEquals(0, exit.code(), exit.toString());
            assertEquals(0, vnet.waitFor(Duration.ofSeconds(30)), vnet.output());
            assertFalse(Files.exists(ctl), "the control socket is removed");
            Run none = vnetctl(dir, "vnet:list");
            assertEquals(3, none.code(), none.toString());
            assertTrue(none.err().startsWith("vnetctl: no vnet answers on " + ctl), none.toString());
        }
    }

    /** runtime/vnetctl with the test's Java first on PATH. */
    private static Run vnetctl(WorkDir dir, String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Build.root().resolve("runtime/vnetctl").toString(), "--runtime-dir",
                dir.resolve("run").toString()));
        cmd.addAll(List.of(command));
        Path out = Files.createTempFile(dir.path(), "ctl-", ".out");
        Path err = Files.createTempFile(dir.path(), "ctl-", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("PATH", Path.of(Build.java()).getParent() + File.pathSeparator + System.getenv("PATH"));
        long t0 = System.nanoTime();
        Process p = pb.start();
        try {
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "vnetctl still running: " + cmd);
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err),
                    Duration.ofNanos(System.nanoTime() - t0));
        } finally {
            p.destroyForcibly();
        }
    }

    private static void awaitFiles(List<Path> files, Duration limit) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + limit.toNanos();
        for (Path f : files) {
            while (!Files.exists(f)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(f + " did not appear within " + limit);
                }
                Thread.sleep(100);
            }
        }
    }
}
