package vnet.transport.shm.vhost;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.locks.LockSupport;

import vnet.linux.Epoll;
import vnet.linux.EventFd;
import vnet.linux.LinuxException;
import vnet.transport.shm.DataPath;
import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.Doorbell;
import vnet.transport.shm.QueuePair;
import vnet.virtio.net.Features;
import vnet.virtqueue.DescriptorChain;
import vnet.virtqueue.DeviceQueue;

/**
 * Test-only data path: one worker thread that takes every frame a port's driver transmits and hands it back to the
 * same port's receive queue (header included; {@code num_buffers} set), calling the driver only when it asked to
 * be called. It sleeps in epoll on the kicks (and on the receive kick while out of receive buffers) — no polling.
 *
 * <p>{@link #quiesce()} uses a round counter: odd while the worker uses a snapshot, even while it sleeps or
 * between rounds. The control plane withdraws the snapshot first (a volatile write), then reads the counter; if it
 * is even, the worker's next round reads the withdrawn (null or new) snapshot; if odd, it waits for the round to end.
 */
final class LoopbackDataPath implements DataPath, AutoCloseable {
    private static final Logger LOG = System.getLogger(LoopbackDataPath.class.getName());
    private static final int BUDGET = 64;
    private static final int MAX_RX_CHAINS = 64;
    private static final long TOKEN_WAKE = -1;

    private final VhostUserPort port;
    private final Thread thread;
    private final EventFd wakeFd;
    private final DescriptorChain txChain = new DescriptorChain();
    private final DescriptorChain[] rxChains = new DescriptorChain[MAX_RX_CHAINS];
    private final byte[] numBuffers = new byte[2];
    private volatile long round;
    private volatile boolean running = true;
    private volatile long looped;
    private volatile long dropped;
    private volatile long rounds;
    private Epoll epoll;
    private DeviceSnapshot watched;
    private String brokenLogged;

    LoopbackDataPath(VhostUserPort port) throws LinuxException {
        this.port = port;
        this.wakeFd = EventFd.create();
        this.epoll = newEpoll();
        for (int i = 0; i < MAX_RX_CHAINS; i++) {
            rxChains[i] = new DescriptorChain();
        }
        thread = new Thread(this::run, "loopback-" + port.name());
        thread.setDaemon(true);
        thread.start();
        port.setDataPath(this);
    }

    /** Frames handed back so far. */
    long looped() {
        return looped;
    }

    /** Frames dropped (too large for the receive buffers, or shorter than a header). */
    long dropped() {
        return dropped;
    }

    /** Worker rounds so far (to show it sleeps when idle). */
    long rounds() {
        return rounds;
    }

    @Override
    public void quiesce() {
        if (Thread.currentThread() == thread) {
            return;
        }
        long r = round;
        if ((r & 1) == 0) {
            return;
        }
        while (round == r && thread.isAlive()) {
            LockSupport.parkNanos(20_000);
        }
    }

    @Override
    public void wake() {
        try {
            wakeFd.signal();
        } catch (LinuxException e) {
            LOG.log(Level.WARNING, "loopback wake: {0}", e.getMessage());
        }
    }

    private Epoll newEpoll() throws LinuxException {
        Epoll e = Epoll.create(8);
        e.add(wakeFd.fd().fd(), Epoll.EPOLLIN, TOKEN_WAKE);
        return e;
    }

    private void run() {
        try {
            while (running) {
                round++; // odd: from here on the worker may use a snapshot
                boolean more;
                try {
                    more = oneRound();
                } finally {
                    round++; // even: it no longer does
                }
                rounds++;
                if (!more && running) {
                    epoll.epollWait(-1);
                    wakeFd.drain();
                }
            }
        } catch (LinuxException | RuntimeException e) {
            LOG.log(Level.ERROR, "loopback worker died", e);
        }
    }

