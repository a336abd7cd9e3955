package vnet.switching;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.SleepingIdleStrategy;

import vnet.linux.Epoll;
import vnet.linux.EventFd;
import vnet.linux.LinuxException;
import vnet.transport.shm.DataPath;
import vnet.transport.shm.DevicePort;
import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.QueuePair;

/**
 * One data-path thread of a link or switch. Each round it runs the control plane's queued commands, reads the device
 * snapshot of every port it serves a side of once and lets its {@link Forwarder} move frames; between rounds it
 * sleeps the poll interval (poll mode) or, once {@value #SPIN_BEFORE_SLEEP_NANOS} ns have passed without a frame, in
 * epoll on the transmit queues' kicks (notification mode), or, in busy-poll mode (a dedicated core), goes straight on
 * to the next round: no syscall and no sleep while frames flow, only a spin-wait hint when a round moved nothing.
 *
 * <p>The control plane never locks the data path: it changes the port slots through {@link #execute commands}
 * that run between two rounds on this thread, and a transport that withdraws a snapshot {@link #quiesce() waits}
 * for the round to end.
 */
final class ForwardingWorker implements DataPath {
    private static final Logger LOG = System.getLogger(ForwardingWorker.class.getName());
    /** How long the control plane waits for a command before it gives up on the worker. */
    private static final long COMMAND_TIMEOUT_SECONDS = 30;
    /** Longest sleep in epoll, so that MAC aging and similar housekeeping still run on an idle switch. */
    private static final int EPOLL_TIMEOUT_MS = 100;
    /**
     * Notification mode: how long a worker whose last work was this recent looks again before it asks for kicks and
     * sleeps (QEMU's adaptive polling, poll-max-ns, does the same). Under load the next burst comes within
     * microseconds, and an epoll sleep would cost the worker a wake-up and the driver a kick (a syscall) per burst;
     * an idle fabric still sleeps, 20 us after its last frame.
     */
    static final long SPIN_BEFORE_SLEEP_NANOS = 20_000;

    /** A control-plane action run on the worker thread between rounds. */
    private static final class Command {
        final Runnable action;
        final CountDownLatch done = new CountDownLatch(1);
        volatile RuntimeException failure;
        /** Set on the worker thread once the action ran (see {@link ForwardingWorker#round()}). */
        boolean ran;

        Command(Runnable action) {
            this.action = action;
        }

        void run(ForwardingWorker worker) {
            try {
                action.run();
            } catch (InternalError e) {
                // A guest memory fault of the round before, raised only now (asynchronously): blame it, then do the
                // command whole (every command may run twice: they set slots and flush tables).
                worker.fault(e);
                try {
                    action.run();
                } catch (RuntimeException again) {
                    failure = again;
                }
            } catch (RuntimeException e) {
                failure = e;
            } finally {
                ran = true;
                done.countDown();
            }
        }
    }

    private final String name;
    private final DevicePort[] ports;
    /** Per slot: whether this worker takes the port's transmitted frames (else it only fills its receive queues). */
    private final boolean[] drainsTx;
    private final DeviceSnapshot[] devices;
    private final DeviceSnapshot[] epollDevices;
    /** Per slot: the device the last round used, for the control plane (written on change only), and its mirror. */
    private final java.util.concurrent.atomic.AtomicReferenceArray<DeviceSnapshot> seen;
    private final DeviceSnapshot[] lastSeen;
    /** Per slot: the snapshot whose memory faulted; skipped until the port publishes another. */
    private final DeviceSnapshot[] faulted;
    private long faults;
    private long lastUnattributedLogNanos;
    private java.util.function.IntConsumer faultedSlot = slot -> { };
    private final Forwarder forwarder;
    private final long pollIntervalNanos;
    private final boolean busyPoll;
    /** Neither poll nor busy-poll mode: the worker sleeps in epoll until a kick. */
    private final boolean notificationMode;
    /** The CPU to pin the thread to, or -1. */
    private final int cpu;
    /** The worker's coarse clock (see {@link #clock()}). */
    private long clockNanos = System.nanoTime();
    /** Set while the worker may wait in epoll, for the other workers' hand-off (see Handoff.wakeSleepers). */
    private volatile boolean sleeping;
    private final EventFd wakeup;
    private final ManyToOneConcurrentArrayQueue<Command> commands = new ManyToOneConcurrentArrayQueue<>(256);
    private int count;
    private Epoll epoll;
    /** Set when the epoll set may not match the devices (a rebuild cut short, a fault anywhere in a round). */
    private boolean epollStale;
    private volatile long rounds;
    private static final java.lang.invoke.VarHandle ROUNDS;

