package vnet.transport.shm.vhost;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One vhost-user message: the 12-byte header, its payload and the file descriptors that came with it.
 * Reused for every message of a connection; {@link #validate()} checks the header against the
 * request's payload kind before any handler reads a field.
 */
public final class VhostUserMessage {
    private final ByteBuffer bytes =
            ByteBuffer.allocate(VhostUserProtocol.HEADER_SIZE + VhostUserProtocol.MAX_PAYLOAD).order(ByteOrder.LITTLE_ENDIAN);
    private final int[] fds = new int[VhostUserProtocol.MAX_FDS];
    private int fdCount;

    /** The whole buffer: header at 0, payload at {@link VhostUserProtocol#HEADER_SIZE}. */
    public ByteBuffer bytes() {
        return bytes;
    }

    public int request() {
        return bytes.getInt(0);
    }

    public int flags() {
        return bytes.getInt(4);
    }

    /** The payload size the header announces. */
    public int size() {
        return bytes.getInt(8);
    }

    public boolean needsReply() {
        return (flags() & VhostUserProtocol.FLAG_NEED_REPLY) != 0;
    }

    /** File descriptors received with this message; the receiver owns them until it hands them on. */
    public int[] fds() {
        return fds;
    }

    public int fdCount() {
        return fdCount;
    }

    public void setFdCount(int count) {
        fdCount = count;
    }

    /** Reads a little-endian u64 at a payload offset. */
    public long u64(int payloadOffset) {
        return bytes.getLong(VhostUserProtocol.HEADER_SIZE + payloadOffset);
    }

    /** Reads a little-endian u32 at a payload offset. */
    public int u32(int payloadOffset) {
        return bytes.getInt(VhostUserProtocol.HEADER_SIZE + payloadOffset);
    }

    /**
     * Checks the header of a received message; returns null when it is well formed, else the reason.
     * The payload size must fit the buffer and match the request's payload kind.
     */
    public String validateHeader() {
        int version = flags() & VhostUserProtocol.VERSION_MASK;
        if (version != VhostUserProtocol.VERSION) {
            return "unsupported protocol version " + version + " in " + VhostUserRequest.nameOf(request());
        }
        int size = size();
        if (size < 0 || size > VhostUserProtocol.MAX_PAYLOAD) {
            return VhostUserRequest.nameOf(request()) + " announces a payload of " + Integer.toUnsignedString(size)
                    + " bytes (at most " + VhostUserProtocol.MAX_PAYLOAD + ")";
        }
        return null;
    }

    /** Checks the payload size against the request's kind; returns null when right, else the reason. */
    public String validatePayload() {
        int request = request();
        VhostUserRequest.Payload kind = VhostUserRequest.payloadOf(request);
        if (kind == null) {
            return "unknown request " + request;
        }
        int size = size();
        String name = VhostUserRequest.nameOf(request);
        switch (kind) {
            case MEM_TABLE: {
                if (size < 8) {
                    return name + " payload of " + size + " bytes is shorter than its 8-byte head";
                }
                int regions = u32(0);
                if (regions < 1 || regions > VhostUserProtocol.MAX_MEM_TABLE_REGIONS) {
                    return name + " with " + Integer.toUnsignedString(regions) + " regions (1.."
                            + VhostUserProtocol.MAX_MEM_TABLE_REGIONS + ")";
                }
                if (size < 8 + 32 * regions) {
                    return name + " payload of " + size + " bytes is too short for " + regions + " regions";
                }
                return null;
            }
            case CONFIG: {
                if (size < 12) {
                    return name + " payload of " + size + " bytes is shorter than its 12-byte head";
                }
                int configSize = u32(4);
                if (configSize < 0 || configSize > size - 12) {
                    return name + " config size " + Integer.toUnsignedString(configSize) + " exceeds its payload";
                }
                return null;
            }
            case ANY:
                return null;
            default:
                // Some front-ends send a u64 payload where none is needed (e.g. RESET_OWNER); accept larger, not shorter.
                return size < kind.size ? name + " payload of " + size + " bytes, expected " + kind.size : null;
        }
    }

    /** Prepares this buffer as a reply to the request it holds, with the given payload size. */
    public void beginReply(int payloadSize) {
        bytes.clear(); // the limit of the received message would refuse the reply's payload
        bytes.putInt(4, VhostUserProtocol.VERSION | VhostUserProtocol.FLAG_REPLY);
        bytes.putInt(8, payloadSize);
    }

    /** Writes a u64 reply payload (GET_FEATURES, REPLY_ACK, ...). */
    public void replyU64(long value) {
        beginReply(8);
        bytes.putLong(VhostUserProtocol.HEADER_SIZE, value);
    }

    /** Length in bytes of the message as it stands (header + payload). */
    public int length() {
        return VhostUserProtocol.HEADER_SIZE + size();
    }

    /** Starts a request message (front-end side). */
    public void beginRequest(int request, int flags, int payloadSize) {
        bytes.clear();
        bytes.putInt(0, request);
        bytes.putInt(4, VhostUserProtocol.VERSION | flags);
        bytes.putInt(8, payloadSize);
        fdCount = 0;
    }

    /** Writes a little-endian u64 at a payload offset. */
    public void putU64(int payloadOffset, long value) {
        bytes.putLong(VhostUserProtocol.HEADER_SIZE + payloadOffset, value);
    }

    /** Writes a little-endian u32 at a payload offset. */
    public void putU32(int payloadOffset, int value) {
        bytes.putInt(VhostUserProtocol.HEADER_SIZE + payloadOffset, value);
    }
}
