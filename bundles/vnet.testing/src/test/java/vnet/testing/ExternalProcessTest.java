package vnet.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What the tests read of an external command's log. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ExternalProcessTest {
    /**
     * A line still being written does not match: the guests' result lines ("VNET-MD5 <sum> 16777216") reach the
     * console in pieces, and a pattern ending in digits matched the first piece (OffloadGuestTest read 167 once).
     */
    @Test
    void aLineMatchesOnlyOnceItIsWhole() throws Exception {
        try (ExternalProcess p = ExternalProcess.command("sh", "-c",
                "printf 'VNET-%s 167' N; sleep 1; printf '77216\\n'; sleep 5") // the log's first line is the command
                .timeLimit(Duration.ofSeconds(20)).start()) {
            assertEquals("16777216", p.awaitLine(Pattern.compile("VNET-N (\\d+)"), Duration.ofSeconds(10)).group(1));
        }
    }

    /** A last line without its line break counts once the command has ended. */
    @Test
    void theLastLineCountsWhenTheCommandEnds() throws Exception {
        try (ExternalProcess p = ExternalProcess.command("sh", "-c", "printf 'VNET-%s 42' N")
                .timeLimit(Duration.ofSeconds(20)).start()) {
            assertEquals("42", p.awaitLine(Pattern.compile("VNET-N (\\d+)"), Duration.ofSeconds(10)).group(1));
        }
    }
}
