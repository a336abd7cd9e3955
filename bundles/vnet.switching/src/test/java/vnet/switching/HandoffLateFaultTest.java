package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import vnet.linux.LinuxException;

/**
 * A memory fault of another port that HotSpot raises late, while a worker handles a record another worker handed it,
 * costs no record: the hand-off ring counts a record as read before its handler runs, so the handler blames the fault
 * and handles the record once more. Before, the record was lost (here: what the sending worker learned never reached
 * the receiving one).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HandoffLateFaultTest {
    @TempDir
    Path dir;

    /** Two ports, each on its own worker; each frame's source is announced to the other worker, then delivered. */
    private static final class TwoWorkerFabric extends FabricBase {
        final AtomicInteger learned = new AtomicInteger();
        private boolean faulted;

        TwoWorkerFabric(String name, FabricSettings settings) throws LinuxException {
            super(name, settings, 2);
            start();
        }

        @Override
        public String kind() {
            return KIND_SWITCH;
        }

        @Override
        void checkAttach(PortDefinition definition, List<PortState> existing) {
        }

        @Override
        boolean crossesWorkers() {
            return true;
        }

        @Override
        int[] assign(int slot, List<PortState> existing) {
            return new int[] {slot, slot};
        }

        @Override
        Forwarder forwarder(int index, Handoff handoff) {
            return new DrainingForwarder(index, handoff) {
                @Override
                void onFrame(PortState src, int pair, int offset, int length) {
                    handoff.sendLearn(index, SwitchTest.B, 1, src);
                    deliver(slots[1 - src.slot], pair, offset, length);
                }

                @Override
                void learned(long mac, int vlan, PortState port) {
                    if (!faulted) {
                        faulted = true;
                        throw new InternalError("injected: a memory fault raised late, in a hand-off record");
                    }
                    learned.incrementAndGet();
                }
            };
        }
    }

    @Test
    void aLateFaultInAHandedRecordCostsNoRecord() throws Exception {
        FabricSettings settings = FabricSettings.defaults().withRuntimeDir(dir).withWorkers(2);
        TwoWorkerFabric fabric = new TwoWorkerFabric("h", settings);
        try (Harness h = new Harness(dir, fabric)) {
            Client a = h.port("a");
            Client b = h.port("b");
            byte[] f = Frames.frame(SwitchTest.C, SwitchTest.B, 1, 60);
            a.send(f);
            assertArrayEquals(f, b.expect(), "the handed frame arrived");
            assertEquals(1, fabric.learned.get(), "the record the fault cut short was handled once more");
        }
    }
}
