package vnet.linux;

import java.nio.charset.StandardCharsets;

/** C strings. */
final class Strings {
    private Strings() {}

    /** {@code s} in UTF-8 with a terminating NUL; refuses strings that contain NUL. */
    static byte[] cString(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        byte[] c = new byte[utf8.length + 1];
        for (int i = 0; i < utf8.length; i++) {
            if (utf8[i] == 0) {
                throw new IllegalArgumentException("NUL in C string: " + s);
            }
            c[i] = utf8[i];
        }
        return c;
    }
}
