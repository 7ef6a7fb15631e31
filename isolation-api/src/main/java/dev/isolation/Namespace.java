package dev.isolation;

/**
 * A kind of Linux namespace a sandbox can be given. Each one isolates one global resource.
 *
 * <p>Which namespaces a host allows can be seen with {@link Launcher#probe()}.
 */
public enum Namespace {
    /** User and group ids and capabilities; lets an unprivileged caller create the others. */
    USER,
    /** Process ids: the command becomes PID 1 and sees only its own descendants. */
    PID,
    /** Mount points: needed for a root filesystem, extra mounts, a fresh {@code /proc}. */
    MOUNT,
    /** Network devices, addresses, ports; a new one holds only a loopback device, brought up. */
    NET,
    /** Hostname and NIS domain name. */
    UTS,
    /** System V IPC objects and POSIX message queues. */
    IPC,
    /** The cgroup root the sandbox sees in {@code /proc/self/cgroup}. */
    CGROUP,
    /** The offsets of the monotonic and boot-time clocks (Linux 5.6 and later). */
    TIME
}
