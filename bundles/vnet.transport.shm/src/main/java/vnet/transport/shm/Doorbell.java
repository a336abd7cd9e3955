package vnet.transport.shm;

import vnet.linux.EventFd;
import vnet.linux.LinuxException;

/**
 * A notification one side rings for the other: a kick (driver → device) or a call (device → driver),
 * carried by an eventfd. Ringing never throws on the data path: a failed write (the peer closed its end)
 * is counted instead.
 */
public final class Doorbell implements AutoCloseable {
    private final EventFd eventFd;
    private long failures;

    public Doorbell(EventFd eventFd) {
        this.eventFd = eventFd;
    }

    /** Rings the bell. */
    public void ring() {
        try {
            eventFd.signal();
        } catch (LinuxException e) {
            failures++;
        }
    }

    /** Takes the pending rings (non-blocking); returns how many came, 0 if none. */
    public long drain() {
        try {
            return eventFd.drain();
        } catch (LinuxException e) {
            failures++;
            return 0;
        }
    }

    /** The file descriptor, to wait on with epoll or to pass over a socket. */
    public int fd() {
        return eventFd.fd().fd();
    }

    public long failures() {
        return failures;
    }

    @Override
    public void close() {
        eventFd.close();
    }
}
