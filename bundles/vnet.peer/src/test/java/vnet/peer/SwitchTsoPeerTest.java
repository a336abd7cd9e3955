package vnet.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.switching.FabricSettings;
import vnet.switching.PortDefinition;
import vnet.switching.PortOptions;
import vnet.switching.Switch;
import vnet.testing.ExternalProcess;
import vnet.testing.GuestImage;
import vnet.testing.QemuGuest;
import vnet.testing.WorkDir;
import vnet.transport.shm.vhost.VhostUserPort;
import vnet.virtio.net.Features;

/**
 * A host peer (TAP with IFF_VNET_HDR, {@code peer=} a switch port's socket) and a QEMU guest with TSO on another
 * port of the same switch exchange 8 MiB of random data over TCP each way; both ends' digests match, and the guest
 * and the host peer negotiated checksum and TSO offloads with their ports.
 */
@Tag("real-peer")
class SwitchTsoPeerTest {
    private static final int BYTES = 8 << 20;
    private static final Pattern FEATURES = Pattern.compile("VNET-FEATURES ([01]+)");
    private static final Pattern GUEST_SENT = Pattern.compile("VNET-SENT ([0-9a-f]{32})");
    private static final Pattern GUEST_GOT = Pattern.compile("VNET-GOT ([0-9a-f]{32}) (\\d+)");

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void hostPeerAndTsoGuestExchangeTcpBothWaysThroughASwitch() throws Exception {
        GuestImage.get();
        try (WorkDir dir = WorkDir.create("vnet-tso-peer-");
                NetNamespace ns = NetNamespace.create();
                Switch sw = new Switch("sw", FabricSettings.defaults().withRuntimeDir(dir.path()))) {
            PortOptions go = PortOptions.parse("mac=52:54:00:00:0b:02");
            PortOptions ho = PortOptions.parse("mac=02:a0:b0:c0:d0:e1");
            try (VhostUserPort g = VhostUserPort.listen("g", dir.resolve("g.sock"), sw.portSettings(go));
                    VhostUserPort hp = VhostUserPort.listen("hp", dir.resolve("hp.sock"), sw.portSettings(ho))) {
                sw.attach(PortDefinition.of("g", go), g);
                sw.attach(PortDefinition.of("hp", ho), hp);
                try (HostPeer peer = HostPeer.start(PeerOptions.parseOne("peer=" + hp.socketPath()
                        + ",mac=02a0b0c0d0e1,name=vxtso"), -1)) {
                    String vp = peer.interfaceName();
                    ns.moveLink(vp);
                    ns.configure(vp, "192.0.2.1/24");
                    Path data = dir.resolve("host.data");
                    byte[] bytes = new byte[BYTES];
                    new java.util.Random(42).nextBytes(bytes);
                    Files.write(data, bytes);
                    String hostMd5 = md5(bytes);
                    // the host serves its data to the first connection, as the guest does
                    try (ExternalProcess server = ExternalProcess.command("ip", "netns", "exec", ns.name(), "busybox",
                            "nc", "-l", "-p", "5001", "-e", "cat", data.toString()).name("host-nc")
                            .log(dir.resolve("host-nc.log")).timeLimit(Duration.ofMinutes(6)).start();
                            QemuGuest guest = QemuGuest.builder("g").workDir(dir.path())
                                    .nic(QemuGuest.VhostUserNic.client(g.socketPath()).mac("52:54:00:00:0b:02"))
                                    .ip("192.0.2.2/24").command(String.join("\n",
                                            "echo \"VNET-FEATURES $(cat /sys/class/net/eth0/device/features)\"",
                                            "head -c " + BYTES + " /dev/urandom > /tmp/data",
                                            "echo \"VNET-SENT $(md5sum /tmp/data | cut -d' ' -f1)\"",
                                            "i=0",
                                            "until nc 192.0.2.1 5001 </dev/null > /tmp/r 2>/dev/null && [ -s /tmp/r ]; do",
                                            "  i=$((i+1)); [ $i -gt 120 ] && break; sleep 1",
                                            "done",
                                            "echo \"VNET-GOT $(md5sum /tmp/r | cut -d' ' -f1) $(wc -c < /tmp/r)\"",
                                            "nc -l -p 5002 -e cat /tmp/data",
                                            ""))
                                    .timeLimit(Duration.ofMinutes(7)).start()) {
                        String features = guest.awaitLine(FEATURES, Duration.ofMinutes(3)).group(1);
                        for (int bit : new int[] {0, 1, 7, 11}) { // CSUM, GUEST_CSUM, GUEST_TSO4, HOST_TSO4
                            assertEquals('1', features.charAt(bit), "guest feature bit " + bit + ": " + features);
                        }
                        MatchResult got;
                        try {
                            got = guest.awaitLine(GUEST_GOT, Duration.ofMinutes(3));
                        } catch (java.util.concurrent.TimeoutException e) {
                            throw new AssertionError("host -> guest did not finish: " + sw.stats("g") + "\n"
                                    + sw.stats("hp") + "\n" + peer + " " + peer.stats() + "\n" + e.getMessage(), e);
                        }
                        String why = guest.console() + "\n" + sw.stats("g") + "\n" + sw.stats("hp") + "\n" + peer;
                        assertEquals(hostMd5 + " " + BYTES, got.group(1) + " " + got.group(2), "host -> guest; " + why);
                        String guestMd5 = guest.awaitLine(GUEST_SENT, Duration.ofSeconds(5)).group(1);
                        String fetched = "";
                        for (int i = 0; i < 30 && !fetched.startsWith(guestMd5); i++) {
                            fetched = ns.execWithin(Duration.ofMinutes(3), "sh", "-c",
                                    "busybox nc 192.0.2.2 5002 </dev/null | md5sum").trim();
                            if (!fetched.startsWith(guestMd5)) {
                                Thread.sleep(1000); // the guest's nc may not listen yet
                            }
                        }
                        assertTrue(fetched.startsWith(guestMd5), "guest -> host: " + fetched + " vs " + guestMd5
                                + "; " + why);
                        long peerFeatures = peer.virtioFeatures();
                        System.out.printf("host peer %s features %s, TAP offloads 0x%x; guest %s; switch g %s, hp %s%n",
                                vp, Features.toString(peerFeatures), peer.tapOffloads(), features, sw.stats("g"),
                                sw.stats("hp"));
                        long tso = Features.CSUM | Features.GUEST_CSUM | Features.GUEST_TSO4 | Features.HOST_TSO4;
                        assertEquals(tso, peerFeatures & tso, Features.toString(peerFeatures));
                        assertTrue(sw.stats("hp").rxBytes() / Math.max(1, sw.stats("hp").rxFrames()) > 1514,
                                "the host peer took the guest's TSO frames whole: " + sw.stats("hp"));
                        assertTrue(sw.stats("hp").txBytes() / Math.max(1, sw.stats("hp").txFrames()) > 1514,
                                "the host peer sent the host stack's TSO frames: " + sw.stats("hp"));
                        assertEquals(0, sw.stats("g").dropsOffload() + sw.stats("hp").dropsOffload());
                    }
                }
            }
        }
    }

    private static String md5(byte[] b) throws Exception {
        byte[] d = java.security.MessageDigest.getInstance("MD5").digest(b);
        StringBuilder sb = new StringBuilder();
        for (byte x : d) {
            sb.append(String.format("%02x", x));
        }
        return sb.toString();
    }
}
