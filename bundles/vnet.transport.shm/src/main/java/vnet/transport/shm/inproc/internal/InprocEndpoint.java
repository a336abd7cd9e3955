package vnet.transport.shm.inproc.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import vnet.linux.Epoll;
import vnet.linux.LinuxException;
import vnet.transport.shm.Doorbell;
import vnet.transport.shm.inproc.Endpoint;
import vnet.virtio.net.FrameBuffer;
import vnet.virtio.net.NetDriver;
import vnet.virtio.net.VirtioNetHeader;

/**
 * The client's side of an {@link InprocDevicePort}: a {@link NetDriver} over the port's virtqueues. Every
 * call holds this object's lock, so {@link #close()} never frees memory under a call; {@link #await} waits
 * in epoll on the receive call doorbell without the lock, and close wakes it first.
 */
final class InprocEndpoint implements Endpoint {
    private static final Logger LOG = System.getLogger(InprocEndpoint.class.getName());
    /** Longest single epoll wait, so that interrupts and close are seen soon. */
    private static final int WAIT_SLICE_MS = 100;

    private final InprocDevicePort port;
    private final NetDriver driver;
    private final Doorbell rxCall;
    private final Doorbell txKick;
    private final int maxFrame;
    private final Epoll epoll;
    private final VirtioNetHeader txHeader = new VirtioNetHeader();
    private final FrameBuffer rxFrame = new FrameBuffer();
    private static final byte[] NOTHING = new byte[1];
    private final UnsafeBuffer wrap = new UnsafeBuffer(NOTHING);
    private boolean closed;
    private int waiters;
    private long rxDrops;

    InprocEndpoint(InprocDevicePort port, NetDriver driver, Doorbell rxCall, Doorbell txKick, int maxFrame)
            throws LinuxException {
        this.port = port;
        this.driver = driver;
        this.rxCall = rxCall;
        this.txKick = txKick;
        this.maxFrame = maxFrame;
        this.epoll = Epoll.create(1);
        epoll.add(rxCall.fd(), Epoll.EPOLLIN, 0);
    }

    @Override
    public String portName() {
        return port.name();
    }

    @Override
    public long mac() {
        return port.mac();
    }

    @Override
    public int maxFrameLength() {
        return maxFrame;
    }

    @Override
    public synchronized boolean send(DirectBuffer frame, int offset, int length) {
        if (closed) {
            return false;
        }
        if (length < 0 || length > maxFrame) {
            throw new IllegalArgumentException("frame of " + length + " bytes; at most " + maxFrame);
        }
        if (!driver.send(txHeader, frame, offset, length)) {
            return false;
        }
        if (driver.kickTx()) {
            txKick.ring();
        }
        return true;
    }

    @Override
    public synchronized boolean send(byte[] frame, int offset, int length) {
        wrap.wrap(frame);
        try {
            return send(wrap, offset, length);
        } finally {
            wrap.wrap(NOTHING);
        }
    }

    @Override
    public synchronized int receive(MutableDirectBuffer dst, int offset) {
        if (closed) {
            return NONE;
        }
        try {
            while (true) {
                int n = driver.receive(rxFrame);
                if (n == NetDriver.NONE) {
                    return NONE;
                }
                if (n == NetDriver.ERROR || n > dst.capacity() - offset) {
                    rxDrops++;
                    continue;
                }
                dst.putBytes(offset, rxFrame.buffer(), 0, n);
                return n;
            }
        } finally {
            if (driver.postRxBuffers() > 0) {
                driver.kickRx();
            }
        }
    }

    @Override
    public synchronized int receive(byte[] dst, int offset) {
        wrap.wrap(dst);
        try {
            return receive(wrap, offset);
        } finally {
            wrap.wrap(NOTHING);
        }
    }

    @Override
    public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (true) {
            synchronized (this) {
                if (closed) {
                    return false;
                }
                if (driver.rxQueue().hasUsed() || driver.rxQueue().enableInterrupts()) {
                    driver.rxQueue().disableInterrupts();
                    return true;
                }
                waiters++;
            }
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            try {
                epoll.epollWait((int) Math.max(0, Math.min(left, WAIT_SLICE_MS)));
            } catch (LinuxException e) {
                LOG.log(Level.WARNING, "inproc {0}: epoll_wait failed: {1}", port.name(), e.getMessage());
            }
            synchronized (this) {
                waiters--;
                if (closed) {
                    notifyAll();
                    return false;
                }
                rxCall.drain();
                if (driver.rxQueue().hasUsed()) {
                    driver.rxQueue().disableInterrupts();
                    return true;
                }
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            if (deadline - System.nanoTime() <= 0) {
                return false;
            }
        }
    }

    @Override
    public synchronized boolean isOpen() {
        return !closed;
    }

    @Override
    public synchronized long rxFrames() {
        return driver.rxFrames();
    }

    @Override
    public synchronized long txFrames() {
        return driver.txFrames();
    }

    @Override
    public synchronized long rxDrops() {
        return rxDrops + driver.rxErrors();
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            rxCall.ring(); // wakes a waiter in epoll
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (waiters > 0 && deadline - System.nanoTime() > 0) {
                try {
                    wait(WAIT_SLICE_MS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        port.detach(this);
        epoll.close();
    }

    @Override
    public String toString() {
        return "endpoint of " + port;
    }
}
