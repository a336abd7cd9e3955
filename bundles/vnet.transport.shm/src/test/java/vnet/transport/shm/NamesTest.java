package vnet.transport.shm;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NamesTest {
    @ParameterizedTest
    @ValueSource(strings = {"a", "default", "sw1", "Lab-1.a_b", "host.peer-0", "0", "a..b", "a-",
        "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"})
    void valid(String name) {
        assertTrue(Names.isValid(name), name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", ".a", "-a", "_a", "a/b", "a b", "a:b", "a%b", "a*", "h\u00e9", "a\n",
        "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"})
    void invalid(String name) {
        assertFalse(Names.isValid(name), name);
    }

    @org.junit.jupiter.api.Test
    void nullIsNoName() {
        assertFalse(Names.isValid(null));
    }
}
