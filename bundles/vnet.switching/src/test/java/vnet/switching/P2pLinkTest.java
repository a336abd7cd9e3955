package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import vnet.transport.shm.PortSettings;
import vnet.transport.shm.vhost.VhostUserFrontend;
import vnet.virtio.net.Checksums;
import vnet.virtio.net.Features;
import vnet.virtio.net.FrameBuffer;
import vnet.virtio.net.VirtioNetHeader;

/**
 * The p2p link between two Java front-ends over vhost-user: header sizes translated, checksums completed for the
 * side without GUEST_CSUM, frames too big for the receiver dropped and counted, and the p2p refusals.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class P2pLinkTest {
    static final long A = 0x02_00_00_00_00_0aL;
    static final long B = 0x02_00_00_00_00_0bL;
    /** A front-end with the legacy 10-byte virtio_net_hdr: neither VERSION_1 nor MRG_RXBUF. */
    static final VhostUserFrontend.Options LEGACY = VhostUserFrontend.Options.defaults().withQueueSize(64)
            .withFeatures(Features.RING_EVENT_IDX | Features.RING_INDIRECT_DESC | Features.ANY_LAYOUT);

    @TempDir
    Path dir;

    @ParameterizedTest(name = "poll={0}us")
    @ValueSource(longs = {0, 200})
    void headerSizesAreTranslatedBothWays(long poll) throws Exception {
        try (Harness h = new Harness(dir, new P2pLink("l", FabricSettings.defaults().withPollMicros(poll)))) {
            Client a = h.port(PortDefinition.of("a", PortOptions.DEFAULTS), s -> s, LEGACY);
            Client b = h.port("b");
            assertEquals(10, a.frontend.headerSize());
            assertEquals(12, b.frontend.headerSize());
            for (int i = 0; i < 50; i++) {
                byte[] ab = Frames.frame(B, A, i, 60 + i * 29);
                a.send(ab);
                assertArrayEquals(ab, b.expect());
                byte[] ba = Frames.frame(A, B, i, 1514 - i * 17);
                b.send(ba);
                assertArrayEquals(ba, a.expect());
            }
            assertEquals(50, h.fabric.stats("a").txFrames());
            assertEquals(50, h.fabric.stats("a").rxFrames());
            assertEquals(0, h.fabric.stats("a").drops() + h.fabric.stats("b").drops());
        }
    }

    @Test
    void checksumIsCompletedForTheSideWithoutGuestCsum() throws Exception {
        long csum = PortSettings.DEFAULT_FEATURES | Features.CSUM | Features.GUEST_CSUM;
        VhostUserFrontend.Options opts = VhostUserFrontend.Options.defaults().withQueueSize(64);
        try (Harness h = new Harness(dir, new P2pLink("c", FabricSettings.defaults()))) {
            Client offload = h.port(PortDefinition.of("offload", PortOptions.DEFAULTS), s -> s.withFeatures(csum),
                    opts.withFeatures(opts.features() | Features.CSUM | Features.GUEST_CSUM));
            Client plain = h.port(PortDefinition.of("plain", PortOptions.DEFAULTS), s -> s.withFeatures(csum), opts);
            assertEquals(Features.GUEST_CSUM, offload.frontend.features() & Features.GUEST_CSUM);
            assertEquals(0, plain.frontend.features() & Features.GUEST_CSUM);

            byte[] udp = udpFrame(B, A, 333);
            int field = 14 + 20 + 6;
            int partial = pseudoHeaderSum(udp);
            udp[field] = (byte) (partial >>> 8);
            udp[field + 1] = (byte) partial;
            FrameBuffer tx = offload.txBuffer();
            tx.set(udp, 0, udp.length);
            tx.header().flags(VirtioNetHeader.F_NEEDS_CSUM).csumStart(34).csumOffset(6);
            offload.sendPrepared();
            byte[] got = plain.expect();
            assertEquals(0, plain.lastReceived().header().flags(), "no NEEDS_CSUM for a driver without GUEST_CSUM");
            byte[] want = udp.clone();
            Checksums.complete(want, 0, want.length, 34, 6);
            assertArrayEquals(want, got);
            assertEquals(0, udpChecksumOver(got), "the UDP checksum verifies");
            assertEquals(1, h.fabric.queues("plain").get(0).stats().rxChecksumsCompleted());

            // The other way nothing needs completing, and a driver with GUEST_CSUM gets the frame as sent.
            byte[] back = udpFrame(A, B, 100);
            plain.send(back);
            assertArrayEquals(back, offload.expect());
        }
    }

    @Test
    void aFrameTooBigForTheReceiversBuffersIsDroppedAndCounted() throws Exception {
        try (Harness h = new Harness(dir, new P2pLink("big", FabricSettings.defaults()))) {
            Client a = h.port("a");
            Client b = h.port(PortDefinition.of("b", PortOptions.DEFAULTS), s -> s, VhostUserFrontend.Options.defaults()
                    .withQueueSize(64).withFeatures(Features.VERSION_1 | Features.RING_EVENT_IDX));
            a.send(Frames.frame(B, A, 1, 2048)); // 12 + 2048 > one 2048-byte buffer without MRG_RXBUF
            a.send(Frames.frame(B, A, 2, 2036)); // exactly fits
            byte[] f = b.expect();
            assertEquals(2, Frames.mark(f));
            assertEquals(2036, f.length);
            assertEquals(1, h.fabric.stats("b").dropsTooBig());
            assertEquals(1, h.fabric.queues("b").get(0).stats().rxDropsTooBig());
        }
    }

    @Test
    void framesFromALoneSideAreCountedAsNoPeer() throws Exception {
        try (Harness h = new Harness(dir, new P2pLink("lone", FabricSettings.defaults()))) {
            Client a = h.port("a");
            a.send(Frames.frame(B, A, 1, 60));
            a.send(Frames.frame(B, A, 2, 60));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (h.fabric.stats("a").dropsNoPeer() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(2, h.fabric.stats("a").dropsNoPeer());
            Client b = h.port("b");
            a.send(Frames.frame(B, A, 3, 60));
            assertEquals(3, Frames.mark(b.expect()));
        }
    }

    @Test
    void aThirdPortVlansAndMonitorsAreRefused() throws Exception {
        try (Harness h = new Harness(dir, new P2pLink("p", FabricSettings.defaults()))) {
            h.port("a");
            h.port("b");
            assertEquals("p2p link \"p\" already has two ports (a, b); cannot add \"c\"",
                    assertThrows(IllegalArgumentException.class,
                            () -> h.fabric.checkAttach(PortDefinition.of("c", PortOptions.DEFAULTS))).getMessage());
            h.remove("b");
            assertEquals("p2p link \"p\" has no VLANs: port \"c\" cannot be access:10",
                    assertThrows(IllegalArgumentException.class, () -> h.fabric.checkAttach(new PortDefinition("c",
                            PortOptions.DEFAULTS, VlanMode.parse("access:10"), false, ""))).getMessage());
            assertEquals("p2p link \"p\" has no monitor ports: port \"c\" cannot be one",
                    assertThrows(IllegalArgumentException.class, () -> h.fabric.checkAttach(new PortDefinition("c",
                            PortOptions.DEFAULTS, VlanMode.DEFAULT, true, ""))).getMessage());
            assertEquals("port \"a\" already exists on p2p link \"p\"", assertThrows(IllegalArgumentException.class,
                    () -> h.fabric.checkAttach(PortDefinition.of("a", PortOptions.DEFAULTS))).getMessage());
        }
    }

    @Test
    void withTrustedDataspacesOnlyThoseFilesMayBeShared() throws Exception {
        Path trusted = dir.resolve("trusted.ds");
        java.nio.file.Files.createFile(trusted);
        FabricSettings settings = FabricSettings.defaults().withTrustedDataspaces(trusted.toString());
        try (Harness h = new Harness(dir, new P2pLink("ds", settings))) {
            VhostUserFrontend.Options opts = VhostUserFrontend.Options.defaults().withQueueSize(64)
                    .withTimeout(java.time.Duration.ofSeconds(5));
            Client a = h.port(PortDefinition.of("a", PortOptions.DEFAULTS), s -> s, opts.withMemoryFile(trusted));
            assertEquals(1, h.fabric.portSettings(PortOptions.DEFAULTS).trusted().size());
            var b = vnet.transport.shm.vhost.VhostUserPort.listen("b", dir.resolve("b.sock"),
                    h.fabric.portSettings(PortOptions.DEFAULTS));
            try (b) {
                h.fabric.attach(PortDefinition.of("b", PortOptions.DEFAULTS), b);
                assertThrows(java.io.IOException.class, () -> VhostUserFrontend.connect(b.socketPath(), opts).close(),
                        "an anonymous memfd is not a trusted dataspace");
                h.remove("b");
            }
            assertEquals(List.of("a"), h.fabric.ports().stream().map(FabricPort::name).toList());
            assertTrue(a.frontend.isConnected());
        }
    }

    @Test
    void fabricSettingsRefuseBadValuesByName() {
        assertEquals("poll=-1 is negative: give 0 (notification mode) or a poll interval in microseconds",
                assertThrows(IllegalArgumentException.class, () -> FabricSettings.defaults().withPollMicros(-1))
                        .getMessage());
        for (int size : new int[] {0, 3, 300, 65536, -256}) {
            assertEquals("size=" + size + " is not a power of 2 in 1..32768", assertThrows(IllegalArgumentException.class,
                    () -> FabricSettings.defaults().withMaxQueueSize(size)).getMessage());
        }
        assertEquals(1, FabricSettings.defaults().withMaxQueueSize(1).maxQueueSize());
        assertEquals(32768, FabricSettings.defaults().withMaxQueueSize(32768).maxQueueSize());
        assertEquals("register.ds: cannot use \"" + dir.resolve("missing") + "\": no such file",
                assertThrows(IllegalArgumentException.class,
                        () -> FabricSettings.defaults().withTrustedDataspaces(dir.resolve("missing").toString()))
                        .getMessage());
    }

    /** An IPv4/UDP frame 192.0.2.1:1000 -> 192.0.2.2:2000 with {@code payload} bytes and a zero checksum field. */
    static byte[] udpFrame(long dst, long src, int payload) {
        int udpLength = 8 + payload;
        byte[] f = new byte[14 + 20 + udpLength];
        Frames.putMac(f, 0, dst);
        Frames.putMac(f, 6, src);
        f[12] = 0x08;
        f[14] = 0x45;
        int total = 20 + udpLength;
        f[16] = (byte) (total >>> 8);
        f[17] = (byte) total;
        f[22] = 64;
        f[23] = 17;
        byte[] ips = {(byte) 192, 0, 2, 1, (byte) 192, 0, 2, 2};
        System.arraycopy(ips, 0, f, 26, 8);
        int ipSum = Checksums.checksum(f, 14, 20);
        f[24] = (byte) (ipSum >>> 8);
        f[25] = (byte) ipSum;
        f[34] = 0x03;
        f[35] = (byte) 0xe8;
        f[36] = 0x07;
        f[37] = (byte) 0xd0;
        f[38] = (byte) (udpLength >>> 8);
        f[39] = (byte) udpLength;
        for (int i = 42; i < f.length; i++) {
            f[i] = (byte) (i * 13);
        }
        return f;
    }

    /** The folded (not complemented) pseudo-header sum: what a driver puts in the field with NEEDS_CSUM. */
    static int pseudoHeaderSum(byte[] f) {
        int udpLength = f.length - 34;
        byte[] pseudo = new byte[12];
        System.arraycopy(f, 26, pseudo, 0, 8);
        pseudo[9] = 17;
        pseudo[10] = (byte) (udpLength >>> 8);
        pseudo[11] = (byte) udpLength;
        return Checksums.fold(Checksums.sum(pseudo, 0, 12, 0));
    }

    /** 0 when the UDP checksum of {@code f} verifies. */
    static int udpChecksumOver(byte[] f) {
        int udpLength = f.length - 34;
        byte[] pseudo = new byte[12 + udpLength];
        System.arraycopy(f, 26, pseudo, 0, 8);
        pseudo[9] = 17;
        pseudo[10] = (byte) (udpLength >>> 8);
        pseudo[11] = (byte) udpLength;
        System.arraycopy(f, 34, pseudo, 12, udpLength);
        return Checksums.checksum(pseudo, 0, pseudo.length);
    }
}
