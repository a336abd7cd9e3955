/**
 * vhost-user (QEMU docs/interop/vhost-user.rst): the back-end that makes a vnet port reachable from QEMU,
 * DPDK and other processes, and the Java front-end that attaches to any vhost-user back-end.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package vnet.transport.shm.vhost;
