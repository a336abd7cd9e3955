package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.testing.GuestImage;
import vnet.testing.QemuGuest;
import vnet.testing.WorkDir;
import vnet.transport.shm.vhost.VhostUserPort;
import vnet.virtio.net.Features;

/**
 * Multiqueue with a real guest: port b has {@code queues=2}, its guest {@code -smp 2} with a two-pair NIC
 * ({@code queues=2}, {@code mq=on}); guest a serves 2 MiB of random data on eight TCP ports, b fetches each. The guest
 * sees two RX queues; b fetches from client ports that vnet's flow hash puts four flows on each of b's receive
 * queues, each queue carries its flows, and every digest matches.
 */
@Tag("real-peer")
class MultiqueueGuestTest {
    private static final int FLOWS = 8;
    private static final Pattern QUEUES = Pattern.compile("VNET-QUEUES (.*)");
    private static final Pattern SENT = Pattern.compile("VNET-SENT ([0-9a-f]{32})");
    private static final Pattern GOT = Pattern.compile("VNET-GOT (\\d+) ([0-9a-f]{32})");
    private static final Pattern FETCHED = Pattern.compile("VNET-FETCHED");

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void eightFlowsUseBothQueuePairsOfATwoQueueGuest() throws Exception {
        GuestImage.get();
        try (WorkDir dir = WorkDir.create("vnet-mq-");
                Switch sw = new Switch("mq", FabricSettings.defaults().withRuntimeDir(dir.path()))) {
            List<AutoCloseable> owned = new ArrayList<>();
            try {
                PortOptions oa = PortOptions.parse("mac=02:00:00:00:0c:01");
                PortOptions ob = PortOptions.parse("mac=02:00:00:00:0c:02 queues=2");
                VhostUserPort a = VhostUserPort.listen("a", dir.resolve("a.sock"), sw.portSettings(oa));
                owned.add(a);
                sw.attach(new PortDefinition("a", oa, VlanMode.DEFAULT, false, "vhost-user"), a);
                VhostUserPort b = VhostUserPort.listen("b", dir.resolve("b.sock"), sw.portSettings(ob));
                owned.add(b);
                sw.attach(new PortDefinition("b", ob, VlanMode.DEFAULT, false, "vhost-user"), b);

                StringBuilder serve = new StringBuilder("head -c 2097152 /dev/urandom > /tmp/data\n"
                        + "echo \"VNET-SENT $(md5sum /tmp/data | cut -d' ' -f1)\"\n");
                StringBuilder fetch = new StringBuilder("echo \"VNET-QUEUES $(ls /sys/class/net/eth0/queues | tr '\\n' ' ') cpus=$(nproc)"
                        + " features=$(cat /sys/class/net/eth0/device/features)\"\n"
                        + "i=0\nuntil ping -c 1 -W 1 192.0.2.1 >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 120 ] && break; sleep 1; done\n");
                int last = 5000 + FLOWS;
                serve.append("for p in $(seq 5001 ").append(last).append("); do nc -l -p $p -e cat /tmp/data & done\nwait\n");
                // b connects from chosen local ports (a one-port ephemeral range each: busybox nc ignores -p when it
                // connects), four of whose flows hash to each pair: with random ephemeral ports all eight flows land
                // on one pair once in 128 runs.
                fetch.append("for pc in");
                for (int i = 0; i < FLOWS; i++) {
                    int server = 5001 + i;
                    fetch.append(' ').append(server).append(':').append(clientPortOnPair(server, i % 2));
                }
                fetch.append("; do\n p=${pc%:*}; c=${pc#*:}; i=0\n")
                        .append(" echo \"$c $c\" > /proc/sys/net/ipv4/ip_local_port_range\n")
                        .append(" until nc 192.0.2.1 $p </dev/null > /tmp/r && [ -s /tmp/r ]; do")
                        .append(" i=$((i+1)); [ $i -gt 60 ] && break; sleep 1; done\n")
                        .append(" echo \"VNET-GOT $p $(md5sum /tmp/r | cut -d' ' -f1)\"\ndone\necho VNET-FETCHED\n");
                QemuGuest gb = QemuGuest.builder("b").workDir(dir.path()).cpus(2)
                        .nic(QemuGuest.VhostUserNic.client(b.socketPath()).mac("02:00:00:00:0c:02").queues(2))
                        .ip("192.0.2.2/24").command(fetch.toString()).timeLimit(Duration.ofMinutes(7)).start();
                owned.add(gb);
                QemuGuest ga = QemuGuest.builder("a").workDir(dir.path())
                        .nic(QemuGuest.VhostUserNic.client(a.socketPath()).mac("02:00:00:00:0c:01"))
                        .ip("192.0.2.1/24").command(serve.toString()).timeLimit(Duration.ofMinutes(7)).start();
                owned.add(ga);

                String queues = gb.awaitLine(QUEUES, Duration.ofMinutes(4)).group(1);
                assertTrue(queues.contains("rx-0") && queues.contains("rx-1"), "guest b's queues: " + queues);
                String sent = ga.awaitLine(SENT, Duration.ofMinutes(3)).group(1);
                gb.awaitLine(FETCHED, Duration.ofMinutes(5));
                Matcher m = GOT.matcher(gb.console());
                int flows = 0;
                while (m.find()) {
                    assertEquals(sent, m.group(2), "flow on port " + m.group(1) + "\n" + gb.console());
                    flows++;
                }
                assertEquals(FLOWS, flows, gb.console());

                List<QueueState> q = sw.queues("b");
                assertEquals(2, q.size(), "both pairs of b run: " + q);
                assertTrue((q.get(0).features() & Features.MQ) != 0, Features.toString(q.get(0).features()));
                for (QueueState s : q) {
                    System.out.printf("MultiqueueGuestTest: b pair %d: %s%n", s.pair(), s.stats());
                    // Its four whole 2 MiB flows per pair (a frame count says little: TSO frames carry up to 64 KiB).
                    assertTrue(s.stats().rxBytes() >= FLOWS / 2 * 2097152L,
                            "pair " + s.pair() + " of b received its four flows: " + s.stats());
                }
            } finally {
                for (int i = owned.size() - 1; i >= 0; i--) {
                    owned.get(i).close();
                }
            }
        }
    }

    /** The first client port from 40000 up whose flow from a's {@code serverPort} to b hashes to receive pair {@code pair}. */
    private static int clientPortOnPair(int serverPort, int pair) {
        UnsafeBuffer frame = new UnsafeBuffer(new byte[14 + 20 + 20]);
        frame.putShort(12, (short) 0x0800, ByteOrder.BIG_ENDIAN);
        frame.putByte(14, (byte) 0x45);
        frame.putByte(14 + 9, (byte) 6);
        frame.putInt(14 + 12, 0xC0000201, ByteOrder.BIG_ENDIAN); // 192.0.2.1 (a)
        frame.putInt(14 + 16, 0xC0000202, ByteOrder.BIG_ENDIAN); // 192.0.2.2 (b)
        frame.putShort(34, (short) serverPort, ByteOrder.BIG_ENDIAN);
        UnsafeBuffer scratch = new UnsafeBuffer(new byte[FlowHash.BYTES]);
        for (int client = 40000 + serverPort % 100 * 16; ; client++) {
            frame.putShort(36, (short) client, ByteOrder.BIG_ENDIAN);
            if (FlowHash.pairOf(FlowHash.of(frame, 0, frame.capacity(), scratch), 2) == pair) {
                return client;
            }
        }
    }
}
