package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.testing.Apt;
import vnet.testing.ExternalProcess;
import vnet.testing.GuestImage;
import vnet.testing.QemuGuest;
import vnet.testing.WorkDir;
import vnet.transport.shm.vhost.VhostUserFrontend;
import vnet.transport.shm.vhost.VhostUserPort;
import vnet.virtio.net.FrameBuffer;

/**
 * Three Linux guests (QEMU, the kernel's virtio-net driver, vhost-user) on one vnet switch. On one VLAN they all ping
 * each other, while a monitor port (a Java front-end) sees the ICMP traffic and a capture of one port, read back
 * with tshark, holds its echo requests and replies. With two guests on access VLAN 10 and one on access VLAN 20 the
 * VLANs are isolated in both directions.
 */
@Tag("real-peer")
class SwitchGuestTest {
    private static final String[] IP = {"192.0.2.1", "192.0.2.2", "192.0.2.3"};
    private static final String[] MAC = {"52:54:00:00:03:01", "52:54:00:00:03:02", "52:54:00:00:03:03"};
    private static final String[] NAME = {"a", "b", "c"};
    private static final Pattern PING = Pattern.compile("VNET-PING (\\S+) (ok|fail) (\\d+)");
    private static final Pattern PINGS_DONE = Pattern.compile("VNET-PINGS-DONE");

    /**
     * The guest's script: for each peer, up to its number of single pings until one is answered; then 3 more. Prints
     * {@code VNET-PING <peer> ok|fail <replies of the 3>} and finally {@code VNET-PINGS-DONE}.
     */
    private static String pingScript(Map<String, Integer> peers) {
        StringBuilder s = new StringBuilder("c(){ i=0;while [ $i -lt $2 ];do if ping -c1 -W1 $1 >/dev/null 2>&1;then ")
                .append("n=$(ping -c3 -i0.3 -W2 $1|grep -o '[0-9]* packets rec'|cut -d' ' -f1);")
                .append("echo VNET-PING $1 ok $n;return;fi;i=$((i+1));sleep 0.5;done;echo VNET-PING $1 fail 0;}\n");
        peers.forEach((peer, tries) -> s.append("c ").append(peer).append(' ').append(tries).append('\n'));
        return s.append("echo VNET-PINGS-DONE\n").toString();
    }

    private static Map<String, String> results(QemuGuest g) throws Exception {
        g.awaitLine(PINGS_DONE, Duration.ofMinutes(3));
        Map<String, String> r = new LinkedHashMap<>();
        for (String line : g.console().split("\r?\n")) {
            Matcher m = PING.matcher(line);
            if (m.find()) {
                r.put(m.group(1), m.group(2) + " " + m.group(3));
            }
        }
        return r;
    }

