package vnet.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

/** gosh.args as written on the command line: -c keeps its ';', a script takes the rest as its arguments. */
class ConsoleArgsTest {
    @Test
    void dashCKeepsTheWholeProgram() {
        Console.Args a = Console.Args.parse("--nointeractive -c vnet:create port nosw x; vnet:exit 0");
        assertTrue(a.noInteractive());
        assertEquals("vnet:create port nosw x; vnet:exit 0", a.program());
        assertNull(a.script());
    }

    @Test
    void aScriptTakesItsArguments() {
        Console.Args a = Console.Args.parse("--login --nointeractive --noshutdown -x setup.gosh one two");
        assertEquals(Path.of("setup.gosh"), a.script());
        assertEquals(List.of("one", "two"), a.scriptArgs());
        assertTrue(a.noShutdown() && a.xtrace() && a.noInteractive());
    }

    @Test
    void nothingIsAConsoleOrAService() {
        Console.Args none = Console.Args.parse(null);
        assertNull(none.program());
        assertNull(none.script());
        assertTrue(Console.Args.parse("--interactive").interactive());
    }

    @Test
    void badArgsAreRefused() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Console.Args.parse("--bogus")).getMessage()
                .startsWith("unknown option --bogus; gosh.args: "));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Console.Args.parse("--nointeractive -c "))
                .getMessage().startsWith("-c needs commands"));
    }

    @Test
    void errorLinesAreOneLineWithoutTheClassOfDeliberateRefusals() {
        assertEquals("error: no such port", Errors.line(new IllegalArgumentException("no such port")));
        assertEquals("error: IOException: disk full", Errors.line(new java.io.IOException("disk full\nmore")));
        assertEquals("error: inner", Errors.line(new RuntimeException(null, new IllegalStateException("inner"))));
        assertEquals("error: NullPointerException", Errors.line(new NullPointerException()));
    }
}
