/**
 * The VXLAN transport ({@code vnet.transport=vxlan}, RFC 7348): a switch port whose far side is a VXLAN tunnel
 * endpoint. {@link vnet.transport.vxlan.VxlanOptions} is what a port's option string says about the tunnel.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package vnet.transport.vxlan;
