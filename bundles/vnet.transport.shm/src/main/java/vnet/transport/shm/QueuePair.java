package vnet.transport.shm;

import vnet.virtio.net.NetDevice;
import vnet.virtqueue.DeviceQueue;

/**
 * One running virtio-net queue pair of a device: the device side of receive queue 2k and transmit queue
 * 2k+1, the calls that interrupt the driver for each, and the kicks of each queue (null when the driver
 * is not asked to kick: poll mode, or a driver that polls). The receive kick says new receive buffers
 * were posted.
 */
public record QueuePair(int index, NetDevice net, Doorbell rxCall, Doorbell txCall, Doorbell txKick, Doorbell rxKick) {

    /** The transmit queue (driver → device). */
    public DeviceQueue tx() {
        return net.txQueue();
    }

    /** The receive queue (device → driver). */
    public DeviceQueue rx() {
        return net.rxQueue();
    }

    /** Rings the driver's receive-queue call if set (a driver that polls has none). */
    public void callRx() {
        if (rxCall != null) {
            rxCall.ring();
        }
    }

    /** Rings the driver's transmit-queue call if set. */
    public void callTx() {
        if (txCall != null) {
            txCall.ring();
        }
    }
}