    private static QemuGuest guest(Path dir, int i, VhostUserPort port, Map<String, Integer> peers) throws IOException {
        return QemuGuest.builder(NAME[i]).workDir(dir)
                .nic(QemuGuest.VhostUserNic.client(port.socketPath()).mac(MAC[i]))
                .ip(IP[i] + "/24").command(pingScript(peers)).waitSeconds(60)
                .timeLimit(Duration.ofMinutes(4)).start();
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void threeGuestsPingEachOtherWhileMonitorAndCaptureSeeTheTraffic() throws Exception {
        GuestImage.get();
        Tshark.ensureInstalled();
        try (WorkDir dir = WorkDir.create("vnet-switch-guests-");
                Switch sw = new Switch("sw", FabricSettings.defaults().withRuntimeDir(dir.path()))) {
            List<AutoCloseable> owned = new ArrayList<>();
            try {
                VhostUserPort[] ports = new VhostUserPort[3];
                for (int i = 0; i < 3; i++) {
                    PortOptions o = PortOptions.parse("mac=" + MAC[i]);
                    ports[i] = VhostUserPort.listen(NAME[i], dir.resolve(NAME[i] + ".sock"), sw.portSettings(o));
                    owned.add(ports[i]);
                    sw.attach(new PortDefinition(NAME[i], o, VlanMode.DEFAULT, false, "vhost-user"), ports[i]);
                }
                VhostUserPort mon = VhostUserPort.listen("mon", dir.resolve("mon.sock"), sw.portSettings(PortOptions.DEFAULTS));
                owned.add(mon);
                sw.attach(new PortDefinition("mon", PortOptions.DEFAULTS, VlanMode.DEFAULT, true, "vhost-user"), mon);
                IcmpCounter monitor = new IcmpCounter(VhostUserFrontend.connect(mon.socketPath(),
                        VhostUserFrontend.Options.defaults()));
                owned.add(monitor);
                Path pcap = dir.resolve("b.pcap");
                sw.startCapture("b", pcap);

                List<QemuGuest> guests = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    Map<String, Integer> peers = new LinkedHashMap<>();
                    for (String ip : IP) {
                        if (!ip.equals(IP[i])) {
                            peers.put(ip, 90);
                        }
                    }
                    QemuGuest g = guest(dir.path(), i, ports[i], peers);
                    owned.add(g);
                    guests.add(g);
                }
                for (int i = 0; i < 3; i++) {
                    QemuGuest g = guests.get(i);
                    Map<String, String> r = results(g);
                    String who = NAME[i];
                    for (String peer : IP) {
                        if (!peer.equals(IP[i])) {
                            assertEquals("ok 3", r.get(peer), () -> who + " -> " + peer + "; console:\n" + g.console());
                        }
                    }
                }
                sw.stopCapture("b");
                monitor.stop();

                assertTrue(monitor.echoRequests.get() >= 6 * 4 && monitor.echoReplies.get() >= 6 * 4,
                        "monitor saw " + monitor.echoRequests + " echo requests and " + monitor.echoReplies + " replies");
                List<String> icmp = Tshark.fields(pcap, "icmp", "eth.src", "eth.dst", "icmp.type");
                long requestsFromB = icmp.stream().filter(l -> l.startsWith(MAC[1]) && l.endsWith("\t8")).count();
                long repliesToB = icmp.stream().filter(l -> l.contains("\t" + MAC[1] + "\t") && l.endsWith("\t0")).count();
                long requestsToB = icmp.stream().filter(l -> l.contains("\t" + MAC[1] + "\t") && l.endsWith("\t8")).count();
                assertTrue(requestsFromB >= 8 && repliesToB >= 8 && requestsToB >= 8,
                        "the capture of b holds its echo requests and replies: " + icmp);
                assertEquals(0, sw.stats("a").dropsSpoofed() + sw.stats("b").dropsSpoofed() + sw.stats("c").dropsSpoofed());
                List<MacEntry> table = sw.macTable();
                for (int i = 0; i < 3; i++) {
                    long mac = MacAddress.parse(MAC[i]);
                    String port = NAME[i];
                    assertTrue(table.stream().anyMatch(e -> e.mac() == mac && e.port().equals(port) && e.vlan() == 1),
                            table::toString);
                }
                System.out.printf("three guests: %s; monitor %d requests %d replies; capture of b %d ICMP frames%n",
                        sw.ports(), monitor.echoRequests.get(), monitor.echoReplies.get(), icmp.size());
            } finally {
                closeAll(owned);
            }
        }
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void twoVlansAreIsolatedInBothDirections() throws Exception {
        GuestImage.get();
        Tshark.ensureInstalled();
        try (WorkDir dir = WorkDir.create("vnet-switch-vlans-");
                Switch sw = new Switch("vl", FabricSettings.defaults().withRuntimeDir(dir.path()).withPollMicros(500))) {
            List<AutoCloseable> owned = new ArrayList<>();
            try {
                String[] vlans = {"access:10", "access:10", "access:20"};
                VhostUserPort[] ports = new VhostUserPort[3];
                for (int i = 0; i < 3; i++) {
                    PortOptions o = PortOptions.parse("mac=" + MAC[i]);
                    ports[i] = VhostUserPort.listen(NAME[i], dir.resolve(NAME[i] + ".sock"), sw.portSettings(o));
                    owned.add(ports[i]);
                    sw.attach(new PortDefinition(NAME[i], o, VlanMode.parse(vlans[i]), false, "vhost-user"), ports[i]);
                }
                Path pcap = dir.resolve("a.pcap");
                sw.startCapture("a", pcap);
                // a and b: each other first (proves both are up), then c. c: a and b, over a longer window that
                // overlaps the time a and b answer each other.
                QemuGuest a = guest(dir.path(), 0, ports[0], ordered(IP[1], 90, IP[2], 12));
                owned.add(a);
                QemuGuest b = guest(dir.path(), 1, ports[1], ordered(IP[0], 90, IP[2], 12));
                owned.add(b);
                QemuGuest c = guest(dir.path(), 2, ports[2], ordered(IP[0], 20, IP[1], 20));
                owned.add(c);
                Map<String, String> ra = results(a);
                Map<String, String> rb = results(b);
                Map<String, String> rc = results(c);
                String consoles = "\na:\n" + a.console() + "\nb:\n" + b.console() + "\nc:\n" + c.console();
                assertEquals("ok 3", ra.get(IP[1]), consoles);
                assertEquals("ok 3", rb.get(IP[0]), consoles);
                assertEquals("fail 0", ra.get(IP[2]), consoles);
                assertEquals("fail 0", rb.get(IP[2]), consoles);
                assertEquals("fail 0", rc.get(IP[0]), consoles);
                assertEquals("fail 0", rc.get(IP[1]), consoles);
                sw.stopCapture("a");

                assertTrue(sw.stats("c").txFrames() > 0, "c transmitted (ARP requests)");
                List<String> seenByA = Tshark.fields(pcap, "", "eth.src");
                assertTrue(seenByA.stream().noneMatch(l -> l.equals(MAC[2])), "nothing from c reached a: " + seenByA);
                assertTrue(seenByA.stream().anyMatch(l -> l.equals(MAC[1])), "a heard from b: " + seenByA);
                List<MacEntry> table = sw.macTable();
                long macC = MacAddress.parse(MAC[2]);
                assertTrue(table.stream().filter(e -> e.mac() == macC).allMatch(e -> e.vlan() == 20), table::toString);
                assertEquals(0, sw.stats("a").dropsVlan() + sw.stats("b").dropsVlan() + sw.stats("c").dropsVlan());
            } finally {
                closeAll(owned);
            }
        }
    }

    private static Map<String, Integer> ordered(String p1, int t1, String p2, int t2) {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put(p1, t1);
        m.put(p2, t2);
        return m;
    }

    private static void closeAll(List<AutoCloseable> owned) {
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                // best effort
            }
        }
    }

    /** A monitor port's Java front-end that counts ICMP echo requests and replies on its own thread. */
    static final class IcmpCounter implements AutoCloseable {
        final VhostUserFrontend frontend;
        final AtomicLong echoRequests = new AtomicLong();
        final AtomicLong echoReplies = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        IcmpCounter(VhostUserFrontend frontend) {
            this.frontend = frontend;
            this.thread = new Thread(this::run, "monitor");
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            FrameBuffer f = new FrameBuffer();
            try {
                while (running.get()) {
                    if (frontend.receive(f, Duration.ofMillis(200)) && f.length() >= 42) {
                        var b = f.buffer();
                        boolean ipv4 = (b.getByte(12) & 0xff) == 0x08 && b.getByte(13) == 0;
                        if (ipv4 && b.getByte(23) == 1) {
                            int type = b.getByte(34) & 0xff;
                            if (type == 8) {
                                echoRequests.incrementAndGet();
                            } else if (type == 0) {
                                echoReplies.incrementAndGet();
                            }
                        }
                    }
                }
            } catch (IOException e) {
                // closed
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(5000);
        }

        @Override
        public void close() throws Exception {
            stop();
            frontend.close();
        }
    }

    /** tshark, installed on demand (non-interactively, without the setuid dumpcap question). */
    static final class Tshark {
        private Tshark() {
        }

        static synchronized void ensureInstalled() throws IOException {
            if (Apt.installed("tshark")) {
                return;
            }
            ExternalProcess.run(Duration.ofMinutes(1), "bash", "-c",
                    "echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections");
            Apt.install("tshark");
        }

        /** One line per frame matching {@code filter} (empty: all), the fields separated by tabs. */
        static List<String> fields(Path pcap, String filter, String... fields) throws IOException {
            List<String> cmd = new ArrayList<>(List.of("tshark", "-n", "-r", pcap.toString(), "-T", "fields"));
            if (!filter.isEmpty()) {
                cmd.addAll(List.of("-Y", filter));
            }
            for (String f : fields) {
                cmd.addAll(List.of("-e", f));
            }
            String out = ExternalProcess.run(Duration.ofMinutes(1), cmd.toArray(new String[0]));
            List<String> lines = new ArrayList<>();
            for (String l : out.split("\n")) {
                if (!l.isBlank() && !l.startsWith("Running as user") && !l.contains("tshark:")) {
                    lines.add(l.trim());
                }
            }
            return lines;
        }
    }
}
