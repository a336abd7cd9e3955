package vnet.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The hot calls allocate nothing on the Java heap: signal, drain, epoll_wait, read and write. */
class NoAllocationTest {

    @Test
    void hotPathsDoNotAllocate() throws Exception {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        try (Epoll epoll = Epoll.create(4); EventFd kick = EventFd.create(); EventFd other = EventFd.create();
             Fd nul = Files.open("/dev/null", Files.O_RDWR); Fd zero = Files.open("/dev/zero", Files.O_RDONLY)) {
            epoll.add(kick.fd().fd(), Epoll.EPOLLIN, 42);
            ByteBuffer frame = ByteBuffer.allocateDirect(1514);
            long sum = 0;
            for (int round = 0; round < 3; round++) {
                long before = threads.getThreadAllocatedBytes(id);
                for (int i = 0; i < 20_000; i++) {
                    kick.signal();
                    int n = epoll.epollWait(0);
                    sum += n + epoll.token(0) + kick.drain() + other.drain();
                    frame.clear();
                    sum += Files.read(zero.fd(), frame);
                    frame.flip();
                    sum += Files.write(nul.fd(), frame);
                }
                long allocated = threads.getThreadAllocatedBytes(id) - before;
                if (round == 2) {
                    assertTrue(allocated < 1024, allocated + " bytes allocated in 20000 rounds");
                }
            }
            assertEquals(20_000L * 3 * (1 + 42 + 1 + 0 + 1514 + 1514), sum);
        }
    }
}
