package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The forwarding database against a plain map: learning, moves, aging, the bound, flushes, deletions. */
class MacTableTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void learnsPerVlanAndRelearnsMoves() {
        MacTable t = new MacTable(16, 300 * SECOND);
        t.learn(0xA, 10, 1, 0);
        t.learn(0xA, 20, 2, 0);
        assertEquals(1, t.lookup(0xA, 10, 1));
        assertEquals(2, t.lookup(0xA, 20, 1));
        assertEquals(-1, t.lookup(0xA, 30, 1));
        t.learn(0xA, 10, 3, 5);
        assertEquals(3, t.lookup(0xA, 10, 6));
        assertEquals(1, t.moves);
        assertEquals(2, t.size());
    }

    @Test
    void entriesAgeOut() {
        MacTable t = new MacTable(16, 10 * SECOND);
        t.learn(0xA, 1, 1, 0);
        t.learn(0xB, 1, 2, 5 * SECOND);
        assertEquals(1, t.lookup(0xA, 1, 10 * SECOND));
        assertEquals(-1, t.lookup(0xA, 1, 11 * SECOND));
        assertEquals(1, t.size());
        t.age(16 * SECOND, 1000);
        assertEquals(0, t.size());
    }

    @Test
    void theTableIsBounded() {
        MacTable t = new MacTable(4, 10 * SECOND);
        for (int i = 1; i <= 6; i++) {
            t.learn(i, 1, i, 0);
        }
        assertEquals(4, t.size());
        assertEquals(2, t.learnFailures);
        assertEquals(-1, t.lookup(5, 1, 0));
        t.age(20 * SECOND, 1000); // everything aged out: room again
        t.learn(5, 1, 5, 20 * SECOND);
        assertEquals(5, t.lookup(5, 1, 20 * SECOND));
    }

    /**
     * The remembered last learn and lookup answer as the table would: a refused address is counted each time it is
     * seen, and a lookup after a move, a removal or a later clock probes the table again.
     */
    @Test
    void theRememberedAnswersAreTheTablesAnswers() {
        MacTable t = new MacTable(1, 10 * SECOND);
        t.learn(1, 1, 1, 0);
        t.learn(2, 1, 2, 0); // full: refused
        t.learn(2, 1, 2, 0); // the same refusal, counted again
        assertEquals(2, t.learnFailures);
        assertEquals(1, t.lookup(1, 1, 0));
        t.learn(1, 1, 3, 0); // moved
        assertEquals(3, t.lookup(1, 1, 0));
        t.flushPort(3);
        assertEquals(-1, t.lookup(1, 1, 0));
        t.learn(1, 1, 1, 0);
        assertEquals(1, t.lookup(1, 1, 0));
        assertEquals(-1, t.lookup(1, 1, 11 * SECOND), "aged out at a later clock");
        t.learn(1, 1, 1, 11 * SECOND);
        t.learn(1, 1, 1, 11 * SECOND);
        assertFalse(t.news, "a repeated learn at the same clock is no news");
        assertEquals(1, t.size());
    }

    @Test
    void agreesWithAMapUnderRandomChurn() {
        Random r = new Random(42);
        int max = 200;
        MacTable t = new MacTable(max, Long.MAX_VALUE / 4);
        Map<Long, Integer> model = new HashMap<>();
        for (int step = 0; step < 200_000; step++) {
            long mac = r.nextInt(400) * 0x1_0001L;
            int vlan = 1 + r.nextInt(3);
            long key = MacTable.key(mac, vlan);
            int op = r.nextInt(100);
            if (op < 60) {
                int port = r.nextInt(8);
                t.learn(mac, vlan, port, step);
                if (model.containsKey(key) || model.size() < max) {
                    model.put(key, port);
                }
            } else if (op < 99) {
                assertEquals(model.getOrDefault(key, -1), t.lookup(mac, vlan, step), "step " + step);
            } else {
                int port = r.nextInt(8);
                t.flushPort(port);
                model.values().removeIf(p -> p == port);
            }
            assertEquals(model.size(), t.size(), "step " + step);
        }
        assertEquals(model.size(), t.snapshot(0, p -> "p" + p).size());
    }
}
