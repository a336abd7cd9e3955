package vnet.virtio.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import vnet.virtqueue.DescriptorChain;

/**
 * {@link NetDriver} against {@link NetDevice} through one file mapped twice ({@link SharedPair}): Ethernet frames
 * go driver → TX queue → device → RX queue → driver, over split and packed rings, with 10-, 12- and 20-byte
 * headers, mergeable and big receive buffers.
 */
class NetDriverDeviceTest {

    private static final long V1 = Features.VERSION_1;
    private static final long MRG = Features.VERSION_1 | Features.MRG_RXBUF;

    static Stream<Arguments> modes() {
        List<Arguments> l = new ArrayList<>();
        for (boolean packed : new boolean[] {false, true}) {
            // name, features, header size, rx buffer size, rx segments, tx split header
            l.add(Arguments.of(packed, "legacy-10", 0L, 10, 1526, 1, false));
            l.add(Arguments.of(packed, "v1-12-big", V1, 12, 1526, 1, true));
            l.add(Arguments.of(packed, "v1-12-big-3seg", V1, 12, 1536, 3, false));
            l.add(Arguments.of(packed, "v1-12-big-3seg-indirect", V1 | Features.RING_INDIRECT_DESC, 12, 1536, 3,
                    false));
            l.add(Arguments.of(packed, "mrg-12", MRG, 12, 1536, 1, false));
            l.add(Arguments.of(packed, "legacy-mrg-12", Features.MRG_RXBUF, 12, 1024, 1, true));
            l.add(Arguments.of(packed, "hash-20", MRG | Features.CTRL_VQ | Features.HASH_REPORT, 20, 1536, 1,
                    false));
        }
        return l.stream();
    }

    private static byte[] frame(Random r, int len) {
        byte[] f = new byte[len];
        r.nextBytes(f);
        byte[] dst = {0x52, 0x54, 0, 0, 0, 2};
        byte[] src = {0x52, 0x54, 0, 0, 0, 1};
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = 0x08;
        f[13] = 0x00;
        return f;
    }

    /** Sends one frame, moves it through the device and returns what the driver received. */
    private static byte[] roundTrip(SharedPair p, FrameBuffer out, FrameBuffer devFrame, FrameBuffer in,
            byte[] bytes) {
        out.set(bytes, 0, bytes.length);
        assertTrue(p.driver.send(out));
        p.driver.kickTx();
        assertEquals(bytes.length, p.device.pollTx(devFrame));
        assertEquals(NetDevice.NONE, p.device.pollTx(devFrame), "one frame sent, one taken");
        p.device.flushTx();
        assertTrue(p.device.deliverToRx(devFrame) > 0);
        p.device.flushRx();
        int len = p.driver.receive(in);
        assertEquals(bytes.length, len);
        assertEquals(NetDriver.NONE, p.driver.receive(in));
        p.driver.harvestTx();
        p.driver.postRxBuffers();
        p.driver.kickRx();
        return in.toByteArray();
    }

