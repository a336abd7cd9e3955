package vnet.switching;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingIdleStrategy;

import vnet.linux.Epoll;
import vnet.linux.EventFd;
import vnet.linux.LinuxException;
import vnet.transport.shm.DataPath;
import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.DevicePort;
import vnet.transport.shm.QueuePair;

/**
 * The one data-path thread of a link or switch (an Agrona {@link Agent}). Each round it reads every
 * port's device snapshot once and lets a {@link Forwarder} move frames; between rounds it sleeps the
 * poll interval (poll mode) or in epoll on the transmit queues' kicks (notification mode). The control
 * plane never locks it out: it withdraws a snapshot and {@link #quiesce() waits} for the round to end.
 */
final class ForwardingWorker implements Agent, DataPath {
    private static final Logger LOG = System.getLogger(ForwardingWorker.class.getName());

    /** Moves frames between the devices of one round; returns the frames moved. */
    interface Forwarder {
        int forward(DeviceSnapshot[] devices);
    }

    private final String name;
    private final DevicePort[] ports;
    private final DeviceSnapshot[] devices;
    private final DeviceSnapshot[] epollDevices;
    private final Forwarder forwarder;
    private final long pollIntervalNanos;
    private final EventFd wakeup;
    private Epoll epoll;
    private volatile long rounds;
    private volatile boolean running;
    private AgentRunner runner;
    private Thread thread;

    /**
     * @param pollIntervalMicros 0 for notification mode, else the poll period in microseconds (L4Re {@code --poll})
     */
    ForwardingWorker(String name, DevicePort[] ports, Forwarder forwarder, long pollIntervalMicros) throws LinuxException {
        this.name = name;
        this.ports = ports;
        this.devices = new DeviceSnapshot[ports.length];
        this.epollDevices = new DeviceSnapshot[ports.length];
        this.forwarder = forwarder;
        this.pollIntervalNanos = TimeUnit.MICROSECONDS.toNanos(pollIntervalMicros);
        this.wakeup = EventFd.create();
        rebuildEpoll();
    }

    /** Starts the thread and binds every port to it. */
    void start() {
        running = true;
        IdleStrategy idle = pollIntervalNanos > 0 ? new SleepingIdleStrategy(pollIntervalNanos)
                : new BackoffIdleStrategy(10, 10, 1_000, 50_000);
        runner = new AgentRunner(idle, e -> LOG.log(Level.ERROR, "vnet " + name + ": data path error", e), null, this);
        thread = AgentRunner.startOnThread(runner, r -> {
            Thread t = new Thread(r, "vnet-worker-" + name);
            t.setDaemon(true);
            return t;
        });
        for (DevicePort p : ports) {
            p.setDataPath(this);
        }
    }

    @Override
    public String roleName() {
        return "vnet-worker-" + name;
    }

    @Override
    public int doWork() throws LinuxException {
        boolean changed = false;
        for (int i = 0; i < ports.length; i++) {
            DeviceSnapshot d = ports[i].device();
            devices[i] = d;
            changed |= d != epollDevices[i];
        }
        int work = forwarder.forward(devices);
        if (work == 0 && pollIntervalNanos == 0) {
            if (changed) {
                rebuildEpoll();
            }
            work = sleepUntilKicked();
        }
        for (int i = 0; i < devices.length; i++) {
            devices[i] = null; // no reference to a snapshot survives the round
        }
        rounds = rounds + 1;
        return work;
    }

    /**
     * Notification mode: asks drivers to kick again, and if nothing arrived meanwhile, waits in epoll for a
     * kick or a control-plane wakeup. Returns nonzero when there may be work.
     */
    private int sleepUntilKicked() throws LinuxException {
        boolean pending = false;
        for (DeviceSnapshot d : devices) {
            if (d != null) {
                for (QueuePair p : d.pairs()) {
                    pending |= p.tx().enableNotification();
                }
            }
        }
        if (!pending) {
            epoll.epollWait(100);
            wakeup.drain();
            for (DeviceSnapshot d : devices) {
                if (d != null) {
                    for (QueuePair p : d.pairs()) {
                        if (p.txKick() != null) {
                            p.txKick().drain();
                        }
                    }
                }
            }
        }
        for (DeviceSnapshot d : devices) {
            if (d != null) {
                for (QueuePair p : d.pairs()) {
                    p.tx().disableNotification();
                }
            }
        }
        return 1;
    }

    /** A new epoll set for the current kicks: only when a snapshot changed (control-plane rate). */
    private void rebuildEpoll() throws LinuxException {
        if (epoll != null) {
            epoll.close();
        }
        epoll = Epoll.create(16);
        epoll.add(wakeup.fd().fd(), Epoll.EPOLLIN, -1);
        for (int i = 0; i < devices.length; i++) {
            DeviceSnapshot d = devices[i];
            epollDevices[i] = d;
            if (d != null) {
                for (QueuePair p : d.pairs()) {
                    if (p.txKick() != null) {
                        epoll.add(p.txKick().fd(), Epoll.EPOLLIN, i);
                    }
                }
            }
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

    /** Unbinds the ports and stops the thread. */
    void close() {
        for (DevicePort p : ports) {
            p.setDataPath(DataPath.NONE);
        }
        running = false;
        wakeup();
        if (runner != null) {
            runner.close();
        }
        if (epoll != null) {
            epoll.close();
        }
        wakeup.close();
    }
}
