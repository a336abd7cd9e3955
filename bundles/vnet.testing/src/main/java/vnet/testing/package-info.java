/**
 * Test support with real peers: a tiny Linux guest image ({@link GuestImage}), QEMU guests attached to
 * vhost-user sockets ({@link QemuGuest}), DPDK testpmd ({@link Dpdk}) and bounded external processes
 * ({@link ExternalProcess}). Everything installs what it needs with apt-get (root, Debian).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package vnet.testing;
