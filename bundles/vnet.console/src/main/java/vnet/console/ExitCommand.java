package vnet.console;

import org.apache.felix.service.command.Descriptor;

/** {@code vnet:exit [code]}: ends the runtime (the framework stops, then the process exits with the code). */
public final class ExitCommand {
    private final MainThread main;

    ExitCommand(MainThread main) {
        this.main = main;
    }

    @Descriptor("end vnet: the framework stops (ports close, their sockets go), then the process exits with code 0\n"
            + "   usage: vnet:exit [<code 0..255>]")
    public void exit(@Descriptor("the exit code, 0..255 (default 0)") String... args) {
        if (args.length == 1 && ("--help".equals(args[0]) || "-h".equals(args[0]))) {
            System.out.println("usage: vnet:exit [<code 0..255>]  end vnet: the framework stops, then the process"
                    + " exits with the code (default 0)");
            return;
        }
        if (args.length > 1) {
            throw new IllegalArgumentException("usage: vnet:exit [<code 0..255>]");
        }
        int code = 0;
        if (args.length == 1) {
            try {
                code = Integer.parseInt(args[0]);
            } catch (NumberFormatException e) {
                code = -1;
            }
            if (code < 0 || code > 255) {
                throw new IllegalArgumentException("exit code \"" + args[0] + "\" is not a number in 0..255;"
                        + " usage: vnet:exit [<code 0..255>]");
            }
        }
        main.exit(code);
    }
}
