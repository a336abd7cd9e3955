package vnet.switching.component;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigReaderTest {
    @interface Sample {
        String name();

        long poll() default 0;

        boolean busy_poll() default false;

        int max_ports() default 64;

        String[] register_ds() default {};

        String transport() default "vhost-user";

        String under__score() default "";
    }

    private static Map<String, Object> props(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void absentPropertiesTakeTheDefaults() {
        Sample s = ConfigReader.read(Sample.class, props("name", "sw"));
        assertEquals("sw", s.name());
        assertEquals(0, s.poll());
        assertFalse(s.busy_poll());
        assertEquals(64, s.max_ports());
        assertArrayEquals(new String[0], s.register_ds());
        assertEquals("vhost-user", s.transport());
        assertEquals(Sample.class, s.annotationType());
    }

    @Test
    void stringsFromCfgFilesAndTypedValuesReadAlike() {
        Sample fromCfg = ConfigReader.read(Sample.class, props("name", " sw ", "poll", "200", "busy.poll", "TRUE",
                "max.ports", "8", "register.ds", "/a, /b,,", "transport", " ", "under_score", "x"));
        Sample typed = ConfigReader.read(Sample.class, props("name", "sw", "poll", 200L, "busy.poll", true,
                "max.ports", 8, "register.ds", new String[] {"/a", "/b"}, "under_score", "x"));
        for (Sample s : List.of(fromCfg, typed)) {
            assertEquals("sw", s.name());
            assertEquals(200, s.poll());
            assertTrue(s.busy_poll());
            assertEquals(8, s.max_ports());
            assertArrayEquals(new String[] {"/a", "/b"}, s.register_ds());
            assertEquals("vhost-user", s.transport()); // blank is the default
            assertEquals("x", s.under__score());
        }
        assertArrayEquals(new String[] {"/c"}, ConfigReader.read(Sample.class,
                props("name", "sw", "register.ds", List.of("/c"))).register_ds());
    }

    @Test
    void anArrayAnswerIsACopy() {
        Sample s = ConfigReader.read(Sample.class, props("name", "sw", "register.ds", "/a"));
        s.register_ds()[0] = "changed";
        assertEquals("/a", s.register_ds()[0]);
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
        "name      | ' '          | name is required",
        "poll      | lots         | poll=lots is not a number",
        "poll      | 4.5          | poll=4.5 is not a number",
        "max.ports | 5000000000   | max.ports=5000000000 is too large",
        "busy.poll | yes          | busy.poll=yes is not true or false",
    })
    void aBadValueIsNamed(String key, String value, String message) {
        Map<String, Object> p = props("name", "sw");
        p.put(key, value);
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> ConfigReader.read(Sample.class, p))
                .getMessage());
    }

    @Test
    void aRequiredPropertyMayNotBeAbsent() {
        assertEquals("name is required", assertThrows(IllegalArgumentException.class,
                () -> ConfigReader.read(Sample.class, props())).getMessage());
    }

    @Test
    void aScalarTakesOneValue() {
        assertEquals("poll takes one value, not 2", assertThrows(IllegalArgumentException.class,
                () -> ConfigReader.read(Sample.class, props("name", "sw", "poll", new String[] {"1", "2"}))).getMessage());
        assertEquals(7, ConfigReader.read(Sample.class, props("name", "sw", "poll", new String[] {" 7 "})).poll());
    }

    @Test
    void namesFollowTheOneRule() {
        assertEquals("a.b-1", ConfigReader.name("name", "a.b-1"));
        assertEquals("name=a/b is not a valid name (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)",
                assertThrows(IllegalArgumentException.class, () -> ConfigReader.name("name", "a/b")).getMessage());
    }
}
