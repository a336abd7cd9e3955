package vnet.shell;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A command's options and usage, and the parser of its arguments: every vnet command takes {@code String...} and
 * parses here, so that {@code --help} works on each (in Felix and in Karaf alike), a missing or wrong argument
 * gets the usage line and an unknown option is named, never Gogo's coercion messages.
 */
final class Usage {
    /** One option: {@code value} null for a flag. */
    record Option(String shortName, String longName, String value, String help, String defaultValue) {
        String names() {
            return (shortName == null ? "" : shortName + ", ") + longName + (value == null ? "" : " <" + value + ">");
        }
    }

    private final String command;
    private final String summary;
    private final List<String> synopsis;
    private final List<Option> options;
    private final List<String> notes;

    Usage(String command, String summary, List<String> synopsis, List<Option> options, List<String> notes) {
        this.command = command;
        this.summary = summary;
        this.synopsis = synopsis;
        this.options = options;
        this.notes = notes;
    }

    static Option flag(String shortName, String longName, String help) {
        return new Option(shortName, longName, null, help, null);
    }

    static Option option(String shortName, String longName, String value, String help, String defaultValue) {
        return new Option(shortName, longName, value, help, defaultValue);
    }

    /** {@code usage: <synopsis> | <synopsis>...}, one line. */
    String line() {
        return "usage: " + String.join(" | ", synopsis);
    }

    /** An error naming the problem, followed by the usage line. */
    IllegalArgumentException error(String problem) {
        return error(problem, List.of());
    }

    /** An error naming the problem, followed by the usage lines of the subcommand (the first positional) given. */
    IllegalArgumentException error(String problem, List<String> positional) {
        List<String> lines = synopsis;
        if (!positional.isEmpty()) {
            String prefix = command + " " + positional.get(0) + " ";
            List<String> sub = synopsis.stream().filter(l -> l.startsWith(prefix) || l.equals(prefix.strip())).toList();
            lines = sub.isEmpty() ? synopsis : sub;
        }
        return new IllegalArgumentException(problem + "; usage: " + String.join(" | ", lines));
    }

    /** An error about a value: the problem and where the help is. */
    IllegalArgumentException valueError(String problem) {
        return new IllegalArgumentException(problem + " (" + command + " --help)");
    }

    /** The full help: summary, synopsis, options with their defaults, notes. */
    String help() {
        StringBuilder sb = new StringBuilder(command).append(": ").append(summary).append('\n');
        for (int i = 0; i < synopsis.size(); i++) {
            sb.append(i == 0 ? "usage: " : "       ").append(synopsis.get(i)).append('\n');
        }
        sb.append("options:\n");
        int width = "-h, --help".length();
        for (Option o : options) {
            width = Math.max(width, o.names().length());
        }
        {
            for (Option o : options) {
                sb.append("  ").append(o.names()).append(" ".repeat(width - o.names().length() + 2)).append(o.help());
                if (o.defaultValue() != null) {
                    sb.append(" (default ").append(o.defaultValue()).append(')');
                }
                sb.append('\n');
            }
        }
        sb.append("  -h, --help").append(" ".repeat(width - 10 + 2)).append("show this help\n");
        for (String n : notes) {
            sb.append(n).append('\n');
        }
        return sb.toString();
    }

    /** Parses {@code args}; prints the help and returns null when they ask for it. */
    Parsed parse(PrintStream out, String... args) {
        Map<String, String> values = new HashMap<>();
        List<String> positional = new ArrayList<>();
        String[] a = args == null ? new String[0] : args;
        for (int i = 0; i < a.length; i++) {
            String arg = a[i];
            if (arg == null) {
                continue;
            }
            if (arg.equals("-h") || arg.equals("--help")) {
                out.print(help());
                return null;
            }
            if (arg.length() < 2 || !arg.startsWith("-") || isNumber(arg)) {
                positional.add(arg);
                continue;
            }
            String name = arg;
            String inline = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                inline = arg.substring(eq + 1);
            }
            Option o = find(name);
            if (o == null) {
                throw error("unknown option " + name, positional);
            }
            if (values.containsKey(o.longName())) {
                throw valueError(o.longName() + " is given twice");
            }
            if (o.value() == null) {
                if (inline != null) {
                    throw error(o.longName() + " takes no value", positional);
                }
                values.put(o.longName(), "true");
            } else if (inline != null) {
                values.put(o.longName(), inline);
            } else if (i + 1 < a.length) {
                values.put(o.longName(), a[++i]);
            } else {
                throw error(o.longName() + " needs a value <" + o.value() + ">", positional);
            }
        }
        return new Parsed(this, values, positional);
    }

    private Option find(String name) {
        for (Option o : options) {
            if (name.equals(o.longName()) || name.equals(o.shortName())) {
                return o;
            }
        }
        return null;
    }

    private static boolean isNumber(String s) {
        return s.matches("-\\d+");
    }

    /** Parsed arguments: option values by long name, and the positional arguments. */
    static final class Parsed {
        private final Usage usage;
        private final Map<String, String> values;
        private final List<String> positional;

        Parsed(Usage usage, Map<String, String> values, List<String> positional) {
            this.usage = usage;
            this.values = values;
            this.positional = positional;
        }

        boolean has(String longName) {
            return values.containsKey(longName);
        }

        String get(String longName) {
            return values.get(longName);
        }

        List<String> positional() {
            return positional;
        }

        /** The positional argument at {@code index}, or the usage error naming it. */
        String positional(int index, String what) {
            if (index >= positional.size()) {
                throw usage.error("missing " + what, positional);
            }
            return positional.get(index);
        }

        /** Refuses positional arguments beyond {@code count}. */
        void atMost(int count) {
            if (positional.size() > count) {
                throw usage.error("unexpected argument \"" + positional.get(count) + "\"", positional);
            }
        }

        /** A number option within min..max, or {@code absent} when not given. */
        long number(String longName, long min, long max, long absent) {
            String v = values.get(longName);
            if (v == null) {
                return absent;
            }
            long n;
            try {
                n = Long.parseLong(v.trim());
            } catch (NumberFormatException e) {
                throw usage.valueError(longName + " " + v + " is not a number");
            }
            if (n < min || n > max) {
                throw usage.valueError(longName + " " + v + " is out of range " + min + ".." + max);
            }
            return n;
        }

        /** Refuses the options named (they do not apply to what is being done). */
        void refuse(String why, String... longNames) {
            for (String n : longNames) {
                if (values.containsKey(n)) {
                    throw usage.valueError(n + " " + why);
                }
            }
        }

        IllegalArgumentException error(String problem) {
            return usage.error(problem, positional);
        }

        IllegalArgumentException valueError(String problem) {
            return usage.valueError(problem);
        }
    }
}
