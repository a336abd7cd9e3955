/**
 * The in-framework transport ({@code vnet.transport=inproc}): a port whose driver side is a Java client in
 * the same framework. Each open port is registered as an {@link vnet.transport.shm.inproc.InprocPort}
 * service; a bundle {@linkplain vnet.transport.shm.inproc.InprocPort#attach() attaches} to it and gets an
 * {@link vnet.transport.shm.inproc.Endpoint} to send and receive Ethernet frames. The frames travel through
 * real split virtqueues in a memfd region, as a guest's would.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package vnet.transport.shm.inproc;
