package vnet.console;

/** The runtime's exit codes (README, "Exit codes"); {@code vnet:exit <n>} exits with n. */
final class ExitCodes {
    /** The commands ran, vnet:exit, end of input, SIGTERM or SIGINT. */
    static final int OK = 0;
    /** A command of a -c run, a script or non-interactive standard input failed; or another vnet runs here. */
    static final int COMMAND_FAILED = 1;
    /** gosh.args is wrong, or its script file cannot be read. */
    static final int USAGE = 2;

    private ExitCodes() {
    }
}
