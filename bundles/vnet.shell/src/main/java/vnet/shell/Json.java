package vnet.shell;

/** Just enough JSON for {@code --json} output: objects and arrays written in order, strings escaped. */
final class Json {
    private final StringBuilder sb = new StringBuilder();
    private boolean first = true;

    Json open(char bracket) {
        comma();
        sb.append(bracket);
        first = true;
        return this;
    }

    Json close(char bracket) {
        sb.append(bracket);
        first = false;
        return this;
    }

    Json key(String key) {
        comma();
        string(key).append(':');
        first = true;
        return this;
    }

    Json value(String v) {
        comma();
        if (v == null) {
            sb.append("null");
        } else {
            string(v);
        }
        first = false;
        return this;
    }

    Json value(long v) {
        comma();
        sb.append(v);
        first = false;
        return this;
    }

    Json value(boolean v) {
        comma();
        sb.append(v);
        first = false;
        return this;
    }

    Json field(String key, String v) {
        return key(key).value(v);
    }

    Json field(String key, long v) {
        return key(key).value(v);
    }

    Json field(String key, boolean v) {
        return key(key).value(v);
    }

    private void comma() {
        if (!first) {
            sb.append(',');
        }
        first = false;
    }

    private StringBuilder string(String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"');
    }

    @Override
    public String toString() {
        return sb.toString();
    }
}
