package vnet.linux;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A reusable array of datagram headers for {@link UdpSocket#receive} and {@link UdpSocket#send}
 * ({@code recvmmsg}/{@code sendmmsg}): per message a {@code struct mmsghdr}, one {@code iovec} that points at the
 * caller's buffer, and an IPv4 {@code sockaddr_in} (the destination to send to, or the source received from).
 * Allocated once, native memory; setting and reading fields allocates nothing. Several messages may point at one
 * buffer (one datagram sent to several destinations). One thread at a time.
 */
public final class DatagramBatch {
    // LP64 Linux: struct msghdr (56 bytes) then msg_len, padded to 64; iovec 16; sockaddr_in 16.
    private static final int MMSGHDR_SIZE = 64, MSG_NAME = 0, MSG_NAMELEN = 8, MSG_IOV = 16, MSG_IOVLEN = 24,
            MSG_LEN = 56;
    private static final int IOVEC_SIZE = 16, SOCKADDR_SIZE = 16;
    private static final short AF_INET = 2;

    private final int capacity;
    private final Memory memory;
    private final long address;
    private final ByteBuffer view;
    private final ByteBuffer network;
    private final int iovecs;
    private final int names;

    /** Room for {@code capacity} messages. */
    public DatagramBatch(int capacity) {
        if (capacity < 1 || capacity > 1024) {
            throw new IllegalArgumentException("capacity " + capacity + " is out of range 1..1024");
        }
        this.capacity = capacity;
        this.iovecs = capacity * MMSGHDR_SIZE;
        this.names = iovecs + capacity * IOVEC_SIZE;
        this.memory = new Memory((long) names + (long) capacity * SOCKADDR_SIZE);
        memory.clear();
        this.address = Pointer.nativeValue(memory);
        this.view = memory.getByteBuffer(0, memory.size()).order(ByteOrder.nativeOrder());
        this.network = memory.getByteBuffer(0, memory.size()).order(ByteOrder.BIG_ENDIAN);
        for (int i = 0; i < capacity; i++) {
            int h = i * MMSGHDR_SIZE;
            view.putLong(h + MSG_NAME, address + names + (long) i * SOCKADDR_SIZE);
            view.putInt(h + MSG_NAMELEN, SOCKADDR_SIZE);
            view.putLong(h + MSG_IOV, address + iovecs + (long) i * IOVEC_SIZE);
            view.putLong(h + MSG_IOVLEN, 1);
            view.putShort(names + i * SOCKADDR_SIZE, AF_INET);
        }
    }

    /** How many messages the batch holds. */
    public int capacity() {
        return capacity;
    }

    /** Points message {@code i} at {@code length} bytes of native memory at {@code bufferAddress}. */
    public void buffer(int i, long bufferAddress, int length) {
        int v = iovecs + check(i) * IOVEC_SIZE;
        view.putLong(v, bufferAddress);
        view.putLong(v + 8, length);
    }

    /** Sets message {@code i}'s IPv4 destination (host-order address and port). */
    public void destination(int i, int ipv4, int port) {
        int n = names + check(i) * SOCKADDR_SIZE;
        network.putShort(n + 2, (short) port);
        network.putInt(n + 4, ipv4);
        view.putInt(i * MMSGHDR_SIZE + MSG_NAMELEN, SOCKADDR_SIZE);
    }

    /** Bytes received into (or sent from) message {@code i} by the last call. */
    public int length(int i) {
        return view.getInt(check(i) * MMSGHDR_SIZE + MSG_LEN);
    }

    /** The IPv4 source address (host order) message {@code i} was received from. */
    public int sourceAddress(int i) {
        return network.getInt(names + check(i) * SOCKADDR_SIZE + 4);
    }

    /** The UDP source port message {@code i} was received from. */
    public int sourcePort(int i) {
        return network.getShort(names + check(i) * SOCKADDR_SIZE + 2) & 0xFFFF;
    }

    /** Before a receive: the kernel shortens msg_namelen, so give each of the first {@code count} its room back. */
    void resetNames(int count) {
        for (int i = 0; i < count; i++) {
            view.putInt(i * MMSGHDR_SIZE + MSG_NAMELEN, SOCKADDR_SIZE);
        }
    }

    /** Address of message {@code i}'s {@code struct mmsghdr}. */
    long headerAddress(int i) {
        return address + (long) i * MMSGHDR_SIZE;
    }

    private int check(int i) {
        if (i < 0 || i >= capacity) {
            throw new IndexOutOfBoundsException("message " + i + " of " + capacity);
        }
        return i;
    }
}
