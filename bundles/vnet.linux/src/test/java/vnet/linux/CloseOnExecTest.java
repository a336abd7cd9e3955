package vnet.linux;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** No descriptor this bundle opens leaks into a child process (a forked QEMU, say). */
class CloseOnExecTest {
    private static final int O_CLOEXEC = 02000000;

    /** The "flags:" line of /proc/self/fdinfo/FD (octal) has O_CLOEXEC. */
    static boolean isCloseOnExec(int fd) throws Exception {
        for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return (Integer.parseInt(line.substring(6).trim(), 8) & O_CLOEXEC) != 0;
            }
        }
        throw new AssertionError("no flags for fd " + fd);
    }

    @Test
    void everyKindOfDescriptorIsCloseOnExec(@TempDir Path dir) throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (Fd memfd = Memfd.create("m", 4096); Fd dup = memfd.dup(); EventFd eventFd = EventFd.create();
             Epoll epoll = Epoll.create(1); Fd file = Files.open("/dev/null", Files.O_RDONLY);
             UnixSocket server = UnixSocket.listen(dir.resolve("s"), 1);
             UnixSocket client = UnixSocket.connect(dir.resolve("s")); UnixSocket accepted = server.accept();
             UnixSocket a = pair[0]; UnixSocket b = pair[1]) {
            for (Fd fd : new Fd[] {memfd, dup, eventFd.fd(), epoll.fd(), file, server.fd(), client.fd(),
                    accepted.fd(), a.fd(), b.fd()}) {
                assertTrue(isCloseOnExec(fd.fd()), fd.toString());
            }
        }
    }
}
