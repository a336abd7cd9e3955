package vnet.transport.shm;

/** A client's dataspace was refused; the message says why, for the client's log and ours. */
public final class DataspaceException extends Exception {
    private static final long serialVersionUID = 1L;

    public DataspaceException(String message) {
        super(message);
    }
}
