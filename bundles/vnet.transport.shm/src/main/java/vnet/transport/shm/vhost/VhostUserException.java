package vnet.transport.shm.vhost;

/** A front-end sent something the protocol or the port's limits do not allow; ends its connection. */
public final class VhostUserException extends java.io.IOException {
    private static final long serialVersionUID = 1L;

    public VhostUserException(String message) {
        super(message);
    }
}