    /** One round over the current snapshot; true if there is more work right away. */
    private boolean oneRound() throws LinuxException {
        DeviceSnapshot s = port.device();
        if (s != watched) {
            // New doorbells: watch them (their fds are valid during the round; closed ones leave epoll by themselves).
            epoll.close();
            epoll = newEpoll();
            watched = s;
            if (s != null) {
                for (QueuePair p : s.pairs()) {
                    if (p.txKick() != null) {
                        epoll.add(p.txKick().fd(), Epoll.EPOLLIN, 2L * p.index() + 1);
                    }
                    if (p.rxKick() != null) {
                        epoll.add(p.rxKick().fd(), Epoll.EPOLLIN, 2L * p.index());
                    }
                }
            }
        }
        if (s == null) {
            return false;
        }
        boolean more = false;
        for (QueuePair p : s.pairs()) {
            more |= forward(s, p);
        }
        return more;
    }

    private boolean forward(DeviceSnapshot s, QueuePair p) {
        DeviceQueue tx = p.tx();
        DeviceQueue rx = p.rx();
        drain(p.txKick());
        drain(p.rxKick());
        if (tx.isBroken() || rx.isBroken()) {
            String why = tx.isBroken() ? "tx: " + tx.brokenReason() : "rx: " + rx.brokenReason();
            if (!why.equals(brokenLogged)) {
                LOG.log(Level.WARNING, "loopback {0}: queue pair {1} broken: {2}", port.name(), p.index(), why);
                brokenLogged = why;
            }
            return false;
        }
        int header = s.headerSize();
        boolean mergeable = (s.features() & Features.MRG_RXBUF) != 0;
        boolean rxStarved = false;
        int moved = 0;
        int txUsed = 0;
        while (moved < BUDGET) {
            int savedTx = tx.lastAvailIndex();
            if (!tx.pop(txChain)) {
                break;
            }
            int frame = txChain.readableBytes() - header;
            if (frame < 0) {
                tx.pushUsed(txChain.head(), 0);
                txUsed++;
                dropped++;
                continue;
            }
            int need = header + frame;
            int savedRx = rx.lastAvailIndex();
            int chains = 0;
            long room = 0;
            while (room < need && chains < MAX_RX_CHAINS && rx.pop(rxChains[chains])) {
                room += rxChains[chains].writableBytes();
                chains++;
                if (!mergeable) {
                    break;
                }
            }
            if (room < need) {
                rx.rewind(savedRx);
                if (chains > 0 && (!mergeable || chains == MAX_RX_CHAINS)) {
                    tx.pushUsed(txChain.head(), 0); // never fits: drop it
                    txUsed++;
                    dropped++;
                    continue;
                }
                tx.rewind(savedTx); // out of receive buffers: wait for the driver to add some
                rxStarved = true;
                break;
            }
            DescriptorChain.copy(txChain, 0, rxChains[0], 0, header);
            if (header >= 12) {
                numBuffers[0] = (byte) chains;
                numBuffers[1] = (byte) (chains >>> 8);
                rxChains[0].write(10, numBuffers, 0, 2);
            }
            int offset = header;
            for (int c = 0; c < chains; c++) {
                int start = c == 0 ? header : 0;
                int n = DescriptorChain.copy(txChain, offset, rxChains[c], start, need - offset);
                offset += n;
                rx.pushUsed(rxChains[c].head(), start + n);
            }
            tx.pushUsed(txChain.head(), 0);
            txUsed++;
            moved++;
        }
        if (moved > 0) {
            rx.publishUsed();
            if (rx.needsNotification()) {
                p.callRx();
            }
            looped += moved;
        }
        if (txUsed > 0) {
            tx.publishUsed();
            if (tx.needsNotification()) {
                p.callTx();
            }
        }
        if (rxStarved) {
            // Sleep until the driver adds receive buffers (unless it did meanwhile).
            return rx.enableNotification();
        }
        rx.disableNotification();
        if (moved == BUDGET) {
            return true;
        }
        return tx.enableNotification();
    }

    private static void drain(Doorbell d) {
        if (d != null) {
            d.drain();
        }
    }

    /**
     * Stops the worker. The port keeps this (stopped) data path, whose {@link #quiesce()} then returns at once:
     * rebinding it here would race with the port's connection thread.
     */
    @Override
    public void close() {
        running = false;
        wake();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        epoll.close();
        wakeFd.close();
    }
}
