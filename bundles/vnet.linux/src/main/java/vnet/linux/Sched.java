package vnet.linux;

/**
 * Thread ids, nice values and CPU affinity ({@code gettid(2)}, {@code setpriority(2)}, {@code sched_setaffinity(2)}),
 * for data-path threads' priorities and pinning.
 */
public final class Sched {
    /** {@code which} for a process or, with a thread id, a thread. */ public static final int PRIO_PROCESS = 0;
    /** {@code which} for a process group. */ public static final int PRIO_PGRP = 1;
    /** {@code which} for a user. */ public static final int PRIO_USER = 2;

    private Sched() {}

    /** The calling thread's kernel thread id (as in {@code /proc/self/task/<tid>}). */
    public static int gettid() {
        return (int) LibC.syscall(Arch.SYS_GETTID, 0, 0, 0);
    }

    /**
     * Sets the calling thread's nice value (-20 highest priority .. 19 lowest). Raising priority (a lower value
     * than now) needs CAP_SYS_NICE or RLIMIT_NICE, else EACCES or EPERM.
     */
    public static void setThreadNice(int nice) throws LinuxException {
        setpriority(PRIO_PROCESS, gettid(), nice);
    }

    /** The calling thread's nice value. */
    public static int threadNice() throws LinuxException {
        return getpriority(PRIO_PROCESS, gettid());
    }

    /** {@code setpriority(which, who, nice)}; with {@link #PRIO_PROCESS}, {@code who} may be a thread id. */
    public static void setpriority(int which, int who, int nice) throws LinuxException {
        if (LibC.setpriority(which, who, nice) < 0) {
            throw LinuxException.last("setpriority", "which " + which + ", who " + who + ", nice " + nice);
        }
    }

    /** The nice value of {@code who}; read with the raw system call, which cannot confuse -1 with failure. */
    public static int getpriority(int which, int who) throws LinuxException {
        long raw = LibC.syscall(Arch.SYS_GETPRIORITY, which, who, 0);
        if (raw < 0) {
            throw LinuxException.last("getpriority", "which " + which + ", who " + who);
        }
        return 20 - (int) raw;
    }

    /** CPUs a mask can name: the kernel's largest configurable count (CONFIG_NR_CPUS). */
    private static final int MASK_CPUS = 8192;

    /**
     * Pins the calling thread to {@code cpus} ({@code sched_setaffinity(0, ...)}, which affects only this thread).
     *
     * @throws LinuxException e.g. EINVAL when none of the CPUs is online or allowed
     */
    public static void setThreadAffinity(int... cpus) throws LinuxException {
        long[] mask = new long[MASK_CPUS / 64];
        StringBuilder list = new StringBuilder();
        for (int cpu : cpus) {
            if (cpu < 0 || cpu >= MASK_CPUS) {
                throw new IllegalArgumentException("CPU " + cpu + " outside 0.." + (MASK_CPUS - 1));
            }
            mask[cpu >>> 6] |= 1L << (cpu & 63);
            list.append(list.length() == 0 ? "" : ",").append(cpu);
        }
        if (LibC.sched_setaffinity(0, mask.length * 8L, mask) < 0) {
            throw LinuxException.last("sched_setaffinity", "cpus " + list);
        }
    }

    /** The CPUs the calling thread may run on ({@code sched_getaffinity(0, ...)}). */
    public static int[] threadAffinity() throws LinuxException {
        long[] mask = new long[MASK_CPUS / 64];
        if (LibC.sched_getaffinity(0, mask.length * 8L, mask) < 0) {
            throw LinuxException.last("sched_getaffinity", "");
        }
        int n = 0;
        for (long m : mask) {
            n += Long.bitCount(m);
        }
        int[] cpus = new int[n];
        int k = 0;
        for (int cpu = 0; cpu < MASK_CPUS; cpu++) {
            if ((mask[cpu >>> 6] & (1L << (cpu & 63))) != 0) {
                cpus[k++] = cpu;
            }
        }
        return cpus;
    }
}
