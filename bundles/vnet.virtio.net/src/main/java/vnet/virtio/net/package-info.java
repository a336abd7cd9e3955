/**
 * The virtio network device (VIRTIO 1.2 §5.1): feature bits, the {@code virtio_net_hdr} codec, the device
 * configuration space, checksum completion, and the device side ({@link vnet.virtio.net.NetDevice}) and driver
 * side ({@link vnet.virtio.net.NetDriver}) of a queue pair over {@code vnet.virtqueue}.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package vnet.virtio.net;
