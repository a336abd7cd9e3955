/**
 * The few Linux calls Java lacks, through JNA: {@link vnet.linux.Memfd memfd_create}, {@link vnet.linux.Mman mmap},
 * {@link vnet.linux.EventFd eventfd}, {@link vnet.linux.Epoll epoll}, {@link vnet.linux.UnixSocket Unix domain
 * sockets} that pass file descriptors (SCM_RIGHTS), {@link vnet.linux.Ioctl ioctl}, {@link vnet.linux.Fstat fstat}
 * and {@link vnet.linux.Sched thread priorities}.
 * <p>
 * Every failure is a {@link vnet.linux.LinuxException} that names the call and errno ({@code mmap: EBADF (Bad file
 * descriptor)}). File descriptors are owned by {@link vnet.linux.Fd}. The hot calls (read, write, eventfd signal and
 * drain, epoll_wait) use JNA direct mapping and allocate nothing per call. Supported on Linux x86_64 and aarch64.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package vnet.linux;
