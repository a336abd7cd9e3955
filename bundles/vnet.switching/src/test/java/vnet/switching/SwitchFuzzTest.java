package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import vnet.transport.shm.vhost.VhostUserPort;
import vnet.virtqueue.Descriptor;

/**
 * Hostile front-ends against a port of a running switch while two bystanders exchange frames through it: memory files
 * cut short (memfd and unlinked file) and grown again, memory tables replaced under traffic, rings and buffers placed in
 * the cut-off part, chains with every flag, and the port removed and created again in mid-handshake. The bystanders
 * never stop, nothing is logged as an internal error, the worker never dies, and the port serves a good front-end at
 * the end. The seed is printed; {@code -Dvnet.fuzz.seed=} replays a run.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SwitchFuzzTest {
    private static final int CONNECTIONS = Integer.getInteger("vnet.fuzz.switch.connections", 300);

    @TempDir
    Path dir;

    private final List<String> problems = Collections.synchronizedList(new ArrayList<>());
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.SEVERE.intValue()) {
                StringBuilder b = new StringBuilder(r.getLoggerName()).append(": ").append(r.getMessage());
                if (r.getThrown() != null) {
                    b.append(' ').append(r.getThrown());
                    StackTraceElement[] st = r.getThrown().getStackTrace();
                    for (int i = 0; i < Math.min(8, st.length); i++) {
                        b.append("\n    at ").append(st[i]);
                    }
                }
                problems.add(b.toString());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @Test
    void hostileFrontendsNeverStopTheSwitch() throws Exception {
        long seed = Long.getLong("vnet.fuzz.seed", System.nanoTime());
        String replay = "seed " + seed + " (replay with -Dvnet.fuzz.seed=" + seed + ")";
        System.out.println("SwitchFuzzTest: " + replay);
        Logger vnet = Logger.getLogger("vnet");
        vnet.addHandler(capture);
        Thread.UncaughtExceptionHandler old = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> problems.add("uncaught in " + t.getName() + ": " + e));
        Random r = new Random(seed);
        try (Harness h = new Harness(dir, new Switch("fz", FabricSettings.defaults().withRuntimeDir(dir)))) {
            Client b = h.port("b");
            Client c = h.port("c");
            Path sock = dir.resolve("bad.sock");
            VhostUserPort[] bad = {newPort(h, sock)};
            AtomicReference<Throwable> bystanders = new AtomicReference<>();
            AtomicInteger strays = new AtomicInteger();
            AtomicInteger exchanges = new AtomicInteger();
            Thread by = new Thread(() -> {
                try {
                    for (int i = 0; !Thread.currentThread().isInterrupted(); i++) {
                        exchange(b, c, SwitchTest.B, SwitchTest.C, i, strays);
                        exchange(c, b, SwitchTest.C, SwitchTest.B, i, strays);
                        exchanges.incrementAndGet();
                    }
                } catch (Throwable e) {
                    if (!(e instanceof InterruptedException)) {
                        bystanders.set(e);
                    }
                }
            }, "fuzz-bystanders");
            by.start();
            int faults = 0;
            for (int n = 0; n < CONNECTIONS && bystanders.get() == null; n++) {
                HostileFrontend.Backing backing = r.nextBoolean() ? HostileFrontend.Backing.MEMFD : HostileFrontend.Backing.UNLINKED_FILE;
                boolean highRings = r.nextInt(4) == 0;
                try (HostileFrontend fe = new HostileFrontend(dir, sock, backing,
                        highRings ? HostileFrontend.TX_RING_HIGH : HostileFrontend.TX_RING_LOW)) {
                    fe.socket.setSendTimeout(2000);
                    fe.setUp();
                    int actions = r.nextInt(10);
                    for (int a = 0; a < actions; a++) {
                        switch (r.nextInt(8)) {
                            case 0 -> {
                                if (!highRings) {
                                    fe.postTx(address(r), r.nextInt(2000), flags(r));
                                }
                            }
                            case 1 -> fe.postRx(address(r), r.nextInt(4096));
                            case 2 -> fe.kickTx();
                            case 3 -> {
                                fe.cut(new long[] {0, HostileFrontend.MIB, HostileFrontend.MEM - 4096, HostileFrontend.MEM}[r.nextInt(4)]);
                                faults++;
                            }
                            case 4 -> fe.newMemTable();
                            case 5 -> fe.sync();
                            case 6 -> Thread.sleep(r.nextInt(3));
                            default -> {
                                if (r.nextInt(3) == 0) { // the port goes away in mid-handshake, and comes back
                                    VhostUserPort p = (VhostUserPort) h.fabric.detach("bad");
                                    if (p != null) {
                                        p.close();
                                    }
                                    bad[0] = newPort(h, sock);
                                }
                            }
                        }
                    }
                    fe.kickTx();
                } catch (IOException e) {
                    // vnet hung up on the hostile front-end: what it should do
                }
                if (!problems.isEmpty()) {
                    break;
                }
            }
            by.interrupt();
            by.join(20_000);
            if (bystanders.get() != null) {
                // Where the frame stopped: a chain taken but never returned shows as lastAvailIndex > usedIndex.
                throw new AssertionError("the bystanders stopped (" + replay + "); b " + h.fabric.stats("b") + " "
                        + h.fabric.queues("b") + "; c " + h.fabric.stats("c") + " " + h.fabric.queues("c"),
                        bystanders.get());
            }
            assertTrue(problems.isEmpty(), () -> replay + ": " + problems);
            assertTrue(exchanges.get() > 0, "the bystanders exchanged frames");
            // The port serves a good front-end, and the switch still forwards.
            try (Client good = Client.connect("bad", sock)) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (bad[0].device() == null && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                byte[] f = Frames.frame(SwitchTest.B, SwitchTest.X, 1, 60);
                good.send(f);
                byte[] got;
                int skipped = 0;
                while (!Arrays.equals(got = b.expect(), f) && skipped++ < 3) {
                    strays.incrementAndGet();
                }
                assertArrayEquals(f, got);
            }
            System.out.printf("SwitchFuzzTest: %d hostile connections, %d memory cuts, %d bystander exchanges, %d frames of"
                    + " undefined content seen by bystanders (%s)%n", CONNECTIONS, faults, exchanges.get(), strays.get(), replay);
        } finally {
            vnet.removeHandler(capture);
            Thread.setDefaultUncaughtExceptionHandler(old);
        }
    }

    private static VhostUserPort newPort(Harness h, Path sock) throws IOException {
        VhostUserPort p = VhostUserPort.listen("bad", sock, h.fabric.portSettings(PortOptions.DEFAULTS));
        h.fabric.attach(PortDefinition.of("bad", PortOptions.DEFAULTS), p);
        return p;
    }

    private static long address(Random r) {
        return switch (r.nextInt(4)) {
            case 0 -> 0x10000 + r.nextInt(0x1000);
            case 1 -> HostileFrontend.HIGH_BUFFER + r.nextInt(0x1000);
            case 2 -> HostileFrontend.MEM - r.nextInt(64);
            default -> r.nextLong();
        };
    }

    private static int flags(Random r) {
        int[] f = {0, 0, Descriptor.F_INDIRECT, Descriptor.F_WRITE, Descriptor.F_NEXT, Descriptor.F_INDIRECT | Descriptor.F_WRITE};
        return f[r.nextInt(f.length)];
    }

    /**
     * One frame from {@code from} to {@code to}; frames of undefined content that a memory fault let through (at most
     * a few per fault) are skipped and counted, anything else is a failure.
     */
    private static void exchange(Client from, Client to, long src, long dst, int i, AtomicInteger strays) throws IOException {
        byte[] f = Frames.frame(dst, src, i, 60 + i % 1400);
        from.send(f);
        for (int skipped = 0; ; skipped++) {
            byte[] got = to.expect();
            if (Arrays.equals(got, f)) {
                return;
            }
            strays.incrementAndGet();
            if (skipped > 8) {
                throw new AssertionError("frame " + i + " never came; " + skipped + " others did");
            }
        }
    }
}
