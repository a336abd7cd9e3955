package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import vnet.transport.shm.PortSettings;

/**
 * The learning switch with Java front-ends on vhost-user ports, in one JVM: learning, flooding, VLAN access and
 * trunk ports with tag insert and strip, monitor ports, source checks, re-learning, port removal, captures,
 * counters and every refusal with its exact message.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SwitchTest {
    static final long A = 0x02_00_00_00_00_0aL;
    static final long B = 0x02_00_00_00_00_0bL;
    static final long C = 0x02_00_00_00_00_0cL;
    static final long X = 0x02_00_00_00_00_99L;
    static final long BCAST = MacAddress.BROADCAST;
    static final long MCAST = 0x01_00_5e_00_00_01L;
    /** How long a frame that must not arrive is waited for, once a frame of the same round did arrive. */
    static final long QUIET_MS = 150;

    @TempDir
    Path dir;

    private Harness harness(String name) throws Exception {
        return new Harness(dir, new Switch(name, FabricSettings.defaults().withRuntimeDir(dir)));
    }

    @Test
    void maxMacsStopsOneGuestFillingTheMacTable() throws Exception {
        try (Harness h = harness("s")) {
            Client a = h.port("a", "max-macs=2", "", false);
            Client b = h.port("b");
            long a1 = 0x02_00_00_00_0a_01L;
            long a2 = 0x02_00_00_00_0a_02L;
            long a3 = 0x02_00_00_00_0a_03L;
            for (long src : new long[] {a1, a2}) {
                byte[] f = Frames.frame(B, src, 1, 60);
                a.send(f);
                assertArrayEquals(f, b.expect());
            }
            a.send(Frames.frame(B, a3, 2, 60)); // a third address: refused
            b.expectNothing(QUIET_MS);
            assertEquals(1, h.fabric.stats("a").dropsMacLimit());
            byte[] again = Frames.frame(B, a1, 3, 60); // known addresses go on
            a.send(again);
            assertArrayEquals(again, b.expect());
            assertEquals(2, h.fabric.macTable().stream().filter(e -> e.port().equals("a")).count());
        }
    }

    @Test
    void floodLimitCapsFloodedFramesPerSecond() throws Exception {
        try (Harness h = harness("s")) {
            Client a = h.port("a", "flood-limit=10", "", false);
            Client b = h.port("b");
            for (int i = 0; i < 40; i++) {
                a.send(Frames.frame(BCAST, A, i, 60));
            }
            int got = 0;
            while (b.receive(java.time.Duration.ofMillis(QUIET_MS)) != null) {
                got++;
            }
            long dropped = h.fabric.stats("a").dropsFloodLimit();
            assertTrue(got >= 10 && got <= 12, "a one-second burst of 10, and what accrued meanwhile: " + got);
            assertEquals(40, got + dropped);
            b.send(Frames.frame(A, B, 99, 60)); // known unicast is not flooding: never limited
            byte[] f = Frames.frame(B, A, 100, 60);
            a.expect();
            a.send(f);
            assertArrayEquals(f, b.expect());
        }
    }

    @Test
    void floodsUnknownThenForwardsLearnedUnicastOnly() throws Exception {
        try (Harness h = harness("s")) {
            Client a = h.port("a");
            Client b = h.port("b");
            Client c = h.port("c");
            byte[] broadcast = Frames.frame(BCAST, A, 1, 60);
            a.send(broadcast);
            assertArrayEquals(broadcast, b.expect());
            assertArrayEquals(broadcast, c.expect());
            a.expectNothing(QUIET_MS); // never back to the source

            byte[] reply = Frames.frame(A, B, 2, 100);
            b.send(reply);
            assertArrayEquals(reply, a.expect()); // A was learned: unicast
            c.expectNothing(QUIET_MS);

            byte[] toB = Frames.frame(B, A, 3, 1500);
            a.send(toB);
            assertArrayEquals(toB, b.expect());
            c.expectNothing(QUIET_MS);

            byte[] unknown = Frames.frame(X, C, 4, 64);
            c.send(unknown);
            assertArrayEquals(unknown, a.expect()); // unknown destination: flooded
            assertArrayEquals(unknown, b.expect());

            byte[] multicast = Frames.frame(MCAST, B, 5, 64);
            b.send(multicast);
            assertArrayEquals(multicast, a.expect());
            assertArrayEquals(multicast, c.expect());
            b.expectNothing(QUIET_MS);

            List<MacEntry> table = h.fabric.macTable();
            assertTrue(table.stream().anyMatch(e -> e.mac() == A && e.vlan() == 1 && e.port().equals("a")),
                    table::toString);
            assertEquals(3, table.size(), table::toString);

            PortStats sa = h.fabric.stats("a");
            assertEquals(2, sa.txFrames());
            assertEquals(60 + 1500, sa.txBytes());
            assertEquals(3, sa.rxFrames()); // reply, unknown, multicast
            assertEquals(100 + 64 + 64, sa.rxBytes());
            assertEquals(0, sa.drops());
            List<QueueState> queues = h.fabric.queues("a");
            assertEquals(1, queues.size());
            assertEquals(2, queues.get(0).stats().txFrames());
            assertEquals(64, queues.get(0).rx().size());
        }
    }

    @Test
    void accessVlansAreIsolatedBothWays() throws Exception {
        try (Harness h = harness("v")) {
            Client a = h.port("a", "", "access:10", false);
            Client b = h.port("b", "", "access:10", false);
            Client c = h.port("c", "", "access:20", false);
            byte[] fromA = Frames.frame(BCAST, A, 1, 60);
            a.send(fromA);
            assertArrayEquals(fromA, b.expect());
            c.expectNothing(QUIET_MS);

            c.send(Frames.frame(BCAST, C, 2, 60));
            c.send(Frames.frame(A, C, 3, 60)); // A is known, but on VLAN 10 only: flooded in VLAN 20 (nobody)
            b.send(Frames.frame(A, B, 4, 60)); // sentinel from VLAN 10
            assertEquals(4, Frames.mark(a.expect()));
            a.expectNothing(QUIET_MS);
            b.expectNothing(QUIET_MS);

            a.send(Frames.tagged(BCAST, A, 10, 5, 64)); // tagged on an access port: dropped
            b.send(Frames.frame(A, B, 6, 60));
            assertEquals(6, Frames.mark(a.expect()));
            b.expectNothing(QUIET_MS);
            assertEquals(1, h.fabric.stats("a").dropsVlan());
        }
    }

    @Test
    void trunkGetsTaggedFramesAndAccessPortsUntaggedOnes() throws Exception {
        try (Harness h = harness("t")) {
            Client a = h.port("a", "", "access:10", false);
            Client t = h.port("t", "", "trunk:10,20", false);
            Client c = h.port("c", "", "access:20", false);
            Client all = h.port("all", "", "trunk:all", false);
            Client other = h.port("o", "", "trunk:30", false);

            byte[] fromA = Frames.frame(BCAST, A, 1, 200);
            a.send(fromA);
            assertArrayEquals(Frames.tag(fromA, 10), t.expect()); // tag inserted
            assertArrayEquals(Frames.tag(fromA, 10), all.expect());
            c.expectNothing(QUIET_MS);
            other.expectNothing(1);

            byte[] fromT = Frames.tagged(A, B, 10, 2, 300);
            t.send(fromT);
            assertArrayEquals(Frames.untag(fromT), a.expect()); // A learned on VLAN 10: unicast, tag stripped

            byte[] fromT20 = Frames.tagged(BCAST, B, 20, 3, 90);
            t.send(fromT20);
            assertArrayEquals(Frames.untag(fromT20), c.expect());
            assertArrayEquals(fromT20, all.expect()); // trunk to trunk: as it came
            a.expectNothing(QUIET_MS);

            t.send(Frames.frame(BCAST, B, 4, 60)); // untagged on a trunk: dropped
            t.send(Frames.tagged(BCAST, B, 30, 5, 60)); // not a member VLAN: dropped
            t.send(Frames.tagged(C, B, 20, 6, 60)); // sentinel
            assertEquals(6, Frames.mark(c.expect()));
            assertEquals(2, h.fabric.stats("t").dropsVlan());
            other.expectNothing(QUIET_MS);
        }
    }

    @Test
    void monitorSeesAllTrafficAndMayNotTransmit() throws Exception {
        try (Harness h = harness("m")) {
            Client a = h.port("a");
            Client b = h.port("b");
            Client m = h.port("mon", "", "", true);
            byte[] f1 = Frames.frame(BCAST, A, 1, 60);
            a.send(f1);
            assertArrayEquals(f1, b.expect());
            assertArrayEquals(f1, m.expect());
            byte[] f2 = Frames.frame(A, B, 2, 80);
            b.send(f2);
            assertArrayEquals(f2, a.expect());
            assertArrayEquals(f2, m.expect()); // a copy of unicast traffic too

            m.send(Frames.frame(BCAST, X, 3, 60));
            b.send(Frames.frame(A, B, 4, 60));
            assertEquals(4, Frames.mark(a.expect()));
            b.expectNothing(QUIET_MS);
            assertEquals(1, h.fabric.stats("mon").dropsMonitor());
            assertEquals(60, h.fabric.stats("mon").txBytes()); // counted as transmitted, then dropped
        }
    }

    @Test
    void spoofedSourcesAreDropped() throws Exception {
        try (Harness h = harness("sp")) {
            Client a = h.port("a", "mac=02:00:00:00:00:0a", "", false);
            Client b = h.port("b");
            a.send(Frames.frame(BCAST, X, 1, 60)); // not its mac=
            a.send(Frames.frame(BCAST, MCAST, 2, 60)); // multicast source
            a.send(Frames.frame(BCAST, A, 3, 60));
            assertEquals(3, Frames.mark(b.expect()));
            b.expectNothing(QUIET_MS);
            assertEquals(2, h.fabric.stats("a").dropsSpoofed());
            b.send(Frames.frame(BCAST, MCAST, 4, 60));
            a.expectNothing(QUIET_MS);
            assertEquals(1, h.fabric.stats("b").dropsSpoofed());
        }
    }

    @Test
    void aStationThatMovesIsRelearned() throws Exception {
        try (Harness h = harness("mv")) {
            Client a = h.port("a");
            Client b = h.port("b");
            Client c = h.port("c");
            a.send(Frames.frame(BCAST, X, 1, 60));
            b.expect();
            c.expect();
            c.send(Frames.frame(BCAST, X, 2, 60)); // X moved to c
            a.expect();
            b.expect();
            b.send(Frames.frame(X, B, 3, 60));
            assertEquals(3, Frames.mark(c.expect()));
            a.expectNothing(QUIET_MS);
            assertTrue(h.fabric.macTable().stream().anyMatch(e -> e.mac() == X && e.port().equals("c")));
        }
    }

    /**
     * The switch reuses the last frame's lookup while the MAC table stays as it was: a station that moves to the
     * sender in the middle of one burst makes the next frame to it a fresh lookup (filtered: it is behind the sender),
     * not a copy of the answer before the move.
     */
    @Test
    void aStationThatMovesInTheMiddleOfABurstIsLookedUpAfresh() throws Exception {
        try (Harness h = harness("mvb")) {
            Client a = h.port("a");
            Client b = h.port("b");
            Client c = h.port("c");
            b.send(Frames.frame(BCAST, B, 1, 60)); // B on b
            a.expect();
            c.expect();
            c.send(Frames.frame(BCAST, C, 2, 60)); // C on c
            a.expect();
            b.expect();
            Held held = Held.betweenTwoRounds(h);
            a.send(Frames.frame(B, A, 3, 60)); // to b
            a.send(Frames.frame(BCAST, B, 4, 60)); // B moves to a; flooded (no lookup)
            a.send(Frames.frame(B, A, 5, 60)); // B is behind a now: filtered
            held.release(); // the three frames go in one burst
            assertEquals(3, Frames.mark(b.expect()));
            assertEquals(4, Frames.mark(b.expect()));
            assertEquals(4, Frames.mark(c.expect()));
            b.expectNothing(QUIET_MS);
            assertTrue(h.fabric.macTable().stream().anyMatch(e -> e.mac() == B && e.port().equals("a")));
        }
    }

    @Test
    void aRemovedPortIsFlushedAndTheOthersKeepForwarding() throws Exception {
        try (Harness h = harness("rm")) {
            Client a = h.port("a");
            Client b = h.port("b");
            Client c = h.port("c");
            b.send(Frames.frame(BCAST, B, 1, 60));
            a.expect();
            c.expect();
            assertTrue(h.fabric.macTable().stream().anyMatch(e -> e.mac() == B));
            h.remove("b");
            assertFalse(h.fabric.macTable().stream().anyMatch(e -> e.mac() == B));
            assertEquals(List.of("a", "c"), h.fabric.ports().stream().map(FabricPort::name).toList());
            a.send(Frames.frame(B, A, 2, 60)); // B unknown again: flooded to c
            assertEquals(2, Frames.mark(c.expect()));
            c.send(Frames.frame(A, C, 3, 60));
            assertEquals(3, Frames.mark(a.expect()));
            Client b2 = h.port("b"); // the name is free again
            a.send(Frames.frame(BCAST, A, 4, 60));
            assertEquals(4, Frames.mark(b2.expect()));
        }
    }

    @Test
    void aFrameTooBigForTheReceiverIsDroppedAndCounted() throws Exception {
        try (Harness h = harness("big")) {
            Client a = h.port("a");
            Client small = h.port(PortDefinition.of("small", PortOptions.DEFAULTS), s -> s,
                    vnet.transport.shm.vhost.VhostUserFrontend.Options.defaults().withQueueSize(64)
                            .withFeatures(vnet.virtio.net.Features.VERSION_1 | vnet.virtio.net.Features.RING_EVENT_IDX));
            a.send(Frames.frame(BCAST, A, 1, 4000)); // no MRG_RXBUF: 2048-byte buffers
            a.send(Frames.frame(BCAST, A, 2, 1000));
            assertEquals(2, Frames.mark(small.expect()));
            assertEquals(1, h.fabric.stats("small").dropsTooBig());
            assertEquals(1, h.fabric.stats("small").rxFrames());
        }
    }

    @Test
    void captureWritesAPcapFileOfThePortsTraffic() throws Exception {
        try (Harness h = harness("cap")) {
            Client a = h.port("a", "", "access:10", false);
            Client t = h.port("t", "", "trunk:10", false);
            Path pcap = dir.resolve("t.pcap");
            h.fabric.startCapture("t", pcap);
            assertTrue(h.fabric.port("t").capturing());
            byte[] f1 = Frames.frame(BCAST, A, 1, 60);
            a.send(f1);
            t.expect();
            byte[] f2 = Frames.tagged(A, B, 10, 2, 1514);
            t.send(f2);
            a.expect();
            h.fabric.stopCapture("t");
            assertFalse(h.fabric.port("t").capturing());
            List<byte[]> records = readPcap(pcap);
            assertEquals(2, records.size());
            assertArrayEquals(Frames.tag(f1, 10), records.get(0)); // as the trunk port received it
            assertArrayEquals(f2, records.get(1));
        }
    }

    /** The frames of a classic pcap file (little-endian, Ethernet). */
    static List<byte[]> readPcap(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xa1b2c3d4, b.getInt());
        assertEquals(2, b.getShort());
        assertEquals(4, b.getShort());
        b.getInt();
        b.getInt();
        assertEquals(65535, b.getInt());
        assertEquals(1, b.getInt());
        List<byte[]> frames = new ArrayList<>();
        long lastSeconds = 0;
        while (b.remaining() >= 16) {
            long seconds = b.getInt() & 0xffffffffL;
            int micros = b.getInt();
            int incl = b.getInt();
            int orig = b.getInt();
            assertTrue(seconds >= lastSeconds && micros >= 0 && micros < 1_000_000);
            assertTrue(Math.abs(seconds - System.currentTimeMillis() / 1000) < 600, "timestamp is now");
            lastSeconds = seconds;
            assertEquals(orig, incl);
            byte[] f = new byte[incl];
            b.get(f);
            frames.add(f);
        }
        assertEquals(0, b.remaining());
        return frames;
    }

    @Test
    void aBusyPortDoesNotStarveTheOthers() throws Exception {
        try (Harness h = harness("fair")) {
            Client busy = h.port(PortDefinition.of("busy", PortOptions.DEFAULTS), s -> s,
                    vnet.transport.shm.vhost.VhostUserFrontend.Options.defaults().withQueueSize(256));
            Client quiet = h.port("quiet");
            Client sink = h.port(PortDefinition.of("sink", PortOptions.DEFAULTS), s -> s,
                    vnet.transport.shm.vhost.VhostUserFrontend.Options.defaults().withQueueSize(256));
            sink.send(Frames.frame(BCAST, C, 0, 60)); // learn the sink
            busy.expect();
            quiet.expect();
            // Hold the worker between two rounds while both ports queue frames, so they compete in one round.
            Held held = Held.betweenTwoRounds(h);
            for (int i = 1; i <= 200; i++) {
                busy.send(Frames.frame(C, A, i, 60));
            }
            quiet.send(Frames.frame(C, B, 1000, 60));
            held.release();
            int position = -1;
            for (int i = 0; i < 201 && position < 0; i++) {
                byte[] f = sink.expect();
                if (Frames.mark(f) == 1000) {
                    position = i;
                }
            }
            assertTrue(position >= 0 && position <= Forwarder.TX_BURST,
                    "the quiet port's frame came at position " + position);
        }
    }

    @Test
    void refusalsNameTheirReason() throws Exception {
        try (Harness h = new Harness(dir, new Switch("r", FabricSettings.defaults().withRuntimeDir(dir), 2, 300, 16))) {
            h.port("a", "mac=02:00:00:00:00:01", "", false);
            IllegalArgumentException dupMac = assertThrows(IllegalArgumentException.class, () -> h.fabric.checkAttach(
                    new PortDefinition("b", PortOptions.parse("mac=02:00:00:00:00:01"), VlanMode.DEFAULT, false, "")));
            assertEquals("mac=02:00:00:00:00:01 of port \"b\" is already used by port \"a\" on switch \"r\"",
                    dupMac.getMessage());
            IllegalArgumentException dupName = assertThrows(IllegalArgumentException.class,
                    () -> h.fabric.checkAttach(PortDefinition.of("a", PortOptions.DEFAULTS)));
            assertEquals("port \"a\" already exists on switch \"r\"", dupName.getMessage());
            h.port("b");
            IllegalArgumentException full = assertThrows(IllegalArgumentException.class,
                    () -> h.fabric.checkAttach(PortDefinition.of("c", PortOptions.DEFAULTS)));
            assertEquals("switch \"r\" already has 2 ports (max.ports=2); cannot add \"c\"", full.getMessage());
            assertEquals("no port \"zz\" on switch \"r\"",
                    assertThrows(IllegalArgumentException.class, () -> h.fabric.stats("zz")).getMessage());
        }
        assertEquals("max.ports=0 is out of range 1..4096", assertThrows(IllegalArgumentException.class,
                () -> new Switch("x", FabricSettings.defaults(), 0, 300, 16)).getMessage());
        assertEquals("mac.aging=0 is out of range 1..2147483647", assertThrows(IllegalArgumentException.class,
                () -> new Switch("x", FabricSettings.defaults(), 8, 0, 16)).getMessage());
        assertEquals("mac.table.size=2000000 is out of range 1..1048576", assertThrows(IllegalArgumentException.class,
                () -> new Switch("x", FabricSettings.defaults(), 8, 300, 2_000_000)).getMessage());
    }

    @Test
    void portSettingsCarryTheFabricsOptions() throws Exception {
        try (Switch s = new Switch("ps", FabricSettings.defaults().withPollMicros(500).withMaxQueueSize(1024)
                .withRuntimeDir(dir))) {
            PortSettings p = s.portSettings(PortOptions.parse("ds-max=7 mac=02:00:00:00:00:05"));
            assertEquals(7, p.dsMax());
            assertEquals(0x020000000005L, p.mac());
            assertEquals(1024, p.maxQueueSize());
            assertTrue(p.pollMode());
            assertEquals(dir.resolve("ps"), s.runtimeDir());
            assertEquals(500, s.pollMicros());
        }
    }

    /** The switch's worker held between two rounds (a command that waits), so that frames sent meanwhile meet in one. */
    private static final class Held {
        private final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        private final Thread holder;

        private Held(Harness h) throws InterruptedException {
            java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
            holder = new Thread(() -> h.fabric.worker(0).execute(() -> {
                held.countDown();
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            holder.start();
            assertTrue(held.await(10, TimeUnit.SECONDS));
        }

        static Held betweenTwoRounds(Harness h) throws InterruptedException {
            return new Held(h);
        }

        void release() throws InterruptedException {
            release.countDown();
            holder.join();
        }
    }
}
