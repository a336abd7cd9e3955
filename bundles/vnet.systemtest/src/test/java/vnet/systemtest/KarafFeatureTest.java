package vnet.systemtest;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.testing.WorkDir;
import vnet.transport.shm.vhost.VhostUserFrontend;
import vnet.virtio.net.FrameBuffer;

/**
 * vnet in a real Apache Karaf 4.4.10 on JDK 17: {@code feature:repo-add} the build's features.xml,
 * {@code feature:install vnet vnet-shell}; a p2p link and a port from {@code etc/*.cfg} files, a second port
 * from the {@code vnet:} commands; both sockets exist and {@code vnet:list} shows them. Then
 * {@code feature:install vnet-metrics} brings Karaf's HTTP Whiteboard, and {@code /metrics} on pax-web's port counts
 * the frames two Java front-ends exchange over that link.
 */
@Tag("real-peer")
class KarafFeatureTest {
    static final int FRAMES = 10;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void featureInstallsAndPortsComeUpFromEtcAndFromCommands() throws Exception {
        try (WorkDir dir = WorkDir.create("vnet-karaf-")) {
            Path run = dir.resolve("run");
            try (Karaf karaf = Karaf.unpack(dir.path(), run).start()) {
                String added = karaf.client("feature:repo-add " + Build.featuresXml().toUri());
                assertFalse(added.contains("Error"), added);
                String installed = karaf.client("feature:install vnet vnet-shell", Duration.ofMinutes(5));
                assertFalse(installed.contains("Error"), installed + "\n" + karaf.log());
                String features = karaf.client("feature:list -i");
                assertTrue(Pattern.compile("(?m)^vnet +\\|.*\\| Started").matcher(features).find()
                        && Pattern.compile("(?m)^vnet-shell +\\|.*\\| Started").matcher(features).find(), features);

                Files.writeString(karaf.etc().resolve("vnet.p2p-kl.cfg"), "name = kl\npoll = 0\n");
                Files.writeString(karaf.etc().resolve("vnet.port-kla.cfg"),
                        "link = kl\nname = a\noptions = ds-max=4 mac=02:00:00:00:20:01\n");
                Path a = run.resolve("kl/a.sock");
                await(a, Duration.ofSeconds(90), karaf);

                String created = karaf.client("vnet:create port kl b mac=02:00:00:00:20:02");
                assertTrue(created.contains("created port kl/b"), created + "\n" + karaf.log());
                assertTrue(created.contains("-device virtio-net-pci,netdev=vnet-b,vectors=0"), created);
                await(run.resolve("kl/b.sock"), Duration.ofSeconds(30), karaf);

                String list = karaf.client("vnet:list");
                assertTrue(list.contains("p2p link kl"), list);
                assertTrue(list.contains("port a") && list.contains(a.toString()), list);
                assertTrue(list.contains("port b") && list.contains(run.resolve("kl/b.sock").toString()), list);

                String error = karaf.client("vnet:create port nolink x");
                assertTrue(error.contains("no p2p link or switch \"nolink\""), error);
                assertFalse(error.contains("\tat "), "no stack trace: " + error);

                // --help in Karaf, with the defaults; a usage line, not Gogo's coercion message.
                String help = karaf.client("vnet:create --help");
                assertTrue(help.contains("usage: vnet:create p2p <name>") && help.contains("vnet:create switch <name>")
                        && help.contains("(default 256)"), help);
                String listHelp = karaf.client("vnet:list --help");
                assertTrue(listHelp.contains("usage: vnet:list [--json]"), listHelp);
                // Karaf's help on these Gogo commands shows the same usage, options and defaults as --help: typed in
                // a console session (help pages through more: q leaves it, after the first screen), and *:help, the
                // command behind Karaf's help alias, in full.
                String console = karaf.console(Duration.ofMinutes(2), "help vnet:create", "q", "help vnet:stats", "q",
                        "echo help-done");
                String helpCreate = karaf.client("*:help vnet:create");
                String helpStats = karaf.client("*:help vnet:stats");
                String statsHelp = karaf.client("vnet:stats --help");
                assertAll(() -> assertTrue(console.contains("help-done"), console),
                        () -> assertOptions(console, "vnet:create: create a p2p link", "usage: vnet:create p2p <name>",
                                "--max-ports <n>", "-p, --poll <us>", "(default 0)", "vnet:stats: show port counters",
                                "usage: vnet:stats [<link> [<port>]]", "vnet:stats --reset [<link> [<port>]]",
                                "--interval <s>", "(default 1)", "--reset"),
                        () -> assertOptions(help, "--mac-aging <s>", "(default 300)", "--transport <transport>",
                                "(default vhost-user)"),
                        () -> assertOptions(helpCreate, "usage: vnet:create p2p <name>", "--max-ports <n>",
                                "(default 256)", "--mac-aging <s>", "(default 300)", "-h, --help"),
                        () -> assertOptions(statsHelp, "usage: vnet:stats", "--json", "--watch", "--interval <s>",
                                "(default 1)", "--reset", "/metrics, JMX and vnet:queues keep their running totals"),
                        () -> assertOptions(helpStats, "usage: vnet:stats", "--interval <s>", "(default 1)", "--reset"));
                String bare = karaf.client("vnet:create");
                assertTrue(bare.contains("missing what to create") && !bare.contains("coerce"), bare);

                // A bad etc/*.cfg: the component refuses it, and vnet:list says why.
                Files.writeString(karaf.etc().resolve("vnet.switch-kbad.cfg"), "name = kbad\nmax.ports = 0\n");
                String why = awaitOutput(karaf, "vnet:list", "switch kbad  (configured, not running: max.ports=0 is out"
                        + " of range 1..4096)", Duration.ofSeconds(60));
                assertFalse(why.contains("\tat "), why);

                // The metrics feature: with Karaf's own http-whiteboard (pax-web), /metrics on its port.
                String metrics = karaf.client("feature:install vnet-metrics", Duration.ofMinutes(5));
                assertFalse(metrics.contains("Error"), metrics + "\n" + karaf.log());
                String installedFeatures = karaf.client("feature:list -i");
                assertTrue(Pattern.compile("(?m)^vnet-metrics +\\|.*\\| Started").matcher(installedFeatures).find()
                        && Pattern.compile("(?m)^pax-web-http-whiteboard +\\|.*\\| Started").matcher(installedFeatures)
                        .find(), installedFeatures);
                scrapeWhileFramesFlow(karaf.httpPort(), a, run.resolve("kl/b.sock"));

                // vnet:exit is the Felix runtime's: Karaf does not have it, and keeps running.
                String exit = karaf.client("vnet:exit");
                assertTrue(exit.contains("Command not found"), exit);
                Thread.sleep(2000);
                assertTrue(karaf.client("vnet:list").contains("p2p link kl"), "Karaf still runs after vnet:exit");
            }
        }
    }

