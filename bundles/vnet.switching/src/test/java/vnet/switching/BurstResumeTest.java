package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import org.agrona.MutableDirectBuffer;

import vnet.linux.LinuxException;
import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.vhost.VhostUserPort;
import vnet.virtio.net.NetDevice;
import vnet.virtio.net.VirtioNetHeader;
import vnet.virtqueue.DeviceQueue;

/**
 * A round cut short in mid-burst loses no frame it need not. A frame whose forwarding fails outside the per-frame fault
 * handling (a bug) costs that frame only: the next round resumes the burst after it, so every later frame is
 * forwarded and every chain the burst took goes back to the driver. Before, the rest of the burst was abandoned and
 * the sender's transmit ring kept those buffers for ever; and a resume that tried the failing frame again would never
 * get past a frame that always fails. A memory fault of another port that HotSpot raises late, while a bystander's
 * burst is taken, forwarded or delivered (see ForwardingWorker#fault), costs nothing: the burst is given back and
 * taken again, the frame forwarded or delivered once more. Before, such a burst's chains stayed taken and its frames
 * never arrived (SwitchFuzzTest's "the bystanders stopped").
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BurstResumeTest {
    private static final int FRAMES = 6;
    /** The frame (counted from 1) whose forwarding fails, every time it is tried. */
    private static final int FAILING = 3;

    @TempDir
    Path dir;

    /** Where the round is cut short. */
    private enum Cut {
        /** A bug: forwarding the FAILING-th frame throws, every time it is tried. */
        BUG_IN_FRAME,
        /** A late memory fault, once: forwarding the FAILING-th frame, before it is delivered. */
        LATE_FAULT_IN_FRAME,
        /** A late memory fault, once: right after the first burst of frames was taken. */
        LATE_FAULT_IN_TAKE,
        /** A late memory fault, once: delivering the FAILING-th frame into the receiver. */
        LATE_FAULT_IN_DELIVERY,
        /**
         * As LATE_FAULT_IN_TAKE, and a second one surfaces while the worker handles the first (in its log call),
         * so that it escapes the round: the worker thread goes on all the same.
         */
        LATE_FAULT_ESCAPING_ROUND
    }

    /** A two-port link whose forwarder is cut short as {@code cut} says. */
    private static final class FailingFrameLink extends FabricBase {
        private final Cut cut;
        /** The receiver's ring as the control plane saw it right after a round was cut short (BUG_IN_FRAME). */
        final java.util.concurrent.CompletableFuture<QueueState.Ring> rxBetweenRounds =
                new java.util.concurrent.CompletableFuture<>();

        FailingFrameLink(String name, FabricSettings settings, Cut cut) throws LinuxException {
            super(name, settings, 2);
            this.cut = cut;
            start();
        }

        @Override
        public String kind() {
            return KIND_P2P;
        }

        @Override
        void checkAttach(PortDefinition definition, List<PortState> existing) {
        }

        @Override
        boolean crossesWorkers() {
            return false;
        }

        @Override
        Forwarder forwarder(int index, Handoff handoff) {
            return new DrainingForwarder(index, null) {
                private int seen;
                private int mark = -1;
                private boolean faulted;
                private Thread looking;
                private final org.agrona.concurrent.UnsafeBuffer markBytes =
                        new org.agrona.concurrent.UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(4));

                @Override
                int takeTxBurst(NetDevice net) {
                    int n = super.takeTxBurst(net);
                    if ((cut == Cut.LATE_FAULT_IN_TAKE || cut == Cut.LATE_FAULT_ESCAPING_ROUND) && n > 0
                            && lateFaultOnce()) {
                        throw new InternalError("injected: a memory fault raised late, the burst taken");
                    }
                    return n;
                }

                @Override
                void onFrame(PortState src, int pair, int offset, int length) {
                    chain.read(offset + 14, markBytes, 0, 4); // an untagged frame's mark (see Frames)
                    if (++seen == FAILING) {
                        mark = markBytes.getInt(0);
                    }
                    boolean failing = markBytes.getInt(0) == mark;
                    if (failing && cut == Cut.BUG_IN_FRAME) {
                        lookBetweenRounds();
                        throw new IllegalStateException("injected: forwarding frame " + FAILING + " fails");
                    }
                    if (failing && cut == Cut.LATE_FAULT_IN_FRAME && lateFaultOnce()) {
                        throw new InternalError("injected: a memory fault raised late, in mid-frame");
                    }
                    deliver(slots[1 - src.slot], pair, offset, length);
                }

                @Override
                int deliverToRx(NetDevice net, VirtioNetHeader h, MutableDirectBuffer frame, int offset, int length) {
                    if (cut == Cut.LATE_FAULT_IN_DELIVERY && markBytes.getInt(0) == mark && lateFaultOnce()) {
                        throw new InternalError("injected: a memory fault raised late, in a delivery");
                    }
                    return super.deliverToRx(net, h, frame, offset, length);
                }

                /**
                 * Has the control plane look at the receiver's ring in the gap between this round, about to be cut
                 * short, and the next (where a transport may stop the ring and read where it stands): once a thread
                 * waits for the worker, its command runs first in the next round.
                 */
                private void lookBetweenRounds() {
                    if (looking != null) {
                        return;
                    }
                    looking = new Thread(() -> rxBetweenRounds.complete(queues("b").get(0).rx()));
                    looking.start();
                    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (looking.getState() != Thread.State.WAITING && looking.getState() != Thread.State.TIMED_WAITING
                            && System.nanoTime() < end) {
                        Thread.onSpinWait();
                    }
                }

                private boolean lateFaultOnce() {
                    boolean first = !faulted;
                    faulted = true;
                    return first;
                }
            };
        }
    }

    @Test
    void aFrameThatFailsCostsNoOtherFrameOfItsBurst() throws Exception {
        forwardSix(Cut.BUG_IN_FRAME, FAILING - 1);
    }

    @ParameterizedTest
    @EnumSource(value = Cut.class, names = {"LATE_FAULT_IN_FRAME", "LATE_FAULT_IN_TAKE", "LATE_FAULT_IN_DELIVERY"})
    void anotherPortsLateFaultCostsNoFrame(Cut cut) throws Exception {
        forwardSix(cut, -1);
    }

    @Test
    void aFaultThatEscapesTheRoundDoesNotEndTheWorker() throws Exception {
        java.util.logging.Logger vnet = java.util.logging.Logger.getLogger("vnet");
        java.util.concurrent.atomic.AtomicBoolean thrown = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.logging.Handler second = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getMessage() != null && r.getMessage().contains("no running port") && !thrown.getAndSet(true)) {
                    throw new InternalError("injected: a second memory fault raised late, while the first is handled");
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        vnet.addHandler(second);
        try {
            forwardSix(Cut.LATE_FAULT_ESCAPING_ROUND, -1);
        } finally {
            vnet.removeHandler(second);
        }
        assertTrue(thrown.get(), "the second fault was raised in the worker's handling of the first");
    }

    /**
     * Sends six frames in one burst through a link cut short as {@code cut} says; all but frame {@code lost} arrive.
     * When a bug cuts the round short, no receive chain taken ahead for the burst stays taken into the gap before the
     * next round: a transport stopping the ring there would report those buffers as consumed, and they were lost.
     */
    private void forwardSix(Cut cut, int lost) throws Exception {
        // Poll mode with a long interval: the frames sent meanwhile are taken in one burst.
        FabricSettings settings = FabricSettings.defaults().withRuntimeDir(dir).withPollMicros(200_000);
        FailingFrameLink link = new FailingFrameLink("l", settings, cut);
        try (Harness h = new Harness(dir, link);
                VhostUserPort a = VhostUserPort.listen("a", dir.resolve("a.sock"), h.fabric.portSettings(PortOptions.DEFAULTS))) {
            h.fabric.attach(PortDefinition.of("a", PortOptions.DEFAULTS), a);
            Client b = h.port("b");
            try (Client sender = Client.connect("a", a.socketPath())) {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (a.device() == null && System.nanoTime() < end) {
                    Thread.sleep(1);
                }
                byte[][] sent = new byte[FRAMES][];
                for (int i = 0; i < FRAMES; i++) {
                    sent[i] = Frames.frame(SwitchTest.C, SwitchTest.B, i, 60 + i);
                    sender.send(sent[i]);
                }
                for (int i = 0; i < FRAMES; i++) {
                    if (i != lost) {
                        assertArrayEquals(sent[i], b.expect(), "frame " + i + " forwarded, in order");
                    }
                }
                b.expectNothing(300);
                DeviceSnapshot d = a.device();
                DeviceQueue tx = d.pairs().get(0).tx();
                end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (tx.usedIndex() != tx.lastAvailIndex() && System.nanoTime() < end) {
                    Thread.sleep(5);
                }
                assertEquals(tx.lastAvailIndex(), tx.usedIndex(), "every chain the burst took went back to the driver");
                if (cut == Cut.BUG_IN_FRAME) {
                    QueueState.Ring rx = link.rxBetweenRounds.get(10, TimeUnit.SECONDS);
                    assertEquals(FAILING - 1, rx.usedIndex(), "frames delivered before the cut");
                    assertEquals(rx.usedIndex(), rx.lastAvailIndex(), "no receive chain stayed taken ahead");
                }
            }
        }
    }
}
