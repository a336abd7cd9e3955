package vnet.virtqueue;

/** Placeholder until the virtqueue core lands. */
public interface GuestMemory {
}
