package vnet.transport.shm;

/**
 * What a port needs from the worker that forwards its frames: a way to make sure the worker no longer
 * uses a device snapshot the control plane is about to change, and a way to wake it. The data path
 * itself takes no lock; the control plane waits for it instead.
 */
public interface DataPath {
    /**
     * Returns once the worker has finished every round it started before this call, so a snapshot
     * withdrawn before the call is no longer in use. Never blocks the worker.
     */
    void quiesce();

    /** Wakes the worker if it sleeps (a kick file descriptor changed, a device became ready). */
    void wake();

    /** A data path for a port that is not attached to any worker: nothing to wait for. */
    DataPath NONE = new DataPath() {
        @Override
        public void quiesce() {
        }

        @Override
        public void wake() {
        }
    };
}
