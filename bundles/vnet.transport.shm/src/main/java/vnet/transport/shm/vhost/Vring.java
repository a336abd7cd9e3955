package vnet.transport.shm.vhost;

import vnet.transport.shm.Doorbell;
import vnet.virtqueue.DeviceQueue;

/** The control plane's view of one vring: what the front-end has told us so far. */
final class Vring {
    final int index;
    int size;
    boolean addressesSet;
    long descUserAddress;
    long availUserAddress;
    long usedUserAddress;
    /** Next available position (SET_VRING_BASE), kept while the ring is stopped. */
    int base;
    /** Packed rings: the used offset and wrap counter where the device stopped (GET_VRING_BASE bits 16..31). */
    int usedBase;
    /** SET_VRING_KICK came (with an fd, or with the no-fd flag: the driver polls). */
    boolean started;
    Doorbell kick;
    Doorbell call;
    /** SET_VRING_ERR: signalled when the device finds the ring broken. */
    Doorbell err;
    boolean enabled;
    /** The device-side queue while the ring runs; null when stopped. */
    DeviceQueue queue;

    Vring(int index) {
        this.index = index;
    }

    /** Whether everything needed to run is there (enabled or not: a disabled transmit ring is still processed). */
    boolean ready() {
        return size > 0 && addressesSet && started;
    }

    /** Back to the state of a new connection; doorbells closed. */
    void reset() {
        size = 0;
        addressesSet = false;
        base = 0;
        usedBase = 0;
        started = false;
        enabled = false;
        queue = null;
        closeKick();
        closeCall();
        closeErr();
    }

    void closeErr() {
        if (err != null) {
            err.close();
            err = null;
        }
    }

    void closeKick() {
        if (kick != null) {
            kick.close();
            kick = null;
        }
    }

    void closeCall() {
        if (call != null) {
            call.close();
            call = null;
        }
    }
}
