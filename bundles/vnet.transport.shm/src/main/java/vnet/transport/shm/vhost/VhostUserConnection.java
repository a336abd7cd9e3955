package vnet.transport.shm.vhost;

import java.io.EOFException;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;

import vnet.linux.Fd;
import vnet.linux.UnixSocket;

/**
 * Reads vhost-user messages from one connected socket and hands each to a {@link VhostUserBackend},
 * sending the replies it prepares. A malformed or hostile message ends this connection with a logged
 * reason; nothing outside this connection's port notices.
 */
public final class VhostUserConnection implements Runnable, AutoCloseable {
    private static final Logger LOG = System.getLogger(VhostUserConnection.class.getName());

    private final UnixSocket socket;
    private final VhostUserBackend backend;
    private final VhostUserMessage message = new VhostUserMessage();
    private volatile String closeReason;
    /** Why vnet ended the connection itself ({@link #close(String)}), which then is its close reason. */
    private volatile String closedBecause;

    public VhostUserConnection(UnixSocket socket, VhostUserBackend backend) {
        this.socket = socket;
        this.backend = backend;
    }

    /** Serves messages until the front-end disconnects, a message is refused, or {@link #close()}. */
    @Override
    public void run() {
        String reason = "front-end disconnected";
        try {
            while (receive()) {
                try {
                    boolean reply = backend.handle(message);
                    if (reply) {
                        send();
                    }
                } finally {
                    closeUnclaimedFds();
                }
            }
        } catch (VhostUserException e) {
            reason = e.getMessage();
        } catch (EOFException e) {
            reason = "truncated message: " + e.getMessage();
        } catch (IOException e) {
            reason = "socket error: " + e.getMessage();
        } catch (InternalError e) {
            // A memory-access fault (SIGBUS): the front-end cut its memory file short under a mapping we touched.
            String why = backend.registeredMemoryFault();
            reason = "guest memory fault: " + (why != null ? why : e.getMessage());
            LOG.log(Level.WARNING, "vhost-user {0}: {1}", backend.name(), reason);
        } catch (RuntimeException e) {
            reason = "internal error: " + e;
            LOG.log(Level.ERROR, "vhost-user " + backend.name() + ": internal error", e);
        } finally {
            // A message cut short inside its payload (EOFException, reset) still holds the fds that came with its
            // header: without this they leaked, one set per such connection.
            closeUnclaimedFds();
            backend.disconnected();
            socket.close();
        }
        if (closedBecause != null) {
            reason = closedBecause;
        }
        closeReason = reason;
        LOG.log(Level.INFO, "vhost-user {0}: connection closed: {1}", backend.name(), reason);
    }

    /** Why the connection ended, once it has. */
    public String closeReason() {
        return closeReason;
    }

    private boolean receive() throws IOException {
        ByteBuffer bytes = message.bytes();
        bytes.clear().limit(VhostUserProtocol.HEADER_SIZE);
        UnixSocket.Received header = socket.recvExactly(bytes, VhostUserProtocol.MAX_FDS);
        if (header.eof()) {
            return false;
        }
        int[] fds = header.fds();
        System.arraycopy(fds, 0, message.fds(), 0, fds.length);
        message.setFdCount(fds.length);
        String bad = message.validateHeader();
        if (bad != null) {
            closeUnclaimedFds();
            throw new VhostUserException(bad);
        }
        int size = message.size();
        if (size > 0) {
            bytes.limit(VhostUserProtocol.HEADER_SIZE + size);
            UnixSocket.Received payload = socket.recvExactly(bytes, 0);
            if (payload.eof()) {
                closeUnclaimedFds();
                throw new EOFException(VhostUserRequest.nameOf(message.request()) + " ended before its payload");
            }
        }
        bad = message.validatePayload();
        if (bad != null) {
            closeUnclaimedFds();
            throw new VhostUserException(bad);
        }
        return true;
    }

    private void send() throws IOException {
        ByteBuffer bytes = message.bytes();
        bytes.clear().limit(message.length());
        socket.sendFully(bytes);
    }

    /** Descriptors a handler did not take (it sets them to -1) are closed, so a client cannot leak ours. */
    private void closeUnclaimedFds() {
        int[] fds = message.fds();
        for (int i = 0; i < message.fdCount(); i++) {
            if (fds[i] >= 0) {
                Fd.adopt(fds[i]).close();
                fds[i] = -1;
            }
        }
        message.setFdCount(0);
    }

    /** Ends the connection from our side (port removed, vnet stopping). */
    @Override
    public void close() {
        close("closed by vnet");
    }

    /** Ends the connection from our side with {@code reason}; never blocks. */
    public void close(String reason) {
        if (closedBecause == null) {
            closedBecause = reason;
        }
        try {
            socket.shutdown(UnixSocket.SHUT_RDWR);
        } catch (IOException | IllegalStateException e) {
            // already gone (run() may have closed the socket just now): run() ends on its own
        }
    }
}
