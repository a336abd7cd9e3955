package vnet.transport.shm.vhost;

import static vnet.transport.shm.vhost.VhostUserRequest.SET_MEM_TABLE;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_PROTOCOL_FEATURES;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_VRING_ADDR;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import vnet.linux.Fd;
import vnet.linux.LinuxException;
import vnet.linux.UnixSocket;

/**
 * The front-end's end of the vhost-user socket: one method per message shape it sends (a u64 request, a u64 or
 * vring-state set, a vring address, a vring eventfd, the memory table) and the replies it reads. Sets wait for the
 * back-end's acknowledgement once REPLY_ACK is negotiated ({@link #useReplyAck}). Used by one thread at a time: set-up,
 * then {@link VhostUserFrontend#close()}.
 */
final class FrontendChannel implements AutoCloseable {
    private static final Logger LOG = System.getLogger(VhostUserFrontend.class.getName());

    private final Path socketPath;
    private final UnixSocket socket;
    private final VhostUserMessage message = new VhostUserMessage();
    private boolean replyAck;

    FrontendChannel(Path socketPath, UnixSocket socket) {
        this.socketPath = socketPath;
        this.socket = socket;
    }

    Path socketPath() {
        return socketPath;
    }

    /** The socket's descriptor, for a data-path epoll that watches for the back-end hanging up. */
    Fd fd() {
        return socket.fd();
    }

    /** Send and receive timeout in milliseconds; 0 receives without one. */
    void setTimeouts(long receiveMillis, long sendMillis) throws LinuxException {
        socket.setReceiveTimeout(receiveMillis);
        socket.setSendTimeout(sendMillis);
    }

    void setReceiveTimeout(long millis) throws LinuxException {
        socket.setReceiveTimeout(millis);
    }

    /** From now on every set asks for an acknowledgement (PROTOCOL_F_REPLY_ACK was negotiated). */
    void useReplyAck(boolean value) {
        replyAck = value;
    }

    /** Sends a request without payload and returns its u64 reply (GET_FEATURES, GET_QUEUE_NUM ...). */
    long requestU64(int request) throws IOException {
        message.beginRequest(request, 0, 0);
        transmit(request);
        return receiveU64(request);
    }

    /** Sends a set without payload (SET_OWNER). */
    void sendNone(int request) throws IOException {
        message.beginRequest(request, flagsForSet(), 0);
        transmit(request);
        awaitAck(request);
    }

    void sendU64(int request, long value) throws IOException {
        // SET_PROTOCOL_FEATURES itself is never acknowledged: REPLY_ACK only holds once it is set.
        message.beginRequest(request, request == SET_PROTOCOL_FEATURES ? 0 : flagsForSet(), 8);
        message.putU64(0, value);
        transmit(request);
        if (request != SET_PROTOCOL_FEATURES) {
            awaitAck(request);
        }
    }

    void sendVringState(int request, int index, int num) throws IOException {
        message.beginRequest(request, flagsForSet(), 8);
        message.putU32(0, index);
        message.putU32(4, num);
        transmit(request);
        awaitAck(request);
    }

    /** SET_VRING_ADDR with the three areas as user addresses (the front-end's own mapping). */
    void sendVringAddr(int index, long descTable, long deviceArea, long driverArea) throws IOException {
        message.beginRequest(SET_VRING_ADDR, flagsForSet(), 40);
        message.putU32(0, index);
        message.putU32(4, 0);
        message.putU64(8, descTable);
        message.putU64(16, deviceArea);
        message.putU64(24, driverArea);
        message.putU64(32, 0);
        transmit(SET_VRING_ADDR);
        awaitAck(SET_VRING_ADDR);
    }

    /** SET_VRING_KICK or SET_VRING_CALL: the queue index and its eventfd. */
    void sendVringFd(int request, int index, Fd fd) throws IOException {
        message.beginRequest(request, flagsForSet(), 8);
        message.putU64(0, index);
        transmit(request, fd.fd());
        awaitAck(request);
    }

