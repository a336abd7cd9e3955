package vnet.transport.shm;

import vnet.virtqueue.DeviceQueue;

/**
 * One running virtio-net queue pair of a device: receive queue 2k, transmit queue 2k+1, the calls that
 * interrupt the driver for each, and the transmit queue's kick (null when the driver polls).
 */
public record QueuePair(int index, DeviceQueue rx, DeviceQueue tx, Doorbell rxCall, Doorbell txCall, Doorbell txKick) {
}