    static {
        try {
            ROUNDS = java.lang.invoke.MethodHandles.lookup().findVarHandle(ForwardingWorker.class, "rounds", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    /** When the last round that moved something ended (notification mode's look again before sleeping). */
    private long lastWorkNanos;
    /** Times the worker waited in epoll (notification mode); busy-poll mode never does. */
    private volatile long sleeps;
    private volatile boolean running;
    private boolean closed;
    private volatile Thread thread;

    /**
     * @param slots              most ports at once
     * @param pollIntervalMicros 0 for notification mode, else the poll period in microseconds (L4Re {@code --poll})
     * @param busyPoll           poll without pause (then {@code pollIntervalMicros} is 0)
     * @param cpu                the CPU to pin the thread to, or -1
     */
    ForwardingWorker(String name, int slots, Forwarder forwarder, long pollIntervalMicros, boolean busyPoll, int cpu)
            throws LinuxException {
        this.name = name;
        this.cpu = cpu;
        this.ports = new DevicePort[slots];
        this.drainsTx = new boolean[slots];
        this.devices = new DeviceSnapshot[slots];
        this.epollDevices = new DeviceSnapshot[slots];
        this.seen = new java.util.concurrent.atomic.AtomicReferenceArray<>(slots);
        this.lastSeen = new DeviceSnapshot[slots];
        this.faulted = new DeviceSnapshot[slots];
        this.forwarder = forwarder;
        this.pollIntervalNanos = TimeUnit.MICROSECONDS.toNanos(pollIntervalMicros);
        this.busyPoll = busyPoll;
        this.notificationMode = pollIntervalNanos == 0 && !busyPoll;
        this.wakeup = EventFd.create();
        rebuildEpoll();
    }

    /** Starts the thread. */
    synchronized void start() {
        running = true;
        IdleStrategy idle = busyPoll ? new BusySpinIdleStrategy()
                : pollIntervalNanos > 0 ? new SleepingIdleStrategy(pollIntervalNanos)
                : new BackoffIdleStrategy(10, 10, 1_000, 50_000);
        Thread t = new Thread(() -> run(idle), "vnet-worker-" + name);
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    /**
     * The thread. Nothing may end it before {@link #close()}: every port of the fabric depends on it. A memory fault
     * that HotSpot raises late can surface anywhere in it, even between two statements of the loop, outside any
     * round's handling (Agrona's AgentRunner, which ran the loop before, rethrows an Error after its handler, and the
     * thread ended: 1 SwitchFuzzTest run in 15). So whatever escapes the loop is blamed and the loop starts again.
     */
    private void run(IdleStrategy idle) {
        pin();
        while (true) {
            try {
                loop(idle);
                return;
            } catch (Throwable t) {
                fault(t);
                epollStale = true;
            }
        }
    }

    private void loop(IdleStrategy idle) {
        while (running) {
            int work = 1;
            try {
                work = doWork();
            } catch (LinuxException e) {
                LOG.log(Level.ERROR, "vnet " + name + ": data path error", e);
            }
            idle.idle(work);
        }
    }

    private void pin() {
        if (cpu >= 0) {
            try {
                vnet.linux.Sched.setThreadAffinity(cpu);
                LOG.log(Level.INFO, "vnet {0}: worker pinned to CPU {1}", name, cpu);
            } catch (LinuxException | RuntimeException e) {
                LOG.log(Level.WARNING, "vnet {0}: cannot pin the worker to CPU {1}: {2}; it runs unpinned", name, cpu,
                        e.getMessage());
            }
        }
    }

    /**
     * {@link System#nanoTime()} at the start of this round, or in busy-poll mode of one of the last
     * {@value #CLOCK_ROUNDS} rounds (a busy round takes microseconds: reading the clock every round cost a tenth of a
     * switch's time at 64-byte frames). Precise enough for MAC aging and flood limits.
     */
    long clock() {
        return clockNanos;
    }

    /** Busy-poll rounds per clock reading. */
    static final int CLOCK_ROUNDS = 16;

    /**
     * Whether a round has used {@code device} in {@code slot}: a frame taken from now on sees it (one taken by a
     * round that began before it was published does not).
     */
    boolean uses(int slot, DeviceSnapshot device) {
        return device != null && seen.get(slot) == device;
    }

    /** The data path this thread runs. */
    Forwarder forwarder() {
        return forwarder;
    }

    /** Whether the worker may be waiting in epoll now. */
    boolean sleeping() {
        return sleeping;
    }

    /** Rounds completed so far. */
    long rounds() {
        return rounds;
    }

    /** Waits in epoll so far (notification mode only). */
    long sleeps() {
        return sleeps;
    }

    /**
     * Puts {@code port} in {@code slot} (null empties it); {@code drainsTx}: this worker takes its transmitted frames
     * (and waits for its kicks), else it only fills its receive queues. Only from a command (or before
     * {@link #start()}): the port must already be bound to this worker ({@link DevicePort#setDataPath}) when it
     * enters, and is unbound only after it left.
     */
    void setPort(int slot, DevicePort port, boolean drainsTx) {
        ports[slot] = port;
        this.drainsTx[slot] = port != null && drainsTx;
        faulted[slot] = null;
        int n = ports.length;
        while (n > 0 && ports[n - 1] == null) {
            n--;
        }
        count = n;
    }

    /**
     * Runs {@code action} on the worker thread between two rounds and waits for it; runs it at once when called on
     * the worker thread or when the worker does not run. Exceptions of the action are rethrown here.
     *
     * @throws IllegalStateException if the worker does not take the command in time
     */
    void execute(Runnable action) {
        if (Thread.currentThread() == thread) {
            action.run();
            return;
        }
        Command c = new Command(action);
        synchronized (this) {
            if (!running) {
                action.run();
                return;
            }
            while (!commands.offer(c)) {
                LockSupport.parkNanos(100_000); // 256 pending commands: control-plane back-pressure only
            }
        }
        wakeup();
        try {
            if (!c.done.await(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("vnet " + name + ": the data-path worker did not respond in "
                        + COMMAND_TIMEOUT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("vnet " + name + ": interrupted while waiting for the worker", e);
        }
        if (c.failure != null) {
            throw c.failure;
        }
    }

    /** One round; a fault or a bug in it is blamed here, so that the next round starts clean. */
    private int doWork() throws LinuxException {
        try {
            return round();
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) { // nothing a guest does may end this thread: every port of the fabric depends on it
            fault(t);
            epollStale = true; // the fault may have cut a rebuild short
            for (int i = 0; i < devices.length; i++) {
                devices[i] = null;
            }
            rounds = rounds + 1;
            return 1;
        }
    }

    private int round() throws LinuxException {
        if (!busyPoll || (rounds & (CLOCK_ROUNDS - 1)) == 0) {
            clockNanos = System.nanoTime();
        }
        Command c;
        while ((c = commands.peek()) != null) {
            // Taken off the queue only once done: a fault of the round before, raised late between the two, would
            // otherwise lose the command, and its caller would wait in vain.
            if (c.ran) {
                c.done.countDown();
            } else {
                c.run(this);
            }
            commands.poll();
        }
        int n = count;
        boolean changed = false;
        for (int i = 0; i < n; i++) {
            DevicePort p = ports[i];
            DeviceSnapshot d = p == null ? null : p.device();
            if (d != null && d == faulted[i]) {
                d = null; // its front-end is being disconnected
            }
            devices[i] = d;
            changed |= d != epollDevices[i];
            if (d != lastSeen[i]) {
                lastSeen[i] = d;
                seen.set(i, d);
            }
        }
        for (int i = n; i < epollDevices.length && !changed; i++) {
            changed = epollDevices[i] != null;
        }
        int work = forwarder.round(devices, n);
        if (work > 0) {
            if (notificationMode) {
                lastWorkNanos = System.nanoTime(); // the round's end: a slow round does not eat the look-again time
            }
        } else if (notificationMode) {
            if (clockNanos - lastWorkNanos < SPIN_BEFORE_SLEEP_NANOS) {
                Thread.onSpinWait();
                work = 1; // not idle yet: round again at once
            } else {
                if (changed || epollStale) {
                    rebuildEpoll();
                }
                work = sleepUntilKicked(n);
            }
        }
        for (int i = 0; i < n; i++) {
            devices[i] = null; // no reference to a snapshot survives the round
        }
        // A release store, not a volatile one: a volatile store's fence waits for the round's stores into guest
        // memory to drain, a cross-core miss each when the driver's CPU holds the line (waiters read it eventually).
        ROUNDS.setRelease(this, rounds + 1);
        return work;
    }

    /**
     * After a fault in the round (a memory-access InternalError when a front-end cut its memory file short under our
     * mapping, or a bug): finds the ports whose memory no longer holds, takes their devices out of this and later
     * rounds and breaks their connections; the other ports go on. Called on the worker thread, also from the
     * forwarder in mid-round (so that the frames after the faulting one still move). Returns whether a port was
     * found to blame.
     */
    boolean fault(Throwable t) {
        boolean blamed = false;
        for (int i = 0; i < count; i++) {
            DevicePort p = ports[i];
            DeviceSnapshot d = devices[i] != null ? devices[i] : p == null ? null : p.device();
            if (p == null || d == null || d == faulted[i]) {
                continue;
            }
            String why = p.memoryFault();
            if (why != null) {
                faulted[i] = d;
                devices[i] = null;
                blamed = true;
                faults++;
                LOG.log(Level.WARNING, "vnet {0}: port {1} broken by a guest memory fault: {2}; its front-end is"
                        + " disconnected", name, p.name(), why);
                p.fail("guest memory fault: " + why);
                faultedSlot.accept(i);
            }
        }
        long now = System.nanoTime();
        if (!blamed && now - lastUnattributedLogNanos > TimeUnit.SECONDS.toNanos(1)) {
            lastUnattributedLogNanos = now;
            if (t instanceof InternalError) {
                // A memory fault whose port has left, or whose file has grown back since: nothing left to break.
                LOG.log(Level.WARNING, "vnet {0}: a guest memory fault no running port is to blame for (its port left,"
                        + " or its file grew back): {1}", name, t.getMessage());
            } else {
                LOG.log(Level.ERROR, "vnet " + name + ": data path error (no port's memory to blame); the worker goes on", t);
            }
        }
        return blamed;
    }

    /** What the fabric does (on this thread) when the port in a slot was broken by a fault. Before {@link #start()}. */
    void onFault(java.util.function.IntConsumer action) {
        faultedSlot = action;
    }

    /** Ports broken by memory faults so far. */
    long faults() {
        return faults;
    }

    /**
     * Notification mode: asks drivers to kick again, and if nothing arrived meanwhile, waits in epoll for a kick, a
     * command or the housekeeping timeout. Returns nonzero so the loop does not idle on top of it.
     */
    private int sleepUntilKicked(int n) throws LinuxException {
        sleeping = true; // before the last look at the hand-off rings: a sender that missed it sees this
        boolean pending = !commands.isEmpty() || forwarder.hasIncoming();
        for (int i = 0; i < n; i++) {
            DeviceSnapshot d = devices[i];
            if (d != null && drainsTx[i]) {
                List<QueuePair> pairs = d.pairs();
                for (int q = 0; q < pairs.size(); q++) {
                    pending |= pairs.get(q).tx().enableNotification();
                }
            }
        }
        if (!pending) {
            sleeps = sleeps + 1;
            epoll.epollWait(EPOLL_TIMEOUT_MS);
            wakeup.drain();
            for (int i = 0; i < n; i++) {
                DeviceSnapshot d = devices[i];
                if (d != null && drainsTx[i]) {
                    List<QueuePair> pairs = d.pairs();
                    for (int q = 0; q < pairs.size(); q++) {
                        if (pairs.get(q).txKick() != null) {
                            pairs.get(q).txKick().drain();
                        }
                    }
                }
            }
        }
        sleeping = false;
        for (int i = 0; i < n; i++) {
            DeviceSnapshot d = devices[i];
            if (d != null && drainsTx[i]) {
                List<QueuePair> pairs = d.pairs();
                for (int q = 0; q < pairs.size(); q++) {
                    pairs.get(q).tx().disableNotification();
                }
            }
        }
        return 1;
    }

    /** A new epoll set for the current kicks: only when a snapshot changed (control-plane rate). */
    private void rebuildEpoll() throws LinuxException {
        // The new set is complete before it replaces the old one: an exception here (a kick closed meanwhile, or a
        // guest memory fault of the round delivered asynchronously just now) must never leave a closed set behind.
        epollStale = true;
        Epoll next = Epoll.create(16);
        try {
            next.add(wakeup.fd().fd(), Epoll.EPOLLIN, -1);
            for (int i = 0; i < devices.length; i++) {
                DeviceSnapshot d = devices[i];
                if (d != null && drainsTx[i]) {
                    for (QueuePair p : d.pairs()) {
                        if (p.txKick() != null) {
                            next.add(p.txKick().fd(), Epoll.EPOLLIN, i);
                        }
                    }
                }
            }
        } catch (RuntimeException | LinuxException | Error e) {
            next.close();
            throw e;
        }
        Epoll old = epoll;
        epoll = next;
        System.arraycopy(devices, 0, epollDevices, 0, devices.length);
        epollStale = false;
        if (old != null) {
            old.close();
        }
    }

    @Override
    public void quiesce() {
        if (!running || Thread.currentThread() == thread) {
            return;
        }
        long seen = rounds;
        wakeup();
        while (rounds <= seen && running && thread.isAlive()) {
            LockSupport.parkNanos(20_000);
        }
    }

    @Override
    public void wake() {
        wakeup();
    }

    private void wakeup() {
        try {
            wakeup.signal();
        } catch (LinuxException e) {
            LOG.log(Level.WARNING, "vnet {0}: cannot wake the worker: {1}", name, e.getMessage());
        }
    }

    /** Stops the thread, runs commands still queued, and unbinds every port still in a slot. */
    void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            running = false;
        }
        wakeup();
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(COMMAND_TIMEOUT_SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                LOG.log(Level.WARNING, "vnet {0}: the worker did not stop within {1} s", name, COMMAND_TIMEOUT_SECONDS);
            }
        }
        Command c;
        while ((c = commands.poll()) != null) {
            c.run(this);
        }
        for (int i = 0; i < ports.length; i++) {
            if (ports[i] != null) {
                ports[i].setDataPath(DataPath.NONE);
                ports[i] = null;
            }
        }
        count = 0;
        if (epoll != null) {
            epoll.close();
        }
        wakeup.close();
    }
}