    /** SET_MEM_TABLE with one region: guest physical address 0, {@code size} bytes, mapped here at {@code userAddress}. */
    void sendMemTable(long size, long userAddress, Fd fd) throws IOException {
        message.beginRequest(SET_MEM_TABLE, flagsForSet(), 8 + 32);
        message.putU32(0, 1);
        message.putU32(4, 0);
        message.putU64(8, 0);
        message.putU64(16, size);
        message.putU64(24, userAddress);
        message.putU64(32, 0);
        transmit(SET_MEM_TABLE, fd.fd());
        awaitAck(SET_MEM_TABLE);
    }

    /** Sends {@code request} (GET_VRING_BASE) for queue {@code index} and reads its vring-state reply. */
    void requestVringState(int request, int index) throws IOException {
        message.beginRequest(request, 0, 8);
        message.putU32(0, index);
        message.putU32(4, 0);
        transmit(request);
        ByteBuffer bytes = message.bytes();
        bytes.clear().limit(VhostUserProtocol.HEADER_SIZE);
        if (socket.recvExactly(bytes, 0).eof()) {
            throw new VhostUserException("back-end closed the connection");
        }
        if (message.validateHeader() != null || message.request() != request || message.size() != 8) {
            throw new VhostUserException("bad reply to " + VhostUserRequest.nameOf(request));
        }
        bytes.limit(VhostUserProtocol.HEADER_SIZE + 8);
        socket.recvExactly(bytes, 0);
    }

    private int flagsForSet() {
        return replyAck ? VhostUserProtocol.FLAG_NEED_REPLY : 0;
    }

    private void transmit(int request, int... fds) throws IOException {
        ByteBuffer bytes = message.bytes();
        bytes.clear().limit(message.length());
        LOG.log(Level.TRACE, "vhost-user front-end {0}: sending {1}", socketPath, VhostUserRequest.nameOf(request));
        try {
            socket.sendFully(bytes, fds);
        } catch (LinuxException e) {
            throw new VhostUserException("cannot send " + VhostUserRequest.nameOf(request) + " to " + socketPath + ": " + e.getMessage());
        }
    }

    private void awaitAck(int request) throws IOException {
        if ((message.flags() & VhostUserProtocol.FLAG_NEED_REPLY) == 0) {
            return;
        }
        long status = receiveU64(request);
        if (status != 0) {
            throw new VhostUserException("back-end at " + socketPath + " refused " + VhostUserRequest.nameOf(request)
                    + " (status " + status + ")");
        }
    }

    /** Receives the reply to {@code request}, a u64. */
    private long receiveU64(int request) throws IOException {
        String name = VhostUserRequest.nameOf(request);
        ByteBuffer bytes = message.bytes();
        bytes.clear().limit(VhostUserProtocol.HEADER_SIZE);
        UnixSocket.Received header;
        try {
            header = socket.recvExactly(bytes, 0);
        } catch (LinuxException e) {
            throw new VhostUserException("no reply to " + name + " from " + socketPath + ": " + e.getMessage());
        }
        if (header.eof()) {
            throw new VhostUserException("back-end at " + socketPath + " closed the connection instead of replying to " + name);
        }
        String bad = message.validateHeader();
        if (bad != null) {
            throw new VhostUserException("bad reply to " + name + ": " + bad);
        }
        if (message.request() != request || (message.flags() & VhostUserProtocol.FLAG_REPLY) == 0) {
            throw new VhostUserException("expected the reply to " + name + ", got " + VhostUserRequest.nameOf(message.request())
                    + " with flags 0x" + Integer.toHexString(message.flags()));
        }
        int size = message.size();
        if (size > 0) {
            bytes.limit(VhostUserProtocol.HEADER_SIZE + size);
            if (socket.recvExactly(bytes, 0).eof()) {
                throw new VhostUserException("reply to " + name + " ended before its payload");
            }
        }
        if (size != 8) {
            throw new VhostUserException("reply to " + name + " has " + size + " payload bytes, expected 8");
        }
        return message.u64(0);
    }

    @Override
    public void close() {
        socket.close();
    }
}
