/**
 * Where frames meet: {@link vnet.switching.P2pLink}, the L4Re virtio-net p2p server's job (exactly two
 * ports, each one's transmit queue into the other's receive queue).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package vnet.switching;
