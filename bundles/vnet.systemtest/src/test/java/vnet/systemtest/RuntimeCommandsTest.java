package vnet.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.testing.ExternalProcess;
import vnet.testing.WorkDir;

/**
 * The runtime jar without guests: its default link, non-interactive use (-c and script files), the
 * commands' one-line errors, and a bundle hot-deployed onto an inproc port attaching and detaching.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class RuntimeCommandsTest {

    @Test
    void dashCRunsACommandAndExits() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-st-")) {
            Path run = dir.resolve("run");
            String out = ExternalProcess.run(Duration.ofSeconds(90), Build.java(), "-Dvnet.runtime.dir=" + run,
                    "-Dorg.osgi.framework.storage=" + dir.resolve("state"), VnetRuntime.HTTP_ANY_PORT,
                    "-Dgosh.args=--nointeractive -c vnet:list; vnet:exit",
                    "-jar", Build.runtimeJar().toString());
            assertTrue(out.contains("p2p link default"), out);
            assertTrue(out.contains("port a") && out.contains(run.resolve("default/a.sock").toString()), out);
            assertTrue(out.contains("port b") && out.contains(run.resolve("default/b.sock").toString()), out);
        }
    }

    /** On JDK 24+ the jar's Enable-Native-Access header covers JNA; Agrona's and Felix's Unsafe need the README's flag. */
    @Test
    void runsOnANewerJdkWithoutWarnings() throws Exception {
        Path java = newerJdk();
        Assumptions.assumeTrue(java != null, "no JDK 24+ under /usr/lib/jvm");
        try (WorkDir dir = WorkDir.create("vnet-st-")) {
            String out = ExternalProcess.run(Duration.ofSeconds(90), java.toString(),
                    "--sun-misc-unsafe-memory-access=allow", "-Dvnet.runtime.dir=" + dir.resolve("run"),
                    "-Dorg.osgi.framework.storage=" + dir.resolve("state"), VnetRuntime.HTTP_ANY_PORT,
                    "-Dgosh.args=--nointeractive -c vnet:list; vnet:exit",
                    "-jar", Build.runtimeJar().toString());
            assertTrue(out.contains("p2p link default") && out.contains("port b"), out);
            assertTrue(out.contains("Started Jetty"), "the HTTP server (/metrics) runs too: " + out);
            assertFalse(out.contains("WARNING"), out);
        }
    }

    private static Path newerJdk() throws java.io.IOException {
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return null;
        }
        try (var dirs = Files.list(jvms)) {
            for (Path d : dirs.sorted().toList()) {
                Path release = d.resolve("release");
                if (Files.isRegularFile(release) && Files.isExecutable(d.resolve("bin/java"))) {
                    Matcher m = Pattern.compile("JAVA_VERSION=\"(\\d+)").matcher(Files.readString(release));
                    if (m.find() && Integer.parseInt(m.group(1)) >= 24) {
                        return d.resolve("bin/java");
                    }
                }
            }
        }
        return null;
    }

    @Test
    void scriptFileConfiguresASwitch() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-st-")) {
            Path run = dir.resolve("run");
            Path script = dir.resolve("setup.gosh");
            Files.writeString(script, """
                    vnet:create switch sw -p 200 --mac-aging 60
                    vnet:create port sw g1 mac=02:00:00:00:01:01 ds-max=4
                    vnet:create port sw g2 mac=02:00:00:00:01:02
                    vnet:list
                    vnet:exit
                    """);
            String out = ExternalProcess.run(Duration.ofSeconds(90), Build.java(), "-Dvnet.runtime.dir=" + run,
                    "-Dvnet.default=false", "-Dorg.osgi.framework.storage=" + dir.resolve("state"), VnetRuntime.HTTP_ANY_PORT,
                    "-Dgosh.args=--nointeractive " + script, "-jar", Build.runtimeJar().toString());
            assertTrue(out.contains("created switch sw  poll 200 us"), out);
            assertTrue(out.contains("created port sw/g1: vhost-user server " + run.resolve("sw/g1.sock")), out);
            assertTrue(out.contains("-device virtio-net-pci,netdev=vnet-g1,vectors=0,romfile=,mac=02:00:00:00:01:01"), out);
            assertTrue(out.contains("port g2"), out);
            assertFalse(out.contains("p2p link default"), "vnet.default=false: no default link\n" + out);
        }
    }

    @Test
    void errorsAreOneLine() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-st-");
                VnetRuntime vnet = VnetRuntime.start(dir.path(), dir.resolve("run"))) {
            assertTrue(vnet.run("vnet:list").contains("p2p link default"));
            String[][] cases = {
                    {"vnet:create port nolink a", "no p2p link or switch \"nolink\" (there are: default)"},
                    {"vnet:create port default c", "p2p link \"default\" has two ports already (a, b); use a switch for more"},
                    {"vnet:create port default a", "port \"a\" exists already on \"default\""},
                    {"vnet:create p2p default", "a p2p link called \"default\" exists already"},
                    {"vnet:create switch s1 -s 300", "size 300 is not a power of 2 in 1..32768"},
                    {"vnet:create switch bad/name", "switch name \"bad/name\" is not valid"},
                    {"vnet:create thing x", "\"thing\": say p2p, switch, port or peer"},
                    {"vnet:mactable default", "\"default\" is a p2p link: it has no MAC table"},
                    {"vnet:queues default zz", "no port"},
                    {"vnet:remove port default zz", "no port \"zz\" on \"default\""},
                    {"vnet:create peer mac=020000000001", "peer="},
                    {"vnet:create peer peer=/tmp/x.sock,speed=9", "speed"},
                    {"vnet:remove peer vp9", "no host peer \"vp9\""},
            };
            for (String[] c : cases) {
                List<String> lines = VnetRuntime.printed(vnet.run(c[0]));
                assertEquals(1, lines.size(), c[0] + " printed " + lines);
                assertTrue(lines.get(0).contains(c[1]), c[0] + " printed " + lines);
            }
            vnet.run("vnet:create switch s1");
            List<String> lines = VnetRuntime.printed(vnet.run("vnet:create port s1 p ds-max=81"));
            assertEquals(List.of("error: ds-max=81 is out of range 1..80"), lines);
            lines = VnetRuntime.printed(vnet.run("vnet:create port s1 p --vlan trunk:5000"));
            assertEquals(1, lines.size(), lines.toString());
            String help = vnet.run("help vnet:create");
            assertTrue(help.contains("--register-ds") && help.contains("ds-max=<1..80>"), help);
        }
    }

    @Test
    void hotDeployedBundleAttachesAndDetaches() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-st-");
                VnetRuntime vnet = VnetRuntime.start(dir.path(), dir.resolve("run"), "-Dvnet.default=false")) {
            vnet.run("vnet:create switch sw");
            String created = vnet.run("vnet:create port sw responder --transport inproc mac=02:00:00:00:00:64");
            assertTrue(created.contains("created port sw/responder"), created);
            assertTrue(vnet.run("vnet:queues sw responder").contains("no driver runs the device"));
            String installed = vnet.run("install " + Build.bundle("vnet.example.responder").toUri());
            Matcher id = Pattern.compile("Bundle ID: (\\d+)").matcher(installed);
            assertTrue(id.find(), installed);
            String started = vnet.run("start " + id.group(1));
            assertTrue(started.contains("attached to port responder"), started);
            assertTrue(vnet.run("vnet:queues sw responder").contains("queue pair 0"));
            String list = vnet.run("vnet:list");
            assertTrue(Pattern.compile("port responder +up +inproc").matcher(list).find(), list);
            String stopped = vnet.run("stop " + id.group(1));
            assertTrue(stopped.contains("detached from port responder"), stopped);
            assertTrue(vnet.run("vnet:queues sw responder").contains("no driver runs the device"));
            vnet.run("start " + id.group(1));
            assertTrue(vnet.run("vnet:queues sw responder").contains("queue pair 0"));
        }
    }
}
