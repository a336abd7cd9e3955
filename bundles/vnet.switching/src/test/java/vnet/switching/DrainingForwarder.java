package vnet.switching;

/**
 * A forwarder for test fabrics that cut a round short where a test wants: it drains every port it serves in slot
 * order, and the test says in {@link #onFrame} what each frame does.
 */
abstract class DrainingForwarder extends Forwarder {
    DrainingForwarder(int index, Handoff handoff) {
        super(index, 2, handoff);
    }

    @Override
    int forward(int count) {
        int moved = 0;
        for (int s = 0; s < count; s++) {
            if (drains(slots[s], devices[s])) {
                moved += drainTx(slots[s], devices[s]);
            }
        }
        return moved;
    }
}
