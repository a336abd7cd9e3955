package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import vnet.transport.shm.vhost.VhostUserFrontend;
import vnet.virtio.net.Features;
import vnet.virtio.net.FrameBuffer;
import vnet.virtio.net.VirtioNetHeader;

/**
 * Offloads through a switch with Java front-ends: a GSO frame reaches a receiver with GUEST_TSO4 as it is and one
 * without it as MTU-sized segments with correct checksums (and so does the receiver's pcap capture);
 * {@code offloads=off} withholds the features; {@code mtu=} is offered as VIRTIO_NET_F_MTU and enforced on transmit.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OffloadSwitchTest {
    private static final long TSO_TX = Features.CSUM | Features.HOST_TSO4;
    private static final long TSO_RX = Features.GUEST_CSUM | Features.GUEST_TSO4 | Features.GUEST_TSO6;
    private static final int MSS = 1448;

    @TempDir
    Path dir;

    private static VhostUserFrontend.Options options(long extra) {
        return VhostUserFrontend.Options.defaults().withQueueSize(256)
                .withFeatures(VhostUserFrontend.DEFAULT_FEATURES | extra).withMaxFrameSize(FrameBuffer.DEFAULT_CAPACITY)
                .withTimeout(Duration.ofSeconds(10));
    }

    private static Client port(Harness h, String name, String opts, long extra) throws Exception {
        return h.port(new PortDefinition(name, PortOptions.parse(opts), VlanMode.DEFAULT, false, "test"), s -> s,
                options(extra));
    }

    /** Ethernet + IPv4 + TCP (20 bytes) + payload, to an unknown unicast address (flooded), checksums left 0. */
    private static byte[] tcpFrame(byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(54 + payload.length);
        b.put(new byte[] {2, 0, 0, 0, 0, (byte) 0x99, 2, 0, 0, 0, 0, 0x0a}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (40 + payload.length)).putShort((short) 100)
                .putShort((short) 0x4000).put((byte) 64).put((byte) 6).putShort((short) 0)
                .put(new byte[] {(byte) 192, 0, 2, 1}).put(new byte[] {(byte) 192, 0, 2, 2});
        b.putShort((short) 1000).putShort((short) 2000).putInt(1).putInt(0).put((byte) 0x50).put((byte) 0x18)
                .putShort((short) 1000).putInt(0);
        b.put(payload);
        return b.array();
    }

    private static int sum(byte[] f, int from, int to, long s) {
        for (int i = from; i < to; i += 2) {
            s += (f[i] & 0xFF) << 8 | (i + 1 < to ? f[i + 1] & 0xFF : 0);
        }
        while (s > 0xFFFF) {
            s = (s & 0xFFFF) + (s >> 16);
        }
        return (int) s;
    }

    private static void assertChecksumsGood(byte[] f) {
        assertEquals(0xFFFF, sum(f, 14, 34, 0), "IPv4 header checksum");
        int len = f.length - 34;
        long pseudo = sum(f, 26, 34, 0) + 6 + len;
        assertEquals(0xFFFF, sum(f, 34, f.length, pseudo), "TCP checksum");
    }

    @Test
    void gsoFrameGoesWholeToTsoReceiversAndSegmentedToOthers() throws Exception {
        try (Harness h = new Harness(dir, new Switch("s", FabricSettings.defaults().withRuntimeDir(dir)))) {
            Client a = port(h, "a", "", TSO_TX);
            Client b = port(h, "b", "", 0);
            Client c = port(h, "c", "", TSO_RX);
            Client d = port(h, "d", "offloads=off", TSO_RX);
            assertTrue((c.frontend.features() & Features.GUEST_TSO4) != 0, Features.toString(c.frontend.features()));
            assertEquals(0, d.frontend.features() & (TSO_RX | TSO_TX), "offloads=off: " + Features.toString(d.frontend.features()));
            Path pcap = dir.resolve("b.pcap");
            h.fabric.startCapture("b", pcap);

            byte[] payload = new byte[10_000];
            new Random(3).nextBytes(payload);
            byte[] frame = tcpFrame(payload);
            FrameBuffer tx = a.txBuffer();
            tx.set(frame, 0, frame.length);
            tx.header().flags(VirtioNetHeader.F_NEEDS_CSUM).gsoType(VirtioNetHeader.GSO_TCPV4).gsoSize(MSS)
                    .hdrLen(54).csumStart(34).csumOffset(16);
            a.sendPrepared();

            byte[] whole = c.expect();
            VirtioNetHeader hc = c.lastReceived().header();
            assertArrayEquals(frame, whole, "c (GUEST_TSO4) gets the frame unchanged");
            assertEquals(VirtioNetHeader.GSO_TCPV4, hc.gsoType());
            assertEquals(MSS, hc.gsoSize());

            for (Client receiver : new Client[] {b, d}) {
                int segments = (payload.length + MSS - 1) / MSS;
                ByteArrayOutputStream joined = new ByteArrayOutputStream();
                for (int i = 0; i < segments; i++) {
                    byte[] s = receiver.expect();
                    assertEquals(VirtioNetHeader.GSO_NONE, receiver.lastReceived().header().gsoType());
                    assertTrue(s.length <= 1514, receiver.name + " segment " + i + " of " + s.length + " bytes");
                    assertChecksumsGood(s);
                    int flags = s[47] & 0xFF;
                    assertEquals(i == segments - 1 ? 0x18 : 0x10, flags, "PSH only on the last segment");
                    joined.write(s, 54, s.length - 54);
                }
                assertArrayEquals(payload, joined.toByteArray(), receiver.name + " reassembled");
                receiver.expectNothing(100);
            }
            h.fabric.stopCapture("b");
            assertEquals(0, h.fabric.stats("b").dropsOffload());
            assertEquals(7, h.fabric.stats("b").rxFrames());
            byte[] file = java.nio.file.Files.readAllBytes(pcap);
            // pcap: 24-byte file header, then per record 16 bytes + the frame: 7 segments of at most 1514
            int at = 24;
            int records = 0;
            while (at < file.length) {
                int caplen = ByteBuffer.wrap(file, at + 8, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
                byte[] f = Arrays.copyOfRange(file, at + 16, at + 16 + caplen);
                assertTrue(caplen <= 1514, "captured frame of " + caplen);
                assertChecksumsGood(f);
                at += 16 + caplen;
                records++;
            }
            assertEquals(7, records, "the capture of b holds the segments b received");
        }
    }

    @Test
    void mtuIsOfferedAndEnforcedOnTransmit() throws Exception {
        try (Harness h = new Harness(dir, new Switch("s", FabricSettings.defaults().withRuntimeDir(dir)))) {
            Client e = port(h, "e", "mtu=1400", Features.MTU | Features.STATUS);
            Client f = port(h, "f", "", 0);
            assertTrue((e.frontend.features() & Features.MTU) != 0, Features.toString(e.frontend.features()));
            assertTrue((e.frontend.features() & Features.STATUS) != 0, Features.toString(e.frontend.features()));
            assertEquals(0, f.frontend.features() & Features.MTU, "no mtu=: no VIRTIO_NET_F_MTU");
            byte[] big = Frames.frame(SwitchTest.BCAST, SwitchTest.A, 1, 1415);
            byte[] fits = Frames.frame(SwitchTest.BCAST, SwitchTest.A, 2, 1414);
            e.send(big);
            e.send(fits);
            assertArrayEquals(fits, f.expect());
            f.expectNothing(SwitchTest.QUIET_MS);
            assertEquals(1, h.fabric.stats("e").dropsMtu());
            assertEquals(1, h.fabric.stats("e").drops());
        }
    }
}
