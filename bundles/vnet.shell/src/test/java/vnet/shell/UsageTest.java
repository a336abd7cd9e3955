package vnet.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The commands' option parser: values, flags, negative numbers as values, --help, and its one-line errors. */
class UsageTest {
    private static final PrintStream NOWHERE = new PrintStream(new ByteArrayOutputStream());

    @Test
    void optionsAndPositionals() {
        Usage.Parsed a = CreateCommand.USAGE.parse(NOWHERE, "switch", "s", "-p", "-1", "--max-ports=4", "--client");
        assertEquals(List.of("switch", "s"), a.positional());
        assertEquals("-1", a.get("--poll"));
        assertEquals(4, a.number("--max-ports", 1, 4096, -1));
        assertTrue(a.has("--client"));
        assertEquals(-1, a.number("--mac-aging", 1, 10, -1), "absent");
        assertEquals("error: --poll -1 is out of range 0..10 (vnet:create --help)",
                "error: " + assertThrows(IllegalArgumentException.class, () -> a.number("--poll", 0, 10, -1)).getMessage());
    }

    @Test
    void helpPrintsOptionsWithDefaults() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertNull(CreateCommand.USAGE.parse(new PrintStream(out, true, StandardCharsets.UTF_8), "port", "--help"));
        String help = out.toString(StandardCharsets.UTF_8);
        assertTrue(help.startsWith("vnet:create: create a p2p link"), help);
        assertTrue(help.contains("--max-ports <n>") && help.contains("(default 256)"), help);
        assertTrue(help.contains("-h, --help"), help);
    }

    @Test
    void errorsNameTheProblemAndTheSubcommandsUsage() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> CreateCommand.USAGE.parse(NOWHERE, "switch", "s", "--bogus"));
        assertTrue(unknown.getMessage().startsWith("unknown option --bogus; usage: vnet:create switch <name>"),
                unknown.getMessage());
        assertTrue(!unknown.getMessage().contains("vnet:create port"), "only the switch's usage line");
        IllegalArgumentException noValue = assertThrows(IllegalArgumentException.class,
                () -> CreateCommand.USAGE.parse(NOWHERE, "switch", "s", "--max-ports"));
        assertTrue(noValue.getMessage().startsWith("--max-ports needs a value <n>"), noValue.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> CreateCommand.USAGE.parse(NOWHERE, "switch", "s", "-p", "1", "--poll", "2"));
        assertEquals("--poll is given twice (vnet:create --help)", twice.getMessage());
    }

    @Test
    void jsonIsEscaped() {
        String j = new Json().open('{').field("a", "q\"\\\n").field("n", 5).key("l").open('[').value(true)
                .value("x").close(']').close('}').toString();
        assertEquals("{\"a\":\"q\\\"\\\\\\n\",\"n\":5,\"l\":[true,\"x\"]}", j);
    }
}
