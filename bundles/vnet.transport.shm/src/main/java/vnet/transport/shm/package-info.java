/**
 * Shared memory and dataspaces: the regions a client registers ({@code ds-max}, trusted dataspaces), the
 * doorbells that carry kicks and calls, and the device snapshot a port hands to the data path.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.3.0")
package vnet.transport.shm;
