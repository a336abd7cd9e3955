/**
 * Split and packed virtqueues (VIRTIO 1.2 §2.7, §2.8), device side and driver side, over {@link GuestMemory}.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package vnet.virtqueue;
