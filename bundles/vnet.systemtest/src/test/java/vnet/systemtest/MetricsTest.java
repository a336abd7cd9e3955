package vnet.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.testing.WorkDir;
import vnet.transport.shm.vhost.VhostUserFrontend;
import vnet.virtio.net.FrameBuffer;

/**
 * vnet.metrics in the runtime jar: two Java vhost-user front-ends exchange frames over the default p2p link while
 * the test scrapes {@code /metrics} (Prometheus text, served through the HTTP Whiteboard by Felix HTTP Jetty on
 * {@code org.osgi.service.http.port}) and reads the same port counters as MXBeans of the runtime's platform
 * MBeanServer (over JMX remote, as jconsole would): both move by exactly the frames sent.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class MetricsTest {
    static final long A = 0x02_00_00_00_00_01L;
    static final long B = 0x02_00_00_00_00_02L;
    static final int FRAMES = 25;

    @Test
    void prometheusAndJmxCountersMoveWithTheFrames() throws Exception {
        int httpPort = freePort();
        int jmxPort = freePort();
        try (WorkDir dir = WorkDir.create("vnet-ops-");
                VnetRuntime vnet = VnetRuntime.start(dir.path(), dir.resolve("run"), "-Dorg.osgi.service.http.port=" + httpPort,
                        "-Dcom.sun.management.jmxremote.port=" + jmxPort, "-Dcom.sun.management.jmxremote.rmi.port="
                                + jmxPort, "-Dcom.sun.management.jmxremote.authenticate=false",
                        "-Dcom.sun.management.jmxremote.ssl=false", "-Dcom.sun.management.jmxremote.host=127.0.0.1",
                        "-Djava.rmi.server.hostname=127.0.0.1")) {
            Path a = dir.resolve("run/default/a.sock");
            Path b = dir.resolve("run/default/b.sock");
            awaitFile(a);
            awaitFile(b);
            VhostUserFrontend.Options o = VhostUserFrontend.Options.defaults().withQueueSize(64)
                    .withTimeout(Duration.ofSeconds(20));
            try (VhostUserFrontend fa = VhostUserFrontend.connect(a, o);
                    VhostUserFrontend fb = VhostUserFrontend.connect(b, o)) {
                String before = awaitScrape(httpPort, "vnet_port_up{link=\"default\",port=\"b\"} 1");
                long txA0 = value(before, "vnet_port_tx_frames_total{link=\"default\",port=\"a\"}");
                long rxB0 = value(before, "vnet_port_rx_frames_total{link=\"default\",port=\"b\"}");

                FrameBuffer rx = new FrameBuffer();
                for (int i = 0; i < FRAMES; i++) {
                    byte[] f = frame(B, A, i);
                    assertTrue(fa.send(f, 0, f.length), "frame " + i + " queued");
                    assertTrue(fb.receive(rx, Duration.ofSeconds(10)), "frame " + i + " arrived at b");
                }
                String after = scrape(httpPort);
                assertEquals(txA0 + FRAMES, value(after, "vnet_port_tx_frames_total{link=\"default\",port=\"a\"}"), after);
                assertEquals(rxB0 + FRAMES, value(after, "vnet_port_rx_frames_total{link=\"default\",port=\"b\"}"), after);
                assertEquals(value(after, "vnet_port_tx_bytes_total{link=\"default\",port=\"a\"}"),
                        value(after, "vnet_port_rx_bytes_total{link=\"default\",port=\"b\"}"), after);
                assertTrue(after.contains("# TYPE vnet_port_tx_frames_total counter"), after);
                assertTrue(after.contains("vnet_fabric_ports{name=\"default\",kind=\"p2p\"} 2"), after);
                assertTrue(after.contains("vnet_port_tx_dropped_total{link=\"default\",port=\"a\",reason=\"spoofed\"} 0"),
                        after);
                // Felix HTTP Jetty serves it, on 127.0.0.1, and it is the only thing there.
                assertTrue(vnet.output().contains("Started Jetty") && vnet.output().contains("HTTP:" + httpPort),
                        vnet.output());
                assertEquals(404, get(httpPort, "/").statusCode());
                assertEquals(405, HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + httpPort + "/metrics")).POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10))
                        .build(), HttpResponse.BodyHandlers.ofString()).statusCode());

                JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + jmxPort + "/jmxrmi");
                try (JMXConnector c = JMXConnectorFactory.connect(url)) {
                    MBeanServerConnection mbs = c.getMBeanServerConnection();
                    ObjectName portA = new ObjectName("vnet:type=port,link=\"default\",name=\"a\"");
                    ObjectName portB = new ObjectName("vnet:type=port,link=\"default\",name=\"b\"");
                    // The MXBeans follow the fabric once a second: wait for this run's ports to be there.
                    for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
                            !(mbs.isRegistered(portA) && mbs.isRegistered(portB)) && System.nanoTime() < end; ) {
                        Thread.sleep(100);
                    }
                    assertEquals(txA0 + FRAMES, (long) (Long) mbs.getAttribute(portA, "TxFrames"));
                    assertEquals(rxB0 + FRAMES, (long) (Long) mbs.getAttribute(portB, "RxFrames"));
                    assertEquals(Boolean.TRUE, mbs.getAttribute(portB, "Up"));
                    ObjectName link = new ObjectName("vnet:type=link,name=\"default\"");
                    assertEquals(2, (int) (Integer) mbs.getAttribute(link, "Ports"));
                    assertEquals("p2p", mbs.getAttribute(link, "Kind"));
                    assertEquals(3, mbs.queryNames(new ObjectName("vnet:*"), null).size(),
                            "the link and its two ports: " + mbs.queryNames(new ObjectName("vnet:*"), null));
                }
            }
        }
    }

    /**
     * {@code vnet:stats --reset}: what vnet:stats shows starts from 0 (per port, all or a link's), with the reset's time in
     * {@code --json}; the counters behind {@code /metrics} keep counting (a Prometheus _total never goes down). Bad
     * arguments are one-line errors.
     */
    @Test
    void statsResetIsABaselineAndMetricsKeepCounting() throws Exception {
        int httpPort = freePort();
        try (WorkDir dir = WorkDir.create("vnet-ops-");
                VnetRuntime vnet = VnetRuntime.start(dir.path(), dir.resolve("run"), "-Dorg.osgi.service.http.port="
                        + httpPort)) {
            Path a = dir.resolve("run/default/a.sock");
            Path b = dir.resolve("run/default/b.sock");
            awaitFile(a);
            awaitFile(b);
            VhostUserFrontend.Options o = VhostUserFrontend.Options.defaults().withQueueSize(64)
                    .withTimeout(Duration.ofSeconds(20));
            try (VhostUserFrontend fa = VhostUserFrontend.connect(a, o);
                    VhostUserFrontend fb = VhostUserFrontend.connect(b, o)) {
                String txA = "vnet_port_tx_frames_total{link=\"default\",port=\"a\"}";
                long metricsA0 = value(awaitScrape(httpPort, "vnet_port_up{link=\"default\",port=\"b\"} 1"), txA);
                send(fa, fb, 5);
                String before = statsJson(vnet, "default a");
                assertEquals(metricsA0 + 5, jsonValue(before, "tx_frames"), before);
                assertTrue(before.contains("\"since\":null"), before);
                long rxB = jsonValue(statsJson(vnet, "default b"), "rx_frames");

                List<String> reset = VnetRuntime.printed(vnet.run("vnet:stats --reset default a"));
                assertEquals(1, reset.size(), reset.toString());
                assertTrue(reset.get(0).startsWith("vnet:stats counts from 0 since ") && reset.get(0).contains(
                        "for 1 port (default/a); /metrics and JMX keep their totals"), reset.get(0));
                String zero = statsJson(vnet, "default a");
                assertEquals(0, jsonValue(zero, "tx_frames"), zero);
                assertEquals(0, jsonValue(zero, "tx_bytes"), zero);
                assertTrue(Pattern.compile("\"since\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z\"")
                        .matcher(zero).find(), zero);
                assertEquals(rxB, jsonValue(statsJson(vnet, "default b"), "rx_frames"), "port b was not reset");
                assertEquals(metricsA0 + 5, value(scrape(httpPort), txA), "the Prometheus counter did not go down");

                send(fa, fb, 3);
                assertEquals(3, jsonValue(statsJson(vnet, "default a"), "tx_frames"));
                assertEquals(metricsA0 + 8, value(scrape(httpPort), txA));
                String table = vnet.run("vnet:stats default");
                assertTrue(table.contains("since vnet:stats --reset at ") && table.contains(": default/a"), table);
                assertTrue(Pattern.compile("(?m)^default +a +3 ").matcher(table).find(), table);

                // Every port at once, acknowledged in JSON with the baseline time.
                String all = VnetRuntime.printed(vnet.run("vnet:stats --reset --json")).get(0);
                assertTrue(all.matches("\\{\"since\":\"[^\"]+\",\"reset\":\\[\\{\"link\":\"default\",\"port\":\"a\"},"
                        + "\\{\"link\":\"default\",\"port\":\"b\"}]}"), all);
                assertEquals(0, jsonValue(statsJson(vnet, "default b"), "rx_frames"));
                assertEquals(metricsA0 + 8, value(scrape(httpPort), txA));

                for (String[] c : new String[][] {
                        {"vnet:stats --reset --watch", "error: --watch does not go with --reset"},
                        {"vnet:stats --reset --count 2", "error: --count does not go with --reset"},
                        {"vnet:stats --reset=yes", "error: --reset takes no value"},
                        {"vnet:stats --reset default a b", "error: unexpected argument \"b\"; usage: vnet:stats"},
                        {"vnet:stats --reset default zz", "error: "},
                        {"vnet:stats --reset nolink", "error: "}}) {
                    List<String> lines = VnetRuntime.printed(vnet.run(c[0]));
                    assertEquals(1, lines.size(), c[0] + " printed " + lines);
                    assertTrue(lines.get(0).startsWith(c[1]), c[0] + " printed " + lines);
                }
                assertEquals(0, jsonValue(statsJson(vnet, "default b"), "rx_frames"), "a refused reset changes nothing");
            }
        }
    }

    private static void send(VhostUserFrontend from, VhostUserFrontend to, int frames) throws Exception {
        FrameBuffer rx = new FrameBuffer();
        for (int i = 0; i < frames; i++) {
            byte[] f = frame(B, A, i);
            assertTrue(from.send(f, 0, f.length), "frame " + i + " queued");
            assertTrue(to.receive(rx, Duration.ofSeconds(10)), "frame " + i + " arrived");
        }
    }

    private static String statsJson(VnetRuntime vnet, String which) throws Exception {
        return VnetRuntime.printed(vnet.run("vnet:stats " + which + " --json")).get(0);
    }

    private static long jsonValue(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":(\\d+)").matcher(json);
        if (!m.find()) {
            throw new AssertionError("no " + key + " in " + json);
        }
        return Long.parseLong(m.group(1));
    }

    /**
     * What an operator gets without setting anything: HTTP on 127.0.0.1 (never every interface) at 9464. Read from the
     * jar's launch properties, not by binding 9464, which may be taken on a shared machine.
     */
    @Test
    void httpIsOnLoopbackAtPort9464ByDefault() throws Exception {
        Properties launch = new Properties();
        try (JarFile jar = new JarFile(Build.runtimeJar().toFile());
                InputStream in = jar.getInputStream(jar.getEntry("launcher.properties"))) {
            launch.load(in);
        }
        assertEquals("127.0.0.1", launch.getProperty("org.apache.felix.http.host"));
        assertEquals("9464", launch.getProperty("org.osgi.service.http.port"));
        assertTrue(launch.getProperty("launch.runbundles.attrs").contains("org.apache.felix.http.jetty;"), launch.toString());
    }

    /** An Ethernet frame dst, src, an experimental ethertype, 60 bytes. */
    static byte[] frame(long dst, long src, int mark) {
        byte[] f = new byte[60];
        for (int i = 0; i < 6; i++) {
            f[i] = (byte) (dst >>> (40 - 8 * i));
            f[6 + i] = (byte) (src >>> (40 - 8 * i));
        }
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xb5;
        f[14] = (byte) mark;
        return f;
    }

    static long value(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\d+)$").matcher(text);
        if (!m.find()) {
            throw new AssertionError("no " + series + " in\n" + text);
        }
        return Long.parseLong(m.group(1));
    }

    static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** GET /metrics on 127.0.0.1: must be 200 with the Prometheus text's content type. */
    static String scrape(int port) throws IOException, InterruptedException {
        HttpResponse<String> r = get(port, "/metrics");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        return r.body();
    }

    /**
     * Scrapes until a line shows; until then the server may not listen yet, or answer 404 before the whiteboard has
     * the servlet (the HTTP server and vnet.metrics start side by side).
     */
    static String awaitScrape(int port, String line) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = get(port, "/metrics");
                last = r.statusCode() + "\n" + r.body();
                if (r.statusCode() == 200 && r.body().contains(line)) {
                    return scrape(port);
                }
            } catch (IOException notYet) {
                last = notYet.toString();
            }
            Thread.sleep(200);
        }
        throw new AssertionError("/metrics never showed " + line + ":\n" + last);
    }

    static void awaitFile(Path p) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(p)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(p + " did not appear");
            }
            Thread.sleep(100);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
