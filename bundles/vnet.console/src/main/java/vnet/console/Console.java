package vnet.console;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.felix.gogo.runtime.EOFError;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.apache.felix.service.command.Descriptor;
import org.osgi.framework.BundleContext;

/**
 * The runtime's {@code gosh}: gogo.shell's start job calls it once with {@code -Dgosh.args}. One behaviour for
 * errors in every mode: a failing command prints one line ({@link Errors}); a {@code -c} program or a script stops
 * there and the runtime exits with {@link ExitCodes#COMMAND_FAILED}; so does standard input when it is not a
 * terminal (unless {@code --interactive}). A terminal console carries on after an error.
 */
public final class Console {
    static final String USAGE = "gosh.args: [--nointeractive] [--interactive] [--noshutdown] [-x] "
            + "(-c <commands> | <script file> [args...])";

    private final BundleContext context;
    private final MainThread main;
    private final Errors errors;
    private final AtomicBoolean started = new AtomicBoolean();

    Console(BundleContext context, MainThread main, Errors errors) {
        this.context = context;
        this.main = main;
        this.errors = errors;
    }

    /** What {@code gosh.args} asks for. */
    record Args(boolean noInteractive, boolean interactive, boolean noShutdown, boolean xtrace, String program,
                Path script, List<String> scriptArgs) {

        /**
         * Parses gosh.args as written: options first; {@code -c} takes the rest of the text as it is (with its ';'),
         * a script file takes the rest as its arguments.
         */
        static Args parse(String raw) {
            boolean noInteractive = false;
            boolean interactive = false;
            boolean noShutdown = false;
            boolean xtrace = false;
            String rest = raw == null ? "" : raw.strip();
            while (!rest.isEmpty()) {
                int end = 0;
                while (end < rest.length() && !Character.isWhitespace(rest.charAt(end))) {
                    end++;
                }
                String token = rest.substring(0, end);
                String after = rest.substring(end).strip();
                switch (token) {
                    case "--login", "-q", "--quiet" -> { }
                    case "--nointeractive" -> noInteractive = true;
                    case "-i", "--interactive" -> interactive = true;
                    case "-s", "--noshutdown" -> noShutdown = true;
                    case "-x", "--xtrace" -> xtrace = true;
                    case "-c", "--command" -> {
                        if (after.isEmpty()) {
                            throw new IllegalArgumentException("-c needs commands; " + USAGE);
                        }
                        return new Args(noInteractive, interactive, noShutdown, xtrace, after, null, List.of());
                    }
                    default -> {
                        if (token.startsWith("-")) {
                            throw new IllegalArgumentException("unknown option " + token + "; " + USAGE);
                        }
                        List<String> args = after.isEmpty() ? List.of() : List.of(after.split("\\s+"));
                        return new Args(noInteractive, interactive, noShutdown, xtrace, null, Path.of(token), args);
                    }
                }
                rest = after;
            }
            return new Args(noInteractive, interactive, noShutdown, xtrace, null, null, List.of());
        }
    }

    @Descriptor("the vnet runtime's shell (started once with -Dgosh.args; see the README)")
    public Object gosh(CommandSession session, String[] argv) throws InterruptedException {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalArgumentException("the vnet console runs already; run a script file with: source <file>");
        }
        int code = run(session, context.getProperty("gosh.args"));
        if (code >= 0) {
            main.exit(code);
        }
        // Gogo's start job ran "gosh --login <gosh.args>" as one program: after a ';' of -c its next statement
        // would run now. It must not (a -c run stops at its first error; vnet:exit has been done): this call
        // returns only when the framework stops and interrupts the job.
        Thread.sleep(Long.MAX_VALUE);
        return null;
    }

    /** Runs what gosh.args says; returns the exit code to end with, or -1 to keep running. */
    int run(CommandSession session, String goshArgs) {
        PrintStream err = System.err;
        Args args;
        try {
            args = Args.parse(goshArgs);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        if (args.xtrace()) {
            session.put("echo", Boolean.TRUE);
        }
        session.put("prompt", "g! ");
        if (args.program() != null || args.script() != null) {
            String program;
            String what;
            if (args.script() != null) {
                try {
                    program = Files.readString(args.script(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    err.println("error: cannot read the script " + args.script().toAbsolutePath() + ": " + e);
                    return ExitCodes.USAGE;
                }
                session.put("0", args.script().toString());
                session.put("args", args.scriptArgs());
                for (int i = 0; i < args.scriptArgs().size(); i++) {
                    session.put(Integer.toString(i + 1), args.scriptArgs().get(i));
                }
                what = args.script().toString();
            } else {
                program = args.program();
                what = "-c " + program;
            }
            if (!execute(session, program, what)) {
                return ExitCodes.COMMAND_FAILED;
            }
            if (main.exiting()) {
                return -1;
            }
            if (args.noInteractive()) {
                return args.noShutdown() ? -1 : ExitCodes.OK;
            }
        } else if (args.noInteractive()) {
            // A service: no console; it ends with vnet:exit (runtime/vnetctl vnet:exit), SIGTERM or SIGINT.
            return -1;
        }
        return console(session, args.interactive() || stdinIsTerminal());
    }

    /** Reads commands from standard input until its end; returns the exit code. */
    private int console(CommandSession session, boolean interactive) {
        PrintStream out = session.getConsole();
        BufferedReader in = new BufferedReader(new InputStreamReader(session.getKeyboard(), StandardCharsets.UTF_8));
        StringBuilder pending = new StringBuilder();
        while (!main.exiting()) {
            if (interactive) {
                out.print(pending.length() == 0 ? String.valueOf(session.get("prompt")) : "> ");
                out.flush();
            }
            String line;
            try {
                line = in.readLine();
            } catch (IOException e) {
                line = null;
            }
            if (line == null) {
                return ExitCodes.OK;
            }
            pending.append(line).append('\n');
            String text = pending.toString();
            if (text.isBlank()) {
                pending.setLength(0);
                continue;
            }
            try {
                print(session, session.execute(text));
                pending.setLength(0);
            } catch (EOFError incomplete) {
                // an open '{' or quote: read on
            } catch (Exception e) {
                pending.setLength(0);
                session.put("exception", e);
                System.err.println(errors.failed(text.strip(), e));
                System.err.flush();
                if (!interactive) {
                    return ExitCodes.COMMAND_FAILED;
                }
            }
        }
        return -1;
    }

    /** Runs a program (a script, a -c text); prints its one error line and returns false if it failed. */
    private boolean execute(CommandSession session, String program, String what) {
        try {
            print(session, session.execute(program));
            return true;
        } catch (Exception e) {
            session.put("exception", e);
            System.err.println(errors.failed(what, e));
            System.err.flush();
            return false;
        }
    }

    private static void print(CommandSession session, Object result) {
        if (result != null) {
            session.getConsole().println(session.format(result, Converter.INSPECT));
        }
    }

    /** Whether standard input is a terminal (Linux: /proc/self/fd/0 is a tty or pty). */
    static boolean stdinIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/0")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
