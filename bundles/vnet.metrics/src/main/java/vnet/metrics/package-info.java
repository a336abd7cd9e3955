/** The MXBean interfaces of vnet's metrics (domain {@code vnet}), for JMX clients. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package vnet.metrics;
