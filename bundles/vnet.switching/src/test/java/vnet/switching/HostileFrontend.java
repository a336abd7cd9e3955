package vnet.switching;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

import org.agrona.concurrent.UnsafeBuffer;

import vnet.linux.EventFd;
import vnet.linux.Fd;
import vnet.linux.Files;
import vnet.linux.Mapping;
import vnet.linux.Memfd;
import vnet.linux.Mman;
import vnet.linux.UnixSocket;
import vnet.transport.shm.vhost.VhostUserRequest;
import vnet.virtio.net.Features;
import vnet.virtqueue.Descriptor;

/**
 * A hand-written vhost-user front-end with split rings of 8 (VERSION_1 and INDIRECT_DESC, no protocol features:
 * rings start at their kick), its memory one 2 MiB file it can cut short.
 */
final class HostileFrontend implements AutoCloseable {
    static final long MIB = 1 << 20;
    static final long MEM = 2 * MIB;
    static final long UVA = 0x7f00_0000_0000L;
    static final int QUEUE = 8;
    static final int HDR = 12; // VERSION_1
    /** Ring placement in the guest-physical space (low: survives a cut to 1 MiB; high: is cut off). */
    static final long RX_RING = 0x0000;
    static final long TX_RING_LOW = 0x1000;
    static final long TX_RING_HIGH = MIB + 0x10000;
    static final long HIGH_BUFFER = MIB + 0x80000;

    /** What the memory is: a memfd, or a regular file unlinked after opening. */
    enum Backing { MEMFD, UNLINKED_FILE }

    final UnixSocket socket;
    final Fd file;
    final Mapping mapping;
    final UnsafeBuffer mem;
    final long txRing;
    final EventFd[] kicks = {EventFd.create(), EventFd.create()};
    final EventFd[] calls = {EventFd.create(), EventFd.create()};
    int txAvail;
    long fileSize = MEM;
    int rxAvail;

    HostileFrontend(Path dir, Path sock, Backing backing, long txRing) throws Exception {
        this(dir, sock, backing, txRing, Memfd.MFD_CLOEXEC);
    }

    HostileFrontend(Path dir, Path sock, Backing backing, long txRing, int memfdFlags) throws Exception {
        this.txRing = txRing;
        if (backing == Backing.MEMFD) {
            file = Memfd.create("hostile", MEM, memfdFlags);
        } else {
            Path p = dir.resolve("hostile-memory");
            try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                f.setLength(MEM);
            }
            file = Files.open(p, Files.O_RDWR);
            java.nio.file.Files.delete(p); // unlinked: only the descriptors keep it
        }
        mapping = Mman.mapShared(file, 0, MEM);
        mem = new UnsafeBuffer(mapping.address(), (int) MIB); // only the part that survives every cut
        socket = UnixSocket.connect(sock);
        socket.setReceiveTimeout(10_000);
    }

    void setUp() throws IOException {
        sendMemTable();
        setUpRings();
    }

    void sendMemTable() throws IOException {
        send(VhostUserRequest.SET_OWNER, le(0));
        send(VhostUserRequest.SET_FEATURES, le(8).putLong(Features.VERSION_1 | Features.RING_INDIRECT_DESC));
        send(VhostUserRequest.SET_MEM_TABLE, le(40).putInt(1).putInt(0).putLong(0).putLong(MEM).putLong(UVA).putLong(0),
                file.fd());
    }

    void setUpRings() throws IOException {
        for (int v = 0; v < 2; v++) {
            long ring = v == 0 ? RX_RING : txRing;
            send(VhostUserRequest.SET_VRING_NUM, le(8).putInt(v).putInt(QUEUE));
            // desc | avail at +0x400 | used at +0x800
            send(VhostUserRequest.SET_VRING_ADDR, le(40).putInt(v).putInt(0).putLong(UVA + ring)
                    .putLong(UVA + ring + 0x800).putLong(UVA + ring + 0x400).putLong(0));
            send(VhostUserRequest.SET_VRING_BASE, le(8).putInt(v).putInt(0));
            send(VhostUserRequest.SET_VRING_CALL, le(8).putLong(v), calls[v].fd().fd());
            send(VhostUserRequest.SET_VRING_KICK, le(8).putLong(v), kicks[v].fd().fd());
        }
    }

    /** One descriptor in slot {@code txAvail} of the transmit ring, made available (not kicked). */
    void postTx(long addr, int len, int flags) {
        post(txRing, txAvail++, addr, len, flags);
    }

    void postRx(long addr, int len) {
        post(RX_RING, rxAvail++, addr, len, Descriptor.F_WRITE);
    }

    private void post(long ring, int n, long addr, int len, int flags) {
        if (fileSize < MIB) {
            return; // our own view of the rings is gone too
        }
        int slot = n % QUEUE;
        int d = (int) ring + 16 * slot;
        mem.putLong(d, addr);
        mem.putInt(d + 8, len);
        mem.putShort(d + 12, (short) flags);
        mem.putShort(d + 14, (short) 0);
        int avail = (int) ring + 0x400;
        mem.putShort(avail + 4 + 2 * slot, (short) slot);
        // A release fence and a plain store, as a driver's virtio_store_mb: a seq-cst store (xchg) that faults on a cut
        // file is one HotSpot's SIGBUS handler cannot step over (it aborts the JVM).
        java.lang.invoke.VarHandle.releaseFence();
        mem.putShort(avail + 2, (short) (n + 1));
    }

    /** SET_MEM_TABLE again, with a new 2 MiB memfd at the same addresses (rings read as zeros there now). */
    void newMemTable() throws Exception {
        try (Fd fresh = Memfd.create("hostile-2", MEM)) {
            send(VhostUserRequest.SET_MEM_TABLE, le(40).putInt(1).putInt(0).putLong(0).putLong(MEM).putLong(UVA).putLong(0),
                    fresh.fd());
        }
    }

    /** A GET_FEATURES round trip: every message sent before it was handled. */
    void sync() throws IOException {
        send(VhostUserRequest.GET_FEATURES, le(0));
        byte[] reply = new byte[12 + 8];
        socket.recvExactly(reply, 0);
    }

    /** Cuts the memory file to {@code size} bytes (through /proc, as any process holding it could). */
    void cut(long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile("/proc/self/fd/" + file.fd(), "rw")) {
            f.setLength(size);
        }
        fileSize = size;
    }

    void kickTx() throws IOException {
        kicks[1].signal();
    }

    void send(int request, ByteBuffer payload, int... fds) throws IOException {
        ByteBuffer m = ByteBuffer.allocate(12 + payload.capacity()).order(ByteOrder.LITTLE_ENDIAN);
        m.putInt(request).putInt(1).putInt(payload.capacity()).put(payload.flip()).flip();
        socket.sendFully(m, fds);
    }

    @Override
    public void close() {
        socket.close();
        mapping.close();
        file.close();
        for (EventFd e : kicks) {
            e.close();
        }
        for (EventFd e : calls) {
            e.close();
        }
    }

    static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
