package vnet.console;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.FileHandler;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * What a failed command shows: one line on the console ({@link #line}), the stack trace in
 * {@code <runtime.dir>/vnet.log} only (not on the console, where java.util.logging would print it).
 */
final class Errors {
    private final Logger log = Logger.getLogger("vnet.console.errors");
    private final Path file;

    Errors(Path file) {
        this.file = file;
        log.setUseParentHandlers(false);
        try {
            Files.createDirectories(file.getParent());
            FileHandler h = new FileHandler(file.toString(), true);
            h.setFormatter(new SimpleFormatter() {
                @Override
                public String format(java.util.logging.LogRecord r) {
                    java.io.StringWriter trace = new java.io.StringWriter();
                    if (r.getThrown() != null) {
                        r.getThrown().printStackTrace(new java.io.PrintWriter(trace));
                    }
                    return r.getInstant() + " " + r.getLevel() + " " + r.getMessage() + "\n" + trace;
                }
            });
            log.addHandler(h);
        } catch (IOException | RuntimeException e) {
            System.err.println("vnet: cannot write the error log " + file + ": " + e.getMessage());
        }
    }

    Path file() {
        return file;
    }

    /** Logs the failure of {@code command} and returns the one line to print for it. */
    String failed(String command, Throwable t) {
        log.log(Level.WARNING, "command failed: " + command, t);
        return line(t);
    }

    /**
     * {@code error: <message>}: the message of the exception vnet's commands throw on purpose (their messages are
     * written for users); other exceptions keep their simple class name, which says what kind of failure it was.
     */
    static String line(Throwable t) {
        Throwable e = t;
        while ((e.getMessage() == null || e.getMessage().isBlank()) && e.getCause() != null) {
            e = e.getCause();
        }
        String message = e.getMessage() == null || e.getMessage().isBlank() ? "" : e.getMessage().strip();
        int nl = message.indexOf('\n');
        if (nl >= 0) {
            message = message.substring(0, nl).strip();
        }
        boolean plain = e instanceof IllegalArgumentException || e instanceof IllegalStateException
                || e.getClass().getSimpleName().equals("CommandNotFoundException");
        if (plain && !message.isEmpty()) {
            return "error: " + message;
        }
        return "error: " + e.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
    }
}
