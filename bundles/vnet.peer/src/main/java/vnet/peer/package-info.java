/**
 * The host peer bridge (QNX {@code devnp-vdevpeer-net.so}): {@link vnet.peer.HostPeer} puts a Linux TAP interface
 * ({@code vp0}, {@code vp1}, ...) onto a guest's virtio-net NIC or a vnet port, configured by the QNX option string
 * that {@link vnet.peer.PeerOptions} parses. Host peers are also DS components of factory PID {@code vnet.peer}.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package vnet.peer;
