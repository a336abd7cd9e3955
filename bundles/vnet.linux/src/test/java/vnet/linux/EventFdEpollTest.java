package vnet.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

class EventFdEpollTest {
    private static long sink;

    /** A read of a mapping, then a signal: compiled, the read's SIGBUS surfaces later, possibly at the signal. */
    private static void readThenSignal(ByteBuffer mapped, int at, EventFd doorbell) throws LinuxException {
        sink += mapped.getLong(at);
        doorbell.signal();
    }

    /**
     * HotSpot raises a compiled read's SIGBUS (a mapped file cut short) at a later point of the thread, and at a
     * native call that can be before the write: the wake-up must not be lost with it, or the waiter sleeps on.
     */
    @Test
    void signalThatAnEarlierMemoryFaultSurfacesInStillWakes() throws Exception {
        long page = Mman.pageSize();
        int surfacedInSignal = 0;
        try (Fd memfd = Memfd.create("vnet-fault", 2 * page);
                Mapping m = Mman.mapShared(memfd, 0, 2 * page);
                EventFd doorbell = EventFd.create()) {
            ByteBuffer mapped = m.byteBuffer(0, (int) (2 * page));
            for (int i = 0; i < 30_000; i++) { // until the JIT compiles it (the interpreter raises it at the read)
                readThenSignal(mapped, (i & 63) * 8, doorbell);
                doorbell.drain();
            }
            assertEquals(0, LibC.ftruncate(memfd.fd(), page));
            for (int attempt = 0; attempt < 20; attempt++) {
                try {
                    readThenSignal(mapped, (int) page + 8 * attempt, doorbell);
                } catch (InternalError e) {
                    boolean inSignal = Arrays.stream(e.getStackTrace())
                            .anyMatch(f -> f.getClassName().equals(EventFd.class.getName()));
                    if (inSignal) {
                        surfacedInSignal++;
                        assertTrue(doorbell.drain() >= 1, "the signal the fault surfaced in still woke the waiter");
                    }
                }
                doorbell.drain();
            }
        }
        assumeTrue(surfacedInSignal > 0, "this JVM raised the fault elsewhere than in the signal: nothing to check");
    }

    @Test
    void drainReturnsTheSignalCountThenZero() throws Exception {
        try (EventFd doorbell = EventFd.create()) {
            assertEquals(0, doorbell.drain(), "nothing yet: EAGAIN is 0, not an error");
            doorbell.signal();
            doorbell.signal();
            doorbell.signal();
            assertEquals(3, doorbell.drain());
            assertEquals(0, doorbell.drain());
            doorbell.signal();
            assertEquals(1, doorbell.drain());
        }
    }

    @Test
    void signalAfterCloseFailsClearly() throws Exception {
        EventFd doorbell = EventFd.create();
        doorbell.close();
        doorbell.close();
        assertThrows(IllegalStateException.class, doorbell::signal);
    }

    @Test
    void epollReportsTheSignalledEventFdWithItsToken() throws Exception {
        try (Epoll epoll = Epoll.create(8); EventFd a = EventFd.create(); EventFd b = EventFd.create()) {
            epoll.add(a.fd().fd(), Epoll.EPOLLIN, 0x1_0000_0001L);
            epoll.add(b.fd().fd(), Epoll.EPOLLIN, -2L);

            b.signal();
            assertEquals(1, epoll.epollWait(1000));
            assertEquals(-2L, epoll.token(0));
            assertEquals(Epoll.EPOLLIN, epoll.events(0));
            assertEquals(1, b.drain());

            a.signal();
            b.signal();
            assertEquals(2, epoll.epollWait(1000));
            long t0 = epoll.tokens()[0], t1 = epoll.tokens()[1];
            assertTrue((t0 == 0x1_0000_0001L && t1 == -2L) || (t1 == 0x1_0000_0001L && t0 == -2L));
            a.drain();
            b.drain();

            epoll.modify(a.fd().fd(), Epoll.EPOLLIN, 77L);
            a.signal();
            assertEquals(1, epoll.epollWait(1000));
            assertEquals(77L, epoll.token(0));
            a.drain();

            epoll.remove(a.fd().fd());
            a.signal();
            assertEquals(0, epoll.epollWait(0), "removed descriptors are not reported");
        }
    }

    @Test
    void epollTimesOutWhenNothingIsSignalled() throws Exception {
        try (Epoll epoll = Epoll.create(4); EventFd a = EventFd.create()) {
            epoll.add(a.fd().fd(), Epoll.EPOLLIN, 1);
            long start = System.nanoTime();
            assertEquals(0, epoll.epollWait(50));
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            assertTrue(waitedMs >= 45, "waited " + waitedMs + " ms");
            assertEquals(0, epoll.epollWait(0));
        }
    }

    @Test
    void epollWakesAcrossThreads() throws Exception {
        try (Epoll epoll = Epoll.create(4); EventFd kick = EventFd.create()) {
            epoll.add(kick.fd().fd(), Epoll.EPOLLIN, 5);
            Thread kicker = new Thread(() -> {
                try {
                    Thread.sleep(20);
                    kick.signal();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            kicker.start();
            assertEquals(1, epoll.epollWait(5000));
            assertEquals(5, epoll.token(0));
            kicker.join();
        }
    }

    @Test
    void epollErrorsCarryNames() throws Exception {
        try (Epoll epoll = Epoll.create(1); EventFd a = EventFd.create()) {
            epoll.add(a.fd().fd(), Epoll.EPOLLIN, 1);
            LinuxException twice = assertThrows(LinuxException.class, () -> epoll.add(a.fd().fd(), Epoll.EPOLLIN, 1));
            assertEquals("EEXIST", twice.errnoName());
            LinuxException missing = assertThrows(LinuxException.class, () -> epoll.remove(987_654));
            assertEquals("EBADF", missing.errnoName());
            assertTrue(missing.getMessage().startsWith("epoll_ctl(DEL): EBADF (Bad file descriptor)"), missing.getMessage());
        }
    }
}