    @ParameterizedTest(name = "{1} packed={0}")
    @MethodSource("modes")
    void exchangesFrames(boolean packed, String name, long features, int headerSize, int rxBufferSize,
            int rxSegments, boolean txSplit) throws Exception {
        try (SharedPair p = SharedPair.create(packed, features, 64, rxBufferSize, rxSegments, txSplit)) {
            assertEquals(headerSize, p.device.headerSize());
            assertEquals(headerSize, p.driver.headerSize());
            boolean indirect = (features & Features.RING_INDIRECT_DESC) != 0;
            assertEquals(indirect ? 64 : 64 / rxSegments, p.driver.postRxBuffers());
            p.driver.kickRx();
            Random r = new Random(name.hashCode() + (packed ? 1 : 0));
            FrameBuffer out = new FrameBuffer(2048);
            FrameBuffer dev = new FrameBuffer();
            FrameBuffer in = new FrameBuffer();
            long bytes = 0;
            int frames = 300; // several laps around 64-entry rings
            for (int i = 0; i < frames; i++) {
                int len = i % 3 == 0 ? 1514 : 60 + r.nextInt(1455);
                byte[] f = frame(r, len);
                bytes += len;
                assertArrayEquals(f, roundTrip(p, out, dev, in, f), "frame " + i);
                assertEquals(0, in.header().flags());
                assertEquals(VirtioNetHeader.GSO_NONE, in.header().gsoType());
                if (headerSize >= 12) {
                    int expectedBuffers = p.device.isMergeable()
                            ? 1 + Math.max(0, (len + headerSize - rxBufferSize + rxBufferSize - 1) / rxBufferSize)
                            : 1;
                    assertEquals(expectedBuffers, in.header().numBuffers(), "num_buffers of frame " + i);
                }
            }
            NetStats s = p.device.stats();
            assertEquals(frames, s.txFrames());
            assertEquals(bytes, s.txBytes());
            assertEquals(frames, s.rxFrames());
            assertEquals(bytes, s.rxBytes());
            assertEquals(0, s.rxDrops() + s.txDrops());
            assertEquals(frames, p.driver.rxFrames());
            assertEquals(0, p.driver.rxErrors());
            assertEquals(frames, p.driver.txCompleted());
            assertFalse(p.device.rxQueue().isBroken());
            assertFalse(p.device.txQueue().isBroken());
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @MethodSource("rings")
    void mergeableJumboFrameSpreadsOverBuffers(boolean packed) throws Exception {
        try (SharedPair p = SharedPair.create(packed, MRG, 32, 1500, 1, false)) {
            p.driver.postRxBuffers();
            p.driver.kickRx();
            byte[] jumbo = frame(new Random(9000), 9000);
            FrameBuffer in = new FrameBuffer();
            byte[] got = roundTrip(p, new FrameBuffer(), new FrameBuffer(), in, jumbo);
            assertArrayEquals(jumbo, got);
            // 12 + 9000 bytes over 1500-byte buffers: 1488 + 5 * 1500 + 12 = 9000 → 7 buffers.
            assertEquals(7, in.header().numBuffers());
            assertEquals(7, p.device.stats().rxBuffers());
            // And a small frame right after takes exactly one buffer.
            byte[] small = frame(new Random(1), 100);
            assertArrayEquals(small, roundTrip(p, new FrameBuffer(), new FrameBuffer(), in, small));
            assertEquals(1, in.header().numBuffers());
        }
    }

    static Stream<Boolean> rings() {
        return Stream.of(false, true);
    }

    @ParameterizedTest(name = "packed={0}")
    @MethodSource("rings")
    void frameTooBigForBigBufferIsDroppedAndNextFrameArrives(boolean packed) throws Exception {
        try (SharedPair p = SharedPair.create(packed, V1, 16, 1526, 1, false)) {
            p.driver.postRxBuffers();
            p.driver.kickRx();
            FrameBuffer out = new FrameBuffer();
            FrameBuffer dev = new FrameBuffer();
            FrameBuffer in = new FrameBuffer();
            byte[] big = frame(new Random(2), 2000);
            out.set(big, 0, big.length);
            assertTrue(p.driver.send(out));
            p.driver.kickTx();
            assertEquals(2000, p.device.pollTx(dev));
            assertEquals(NetDevice.DROP_TOO_BIG, p.device.deliverToRx(dev));
            p.device.flushRx();
            assertEquals(NetDriver.NONE, p.driver.receive(in), "nothing delivered for the dropped frame");
            assertEquals(1, p.device.stats().rxDropsTooBig());

            byte[] next = frame(new Random(3), 1514);
            assertArrayEquals(next, roundTrip(p, out, dev, in, next));
            assertEquals(1, p.device.stats().rxFrames());
            assertEquals(1, p.driver.rxFrames());
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @MethodSource("rings")
    void mergeableFrameShortOfBuffersIsDroppedWithoutLosingThem(boolean packed) throws Exception {
        try (SharedPair p = SharedPair.create(packed, MRG, 8, 1500, 1, false)) {
            assertEquals(8, p.driver.postRxBuffers());
            p.driver.kickRx();
            FrameBuffer dev = new FrameBuffer();
            FrameBuffer in = new FrameBuffer();
            // Four small frames take four of the eight buffers; the driver does not repost them.
            for (int i = 0; i < 4; i++) {
                dev.set(frame(new Random(20 + i), 100), 0, 100);
                assertEquals(1, p.device.deliverToRx(dev));
            }
            // Four 1500-byte buffers hold 5988 bytes of frame: a 9000-byte frame pops them all, then gives them back.
            dev.set(frame(new Random(4), 9000), 0, 9000);
            assertEquals(NetDevice.DROP_NO_BUFFER, p.device.deliverToRx(dev));
            assertEquals(1, p.device.stats().rxDropsNoBuffer());
            p.device.flushRx();
            for (int i = 0; i < 4; i++) {
                assertEquals(100, p.driver.receive(in));
            }
            assertEquals(NetDriver.NONE, p.driver.receive(in), "nothing delivered for the dropped frame");
            // The four given-back buffers take a 1400-byte and a 2400-byte frame; 3400 then needs 3 of the 1 left.
            byte[] a = frame(new Random(30), 1400);
            byte[] b = frame(new Random(31), 2400);
            assertEquals(1, p.device.deliverToRx(dev.set(a, 0, a.length)));
            assertEquals(2, p.device.deliverToRx(dev.set(b, 0, b.length)));
            dev.set(frame(new Random(32), 3400), 0, 3400);
            assertEquals(NetDevice.DROP_NO_BUFFER, p.device.deliverToRx(dev));
            p.device.flushRx();
            assertEquals(1400, p.driver.receive(in));
            assertArrayEquals(a, in.toByteArray());
            assertEquals(2400, p.driver.receive(in));
            assertArrayEquals(b, in.toByteArray());
            assertEquals(2, in.header().numBuffers());
            assertEquals(NetDriver.NONE, p.driver.receive(in));
            assertEquals(2, p.device.stats().rxDropsNoBuffer());
            // The last buffer is still there for a small frame.
            byte[] c = frame(new Random(33), 1488);
            assertEquals(1, p.device.deliverToRx(dev.set(c, 0, c.length)));
            p.device.flushRx();
            assertEquals(1488, p.driver.receive(in));
            assertArrayEquals(c, in.toByteArray());
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @MethodSource("rings")
    void mergeableFrameLargerThanTheWholeRingIsTooBig(boolean packed) throws Exception {
        try (SharedPair p = SharedPair.create(packed, MRG, 4, 1500, 1, false)) {
            p.driver.postRxBuffers();
            p.driver.kickRx();
            FrameBuffer dev = new FrameBuffer().set(frame(new Random(4), 9000), 0, 9000);
            assertEquals(NetDevice.DROP_TOO_BIG, p.device.deliverToRx(dev));
            dev.set(frame(new Random(5), 5988), 0, 5988);
            assertEquals(4, p.device.deliverToRx(dev), "exactly the whole ring");
            p.device.flushRx();
            FrameBuffer in = new FrameBuffer();
            assertEquals(5988, p.driver.receive(in));
            assertArrayEquals(dev.toByteArray(), in.toByteArray());
            assertEquals(1, p.device.stats().rxDropsTooBig());
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @MethodSource("rings")
    void maxFrameLengthDropsMergeableFrame(boolean packed) throws Exception {
        try (SharedPair p = SharedPair.create(packed, MRG, 16, 1536, 1, false)) {
            p.driver.postRxBuffers();
            p.driver.kickRx();
            p.device.maxRxFrameLength(1514);
            FrameBuffer f = new FrameBuffer();
            f.set(frame(new Random(5), 1515), 0, 1515);
            assertEquals(NetDevice.DROP_TOO_BIG, p.device.deliverToRx(f));
            f.set(frame(new Random(6), 1514), 0, 1514);
            assertEquals(1, p.device.deliverToRx(f));
            p.device.flushRx();
            FrameBuffer in = new FrameBuffer();
            assertEquals(1514, p.driver.receive(in));
            assertArrayEquals(f.toByteArray(), in.toByteArray());
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @MethodSource("rings")
    void zeroCopyLoopbackFromTxChainToRxBuffers(boolean packed) throws Exception {
        try (SharedPair p = SharedPair.create(packed, MRG, 32, 1536, 1, true)) {
            p.driver.postRxBuffers();
            p.driver.kickRx();
            DescriptorChain chain = new DescriptorChain();
            VirtioNetHeader h = new VirtioNetHeader();
            FrameBuffer out = new FrameBuffer();
            FrameBuffer in = new FrameBuffer();
            Random r = new Random(7);
            for (int i = 0; i < 100; i++) {
                byte[] f = frame(r, i % 2 == 0 ? 60 : 4000);
                out.set(f, 0, f.length);
                assertTrue(p.driver.send(out));
                p.driver.kickTx();
                int len = p.device.pollTx(chain, h);
                assertEquals(f.length, len);
                int r2 = p.device.deliverToRx(h, chain, p.device.headerSize(), len);
                assertTrue(r2 > 0, "frame " + i + " result " + r2 + " " + chain + " " + p.device.stats());
                p.device.completeTx(chain);
                p.device.flushTx();
                p.device.flushRx();
                assertEquals(f.length, p.driver.receive(in));
                assertArrayEquals(f, in.toByteArray());
                p.driver.harvestTx();
                p.driver.postRxBuffers();
                p.driver.kickRx();
            }
        }
    }

    /** The UDP frame of ChecksumsTest, with only the pseudo-header sum in its checksum field. */
    private static byte[] partialUdp() {
        byte[] f = new byte[44];
        byte[] eth = {0x52, 0x54, 0, 0, 0, 2, 0x52, 0x54, 0, 0, 0, 1, 0x08, 0x00};
        byte[] ip = {0x45, 0, 0, 30, 0, 0, 0x40, 0, 64, 17, 0, 0, (byte) 192, 0, 2, 1, (byte) 192, 0, 2, 2};
        byte[] udp = {0x04, (byte) 0xD2, 0x16, 0x2E, 0x00, 0x0A, (byte) 0x84, 0x1F, 0x68, 0x69};
        System.arraycopy(eth, 0, f, 0, 14);
        System.arraycopy(ip, 0, f, 14, 20);
        System.arraycopy(udp, 0, f, 34, 10);
        return f;
    }

    @ParameterizedTest(name = "packed={0}")
    @MethodSource("rings")
    void completesChecksumForDriverWithoutGuestCsum(boolean packed) throws Exception {
        try (SharedPair p = SharedPair.create(packed, MRG | Features.CSUM, 16, 1536, 1, false)) {
            p.driver.postRxBuffers();
            p.driver.kickRx();
            FrameBuffer out = new FrameBuffer();
            byte[] f = partialUdp();
            out.set(f, 0, f.length);
            out.header().flags(VirtioNetHeader.F_NEEDS_CSUM).csumStart(34).csumOffset(6);
            assertTrue(p.driver.send(out));
            p.driver.kickTx();
            FrameBuffer dev = new FrameBuffer();
            assertEquals(f.length, p.device.pollTx(dev));
            assertTrue(dev.header().needsCsum());
            assertEquals(34, dev.header().csumStart());
            assertEquals(6, dev.header().csumOffset());
            assertEquals(1, p.device.deliverToRx(dev));
            p.device.flushRx();
            FrameBuffer in = new FrameBuffer();
            assertEquals(f.length, p.driver.receive(in));
            byte[] got = in.toByteArray();
            assertEquals((byte) 0xF8, got[40]);
            assertEquals((byte) 0x6C, got[41]);
            assertEquals(0, in.header().flags(), "without GUEST_CSUM flags are 0");
            assertEquals(0, in.header().csumStart());
            assertEquals(1, p.device.stats().rxChecksumsCompleted());
        }
    }

    /** A frame dropped for want of buffers keeps its partial checksum, so delivering it again gives the same sum. */
    @ParameterizedTest(name = "packed={0}")
    @MethodSource("rings")
    void droppedFrameKeepsPartialChecksumForRetry(boolean packed) throws Exception {
        try (SharedPair p = SharedPair.create(packed, MRG | Features.CSUM, 16, 1536, 1, false)) {
            FrameBuffer dev = new FrameBuffer();
            byte[] udp = partialUdp();
            dev.set(udp, 0, udp.length);
            dev.header().flags(VirtioNetHeader.F_NEEDS_CSUM).csumStart(34).csumOffset(6);
            assertEquals(NetDevice.DROP_NO_BUFFER, p.device.deliverToRx(dev), "no receive buffers posted yet");
            assertArrayEquals(udp, dev.toByteArray(), "the partial sum is still there");
            p.driver.postRxBuffers();
            p.driver.kickRx();
            assertEquals(1, p.device.deliverToRx(dev));
            p.device.flushRx();
            FrameBuffer in = new FrameBuffer();
            assertEquals(udp.length, p.driver.receive(in));
            byte[] got = in.toByteArray();
            assertEquals((byte) 0xF8, got[40]);
            assertEquals((byte) 0x6C, got[41]);
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @MethodSource("rings")
    void passesPartialChecksumToDriverWithGuestCsum(boolean packed) throws Exception {
        long f = MRG | Features.CSUM | Features.GUEST_CSUM;
        try (SharedPair p = SharedPair.create(packed, f, 16, 1536, 1, false)) {
            p.driver.postRxBuffers();
            p.driver.kickRx();
            FrameBuffer dev = new FrameBuffer();
            byte[] udp = partialUdp();
            dev.set(udp, 0, udp.length);
            dev.header().flags(VirtioNetHeader.F_NEEDS_CSUM).csumStart(34).csumOffset(6);
            assertEquals(1, p.device.deliverToRx(dev));
            // A GSO frame the driver did not negotiate (GUEST_TSO4) is dropped.
            dev.header().gsoType(VirtioNetHeader.GSO_TCPV4).gsoSize(1448);
            assertEquals(NetDevice.DROP_OFFLOAD, p.device.deliverToRx(dev));
            p.device.flushRx();
            FrameBuffer in = new FrameBuffer();
            assertEquals(udp.length, p.driver.receive(in));
            assertArrayEquals(udp, in.toByteArray(), "checksum left partial");
            assertEquals(VirtioNetHeader.F_NEEDS_CSUM, in.header().flags());
            assertEquals(34, in.header().csumStart());
            assertEquals(6, in.header().csumOffset());
            assertEquals(1, p.device.stats().rxDropsOffload());
            assertEquals(NetDriver.NONE, p.driver.receive(in));
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @MethodSource("rings")
    void malformedTxChainIsSkippedAndCounted(boolean packed) throws Exception {
        try (SharedPair p = SharedPair.create(packed, MRG, 16, 1536, 1, false)) {
            p.driver.postRxBuffers();
            p.driver.kickRx();
            // A chain shorter than header + Ethernet header, added behind the driver's back.
            assertTrue(p.driver.txQueue().add(SharedPair.GPA, 20, false) >= 0);
            FrameBuffer out = new FrameBuffer();
            byte[] f = frame(new Random(8), 64);
            out.set(f, 0, f.length);
            assertTrue(p.driver.send(out));
            p.driver.kickTx();
            FrameBuffer dev = new FrameBuffer();
            assertEquals(64, p.device.pollTx(dev));
            assertEquals(1, p.device.stats().txDropsMalformed());
            assertArrayEquals(f, dev.toByteArray());
            assertFalse(p.device.txQueue().isBroken());
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @MethodSource("rings")
    void txChainWithWritableDescriptorIsMalformedAndPublished(boolean packed) throws Exception {
        try (SharedPair p = SharedPair.create(packed, MRG, 16, 1536, 1, false)) {
            // 12 + 60 readable bytes, then a device-writable descriptor: forwarding only the readable part would send
            // a frame cut short (§2.7.4: transmit buffers are driver-to-device only).
            int head = p.driver.txQueue().add(new long[] {SharedPair.GPA, SharedPair.GPA + 4096}, new int[] {72, 100}, 1, 1);
            assertTrue(head >= 0);
            p.driver.txQueue().publish();
            DescriptorChain chain = new DescriptorChain();
            VirtioNetHeader h = new VirtioNetHeader();
            assertEquals(NetDevice.NONE, p.device.pollTx(chain, h));
            assertEquals(1, p.device.stats().txDropsMalformed());
            assertTrue(p.device.txPending(), "the skipped chain awaits publishing");
            p.device.flushTx();
            assertFalse(p.device.txPending());
            assertEquals(head, p.driver.txQueue().pollUsed(), "the driver got its chain back");
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @MethodSource("rings")
    void aTransmitBurstSkipsMalformedChainsAndKeepsRingOrder(boolean packed) throws Exception {
        try (SharedPair p = SharedPair.create(packed, MRG, 16, 1536, 1, false)) {
            FrameBuffer out = new FrameBuffer();
            Random r = new Random(11);
            byte[][] good = {frame(r, 64), frame(r, 300), frame(r, 1514)};
            out.set(good[0], 0, good[0].length);
            assertTrue(p.driver.send(out));
            assertTrue(p.driver.txQueue().add(SharedPair.GPA, 20, false) >= 0); // shorter than header + Ethernet
            out.set(good[1], 0, good[1].length);
            assertTrue(p.driver.send(out));
            out.set(good[1], 0, good[1].length);
            out.header().gsoType(VirtioNetHeader.GSO_TCPV4).gsoSize(1448); // HOST_TSO4 not negotiated: malformed
            assertTrue(p.driver.send(out));
            out.header().gsoType(VirtioNetHeader.GSO_NONE).gsoSize(0);
            out.set(good[2], 0, good[2].length);
            assertTrue(p.driver.send(out));
            p.driver.kickTx();
            DescriptorChain[] chains = new DescriptorChain[8];
            VirtioNetHeader[] headers = new VirtioNetHeader[8];
            for (int i = 0; i < 8; i++) {
                chains[i] = new DescriptorChain();
                headers[i] = new VirtioNetHeader();
            }
            int[] lengths = new int[8];
            long[] heads = new long[16];
            int mark = p.device.txMark();
            assertEquals(5, p.device.pollTxBurst(chains, headers, lengths, heads, 8));
            assertEquals(2, p.device.stats().txDropsMalformed());
            assertEquals(3, p.device.stats().txFrames());
            p.device.flushTx();
            assertTrue(p.driver.txQueue().pollUsed() < 0, "no chain goes back before completeTx, a skipped one neither");
            // A burst cut short before any completion (a memory fault raised late) gives its chains back whole.
            p.device.rewindTx(mark);
            assertEquals(5, p.device.pollTxBurst(chains, headers, lengths, heads, 8), "the same chains, taken again");
            int[] skipped = {1, 3};
            for (int i = 0, g = 0; i < 5; i++) {
                if (i == skipped[0] || i == skipped[1]) {
                    assertEquals(NetDevice.TX_SKIP, lengths[i], "chain " + i + " is not forwarded");
                } else {
                    assertEquals(good[g].length, lengths[i]);
                    byte[] got = new byte[lengths[i]];
                    chains[i].read(p.device.headerSize(), got, 0, got.length);
                    assertArrayEquals(good[g], got, "frame " + g + " in ring order");
                    assertEquals(VirtioNetHeader.GSO_NONE, headers[i].gsoType());
                    java.nio.ByteBuffer head = java.nio.ByteBuffer.wrap(good[g], 0, 16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    assertEquals(head.getLong(0), heads[2 * i], "frame " + g + ": bytes 0..7");
                    assertEquals(head.getLong(8), heads[2 * i + 1], "frame " + g + ": bytes 8..15");
                    g++;
                }
                p.device.completeTx(chains[i]);
            }
            assertEquals(0, p.device.pollTxBurst(chains, headers, lengths, heads, 8));
            p.device.flushTx();
            int returned = 0;
            while (p.driver.txQueue().pollUsed() >= 0) {
                returned++;
            }
            assertEquals(5, returned, "every chain, good or not, went back to the driver");
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @MethodSource("rings")
    void txHeaderKeepsOnlyWhatTheDriverMaySay(boolean packed) throws Exception {
        // CSUM not negotiated: NEEDS_CSUM is ignored; DATA_VALID is never taken from a transmit header; a GSO type
        // whose HOST_ feature is not negotiated makes the chain malformed.
        try (SharedPair p = SharedPair.create(packed, MRG, 16, 1536, 1, false)) {
            FrameBuffer out = new FrameBuffer();
            byte[] f = frame(new Random(3), 80);
            out.set(f, 0, f.length);
            out.header().flags(VirtioNetHeader.F_NEEDS_CSUM | VirtioNetHeader.F_DATA_VALID).csumStart(34).csumOffset(16);
            assertTrue(p.driver.send(out));
            out.set(f, 0, f.length);
            out.header().flags(0).gsoType(VirtioNetHeader.GSO_TCPV4).gsoSize(1448);
            assertTrue(p.driver.send(out));
            p.driver.kickTx();
            DescriptorChain chain = new DescriptorChain();
            VirtioNetHeader h = new VirtioNetHeader();
            assertEquals(80, p.device.pollTx(chain, h));
            assertEquals(0, h.flags());
            assertEquals(0, h.csumStart());
            p.device.completeTx(chain);
            assertEquals(NetDevice.NONE, p.device.pollTx(chain, h), "GSO without HOST_TSO4 is malformed");
            assertEquals(1, p.device.stats().txDropsMalformed());
        }
        try (SharedPair p = SharedPair.create(packed, MRG | Features.CSUM, 16, 1536, 1, false)) {
            FrameBuffer out = new FrameBuffer();
            byte[] f = frame(new Random(4), 80);
            out.set(f, 0, f.length);
            out.header().flags(VirtioNetHeader.F_NEEDS_CSUM | VirtioNetHeader.F_DATA_VALID).csumStart(34).csumOffset(16);
            assertTrue(p.driver.send(out));
            p.driver.kickTx();
            DescriptorChain chain = new DescriptorChain();
            VirtioNetHeader h = new VirtioNetHeader();
            assertEquals(80, p.device.pollTx(chain, h));
            assertEquals(VirtioNetHeader.F_NEEDS_CSUM, h.flags(), "with CSUM, NEEDS_CSUM stays; DATA_VALID goes");
            assertEquals(34, h.csumStart());
        }
    }

    @ParameterizedTest(name = "packed={0}")
    @MethodSource("rings")
    void disabledRingsDiscardTransmitAndTakeNoReceive(boolean packed) throws Exception {
        try (SharedPair p = SharedPair.create(packed, MRG, 16, 1536, 1, false)) {
            p.driver.postRxBuffers();
            p.driver.kickRx();
            p.device.setTxEnabled(false);
            p.device.setRxEnabled(false);
            FrameBuffer out = new FrameBuffer();
            byte[] f = frame(new Random(5), 64);
            out.set(f, 0, f.length);
            assertTrue(p.driver.send(out));
            p.driver.kickTx();
            FrameBuffer dev = new FrameBuffer();
            assertEquals(NetDevice.NONE, p.device.pollTx(dev), "taken and discarded");
            assertEquals(1, p.device.stats().txDropsDisabled());
            p.device.flushTx();
            assertEquals(1, p.driver.harvestTx(), "the driver got its buffer back");
            dev.set(f, 0, f.length);
            assertEquals(NetDevice.DROP_NO_BUFFER, p.device.deliverToRx(dev));
            p.device.setTxEnabled(true);
            p.device.setRxEnabled(true);
            assertTrue(p.device.deliverToRx(dev) > 0);
        }
    }

    /**
     * After a back-end crash QEMU sends a stale packed-ring position; the descriptors' USED bits tell where the device
     * stood, across wrap-arounds.
     */
    @Test
    void packedRingPositionIsReadFromItsDescriptors() throws Exception {
        try (SharedPair p = SharedPair.create(true, MRG | Features.RING_INDIRECT_DESC, 8, 1536, 1, false)) {
            FrameBuffer out = new FrameBuffer();
            FrameBuffer dev = new FrameBuffer();
            Random r = new Random(6);
            for (int n = 1; n <= 21; n++) { // 21 frames through a ring of 8: two wraps and a bit
                byte[] f = frame(r, 64);
                out.set(f, 0, f.length);
                assertTrue(p.driver.send(out));
                p.driver.kickTx();
                assertEquals(64, p.device.pollTx(dev));
                p.device.flushTx();
                p.driver.harvestTx();
                var q = p.device.txQueue();
                int where = q.usedIndex();
                assertEquals(where, q.lastAvailIndex());
                q.setLastAvailIndex(0x8000); // what a restarted front-end may send: offset 0, wrap 1
                assertEquals(where, q.positionFromRing(), "after " + n + " frames");
                q.setLastAvailIndex(where);
            }
        }
    }

    @Test
    void signalsOnlyWhenTheDriverAsks() throws Exception {
        long f = MRG | Features.RING_EVENT_IDX;
        try (SharedPair p = SharedPair.create(false, f, 16, 1536, 1, false)) {
            p.driver.postRxBuffers();
            p.driver.kickRx();
            FrameBuffer dev = new FrameBuffer().set(frame(new Random(9), 64), 0, 64);
            FrameBuffer in = new FrameBuffer();
            p.driver.rxQueue().enableInterrupts();
            assertEquals(1, p.device.deliverToRx(dev));
            assertTrue(p.device.flushRx(), "the driver asked for the next used buffer");
            assertEquals(1, p.device.deliverToRx(dev));
            assertFalse(p.device.flushRx(), "used_event not moved: no second signal");
            assertEquals(64, p.driver.receive(in));
            assertEquals(64, p.driver.receive(in));
            p.driver.rxQueue().enableInterrupts();
            assertEquals(1, p.device.deliverToRx(dev));
            assertTrue(p.device.flushRx());
        }
    }

    @Test
    void headerBytesInGuestMemoryAreTheSpecs() throws Exception {
        // Look at the RX buffer through the driver's mapping: 12-byte header with num_buffers = 2 little-endian.
        try (SharedPair p = SharedPair.create(false, MRG, 4, 1024, 1, false)) {
            p.driver.postRxBuffers();
            p.driver.kickRx();
            FrameBuffer dev = new FrameBuffer().set(frame(new Random(10), 1500), 0, 1500);
            dev.header().flags(VirtioNetHeader.F_DATA_VALID);
            assertEquals(2, p.device.deliverToRx(dev));
            p.device.flushRx();
            // Slot 0 is posted first, at the start of the buffer area.
            long bufferArea = p.bufferArea;
            byte[] hdr = new byte[12];
            p.driverMemory.read(bufferArea, hdr, 0, 12);
            // DATA_VALID is dropped: the driver did not negotiate GUEST_CSUM.
            assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0}, hdr);
        }
    }

    /**
     * Receive chains taken ahead for a burst ({@link NetDevice#reserveRx}) are used in ring order, a frame dropped for
     * want of room gives its chain back to the next frame, and the flush gives back the rest: the receive queue's
     * available position is then where the last delivery left it, and the chains not used are taken again.
     */
    @ParameterizedTest(name = "packed={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void receiveChainsTakenAheadAreUsedInOrderAndTheRestGivenBack(boolean packed) throws Exception {
        try (SharedPair p = SharedPair.create(packed, V1, 8, 256, 1, false)) {
            p.driver.postRxBuffers();
            p.driver.kickRx();
            var rx = p.device.rxQueue();
            int start = rx.lastAvailIndex();
            Random r = new Random(11);
            p.device.reserveRx(6);
            assertTrue(rx.lastAvailIndex() != start, "chains taken ahead");
            byte[][] sent = new byte[4][];
            for (int i = 0; i < 3; i++) {
                sent[i] = frame(r, 60 + i);
                assertEquals(1, p.device.deliverToRx(new FrameBuffer().set(sent[i], 0, sent[i].length)));
            }
            p.device.flushRx();
            assertEquals(rx.usedIndex(), rx.lastAvailIndex(), "the flush gave back the three chains not used");
            p.device.reserveRx(5);
            byte[] big = frame(r, 400); // a 256-byte buffer without MRG_RXBUF: dropped, its chain given back
            assertEquals(NetDevice.DROP_TOO_BIG, p.device.deliverToRx(new FrameBuffer().set(big, 0, big.length)));
            sent[3] = frame(r, 70);
            assertEquals(1, p.device.deliverToRx(new FrameBuffer().set(sent[3], 0, sent[3].length)));
            p.device.flushRx();
            assertEquals(rx.usedIndex(), rx.lastAvailIndex(), "the dropped frame's chain went to the next frame");
            FrameBuffer in = new FrameBuffer();
            for (byte[] f : sent) {
                assertEquals(f.length, p.driver.receive(in));
                assertArrayEquals(f, in.toByteArray(), "in ring order");
            }
            assertEquals(NetDriver.NONE, p.driver.receive(in));
            // The four buffers never used are still the device's: four more frames fill them.
            for (int i = 0; i < 4; i++) {
                byte[] f = frame(r, 80 + i);
                assertEquals(1, p.device.deliverToRx(new FrameBuffer().set(f, 0, f.length)), "frame " + i);
            }
            assertEquals(NetDevice.DROP_NO_BUFFER, p.device.deliverToRx(new FrameBuffer().set(big, 0, 60)));
            p.device.reserveRx(4);
            p.device.releaseRx();
            assertEquals(rx.usedIndex(), rx.lastAvailIndex(), "nothing taken ahead of an empty ring stays taken");
        }
    }
}