    /** Port a of link kl sends frames to port b (Java front-ends on both): /metrics counts them. */
    private static void scrapeWhileFramesFlow(int httpPort, Path a, Path b) throws Exception {
        long macA = 0x02_00_00_00_20_01L;
        long macB = 0x02_00_00_00_20_02L;
        VhostUserFrontend.Options o = VhostUserFrontend.Options.defaults().withQueueSize(64)
                .withTimeout(Duration.ofSeconds(20));
        try (VhostUserFrontend fa = VhostUserFrontend.connect(a, o);
                VhostUserFrontend fb = VhostUserFrontend.connect(b, o)) {
            String before = MetricsTest.awaitScrape(httpPort, "vnet_port_up{link=\"kl\",port=\"b\"} 1");
            assertTrue(before.contains("vnet_fabric_ports{name=\"kl\",kind=\"p2p\"} 2"), before);
            long txA0 = MetricsTest.value(before, "vnet_port_tx_frames_total{link=\"kl\",port=\"a\"}");
            long rxB0 = MetricsTest.value(before, "vnet_port_rx_frames_total{link=\"kl\",port=\"b\"}");
            FrameBuffer rx = new FrameBuffer();
            for (int i = 0; i < FRAMES; i++) {
                byte[] f = MetricsTest.frame(macB, macA, i);
                assertTrue(fa.send(f, 0, f.length), "frame " + i + " queued");
                assertTrue(fb.receive(rx, Duration.ofSeconds(10)), "frame " + i + " arrived at b");
            }
            String after = MetricsTest.scrape(httpPort);
            assertEquals(txA0 + FRAMES, MetricsTest.value(after, "vnet_port_tx_frames_total{link=\"kl\",port=\"a\"}"),
                    after);
            assertEquals(rxB0 + FRAMES, MetricsTest.value(after, "vnet_port_rx_frames_total{link=\"kl\",port=\"b\"}"),
                    after);
        }
    }

    /** Each expected text is in the output, whitespace aside (the console wraps lines at 80 columns). */
    private static void assertOptions(String output, String... expected) {
        String squeezed = output.replaceAll("\\s+", "");
        for (String e : expected) {
            assertTrue(squeezed.contains(e.replaceAll("\\s+", "")), "no \"" + e + "\" in:\n" + output);
        }
    }

    private static String awaitOutput(Karaf karaf, String command, String expected, Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        String out = karaf.client(command);
        while (!out.contains(expected)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(command + " did not show \"" + expected + "\" within " + limit + ":\n" + out);
            }
            Thread.sleep(500);
            out = karaf.client(command);
        }
        return out;
    }

    private static void await(Path file, Duration limit, Karaf karaf) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!Files.exists(file)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(file + " did not appear within " + limit + "\n" + karaf.log());
            }
            Thread.sleep(250);
        }
    }
}
