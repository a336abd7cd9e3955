package vnet.peer;

/**
 * A host peer option string was refused. The message names the bad part; {@link #part()} returns it alone
 * (the option as written, e.g. {@code mac=12345}, or the empty string when the whole string is at fault).
 */
public final class PeerOptionException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String part;

    /** A refusal of {@code part} (the offending option as written) for the reason {@code message}. */
    public PeerOptionException(String part, String message) {
        super(message);
        this.part = part;
    }

    /** The offending option as written, or "" when no single option is at fault. */
    public String part() {
        return part;
    }
}
