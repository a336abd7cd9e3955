package vnet.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SchedTest {

    /** Field 19 (nice) of /proc/self/task/TID/stat; fields after the parenthesised name start at 3. */
    static int procNice(int tid) throws Exception {
        String stat = java.nio.file.Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(fields[19 - 3]);
    }

    @Test
    void setThreadNiceChangesOnlyThisThread() throws Exception {
        int mainTid = Sched.gettid();
        int mainNice = procNice(mainTid);
        AtomicReference<Object> result = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            try {
                int tid = Sched.gettid();
                assertNotEquals(mainTid, tid);
                int target = Math.min(19, procNice(tid) + 7);
                Sched.setThreadNice(target);
                assertEquals(target, procNice(tid), "the kernel's view");
                assertEquals(target, Sched.threadNice());
                result.set(target);
            } catch (Throwable t) {
                result.set(t);
            }
        }, "niced");
        worker.start();
        worker.join();
        if (result.get() instanceof Throwable t) {
            throw new AssertionError(t);
        }
        assertEquals(mainNice, procNice(mainTid), "other threads keep theirs");
    }

    @Test
    void gettidIsATaskOfThisProcess() {
        int tid = Sched.gettid();
        assertTrue(java.nio.file.Files.isDirectory(Path.of("/proc/self/task/" + tid)));
        assertEquals(tid, Sched.gettid());
    }

    @Test
    void badArgumentsNameTheError() {
        LinuxException e = assertThrows(LinuxException.class, () -> Sched.setpriority(99, 0, 0));
        assertEquals("EINVAL", e.errnoName());
        assertTrue(e.getMessage().startsWith("setpriority: EINVAL (Invalid argument)"), e.getMessage());
    }
}
