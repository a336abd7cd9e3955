package vnet.transport.shm;

import java.util.regex.Pattern;

/**
 * The one rule for the names of p2p links, switches and ports, kept here because every bundle that takes such a name
 * imports this package: vnet.switching (configurations), vnet.shell ({@code vnet:create}) and vnet.peer
 * ({@code peer=<link>:<port>}). A name is one segment of a socket path ({@code <runtime.dir>/<link>/<port>.sock}) and
 * part of a configuration's name: 1..64 letters, digits, '.', '_' or '-', starting with a letter or digit, so it is
 * never ".", "..", a hidden file or something a command line takes for an option.
 */
public final class Names {
    /** The rule in words, for error messages: {@value}. */
    public static final String RULE = "1..64 letters, digits, '.', '_', '-', starting with a letter or digit";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    private Names() {
    }

    /** Whether {@code name} is a valid link, switch or port name (false for null). */
    public static boolean isValid(String name) {
        return name != null && NAME.matcher(name).matches();
    }
}
