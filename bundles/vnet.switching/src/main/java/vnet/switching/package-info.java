/**
 * Where frames meet: {@link vnet.switching.P2pLink} (the L4Re virtio-net p2p server's job: exactly two ports) and
 * {@link vnet.switching.Switch} (a learning switch with VLANs, monitor ports and captures), each with one
 * data-path worker. {@link vnet.switching.Fabric} is what the shell and other observers see of a running one;
 * {@link vnet.switching.PortHost} is what port configurations attach to. Configuration: see CONFIG.md.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.4.0")
package vnet.switching;
