package dev.isolation.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Facts about the host the tests run on, read from /proc. */
public final class Host {
    private Host() {
    }

    /** The effective uid of this JVM. */
    public static int uid() {
        return statusField("Uid:", 1);
    }

    /** The effective gid of this JVM. */
    public static int gid() {
        return statusField("Gid:", 1);
    }

    public static boolean isRoot() {
        return uid() == 0;
    }

    private static int statusField(String key, int index) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    return Integer.parseInt(line.substring(key.length()).trim().split("\\s+")[index]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException(key + " missing from /proc/self/status");
    }

    /** How many file descriptors this JVM has open. */
    public static int openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * What this JVM's file descriptors point to, sorted, leaving out what the JDK itself opens
     * at moments of its own choosing, which is not a leak: jar files (the class loader opens one
     * the first time it loads a class from it), and the files of the JVM's own cgroup outside
     * the library's ({@code memory.limit_in_bytes} and the like, read by the JDK's container
     * support, which may hold one open at the moment of the snapshot). The library's cgroups
     * all lie under a directory named {@code isolation...}, so an fd left open there counts.
     */
    public static List<String> openFdTargets() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    return null; // the directory stream's own fd, closed meanwhile
                }
            }).filter(target -> target != null && !target.endsWith(".jar") && !isJdkCgroupRead(target)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean isJdkCgroupRead(String target) {
        return target.startsWith("/sys/fs/cgroup/") && !target.contains("/isolation");
    }

    /** This JVM's mount table, as lines. */
    public static List<String> mounts() {
        try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Processes below this JVM's children: sandboxes (the children of the native helper) and
     * anything they left. The helper itself, a direct child, is not counted.
     */
    public static List<ProcessHandle> grandchildren() {
        return ProcessHandle.current().children().flatMap(ProcessHandle::descendants).filter(p -> !isHelperChild(p)).toList();
    }

    /**
     * Whether a process belongs to the helper rather than to a sandbox: a prepared spare idly
     * waiting for the next launch of its shape (so named until a launch takes it), or the child
     * that closes ended sandboxes' mount namespaces.
     */
    public static boolean isHelperChild(ProcessHandle process) {
        try {
            String name = Files.readString(Path.of("/proc", Long.toString(process.pid()), "comm")).trim();
            return name.equals("isolation-spare") || name.equals("isolation-close");
        } catch (IOException e) {
            return false; // gone meanwhile
        }
    }

    /**
     * {@link #grandchildren()} once it is empty, or after two seconds what is still there. The
     * helper reaps asynchronously, so a process killed a moment ago may still be listed.
     */
    public static List<ProcessHandle> remainingGrandchildren() {
        long deadline = System.nanoTime() + 2_000_000_000L;
        List<ProcessHandle> left = grandchildren();
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            left = grandchildren();
        }
        return left;
    }

    /** The host's hostname, as the kernel has it for this JVM's UTS namespace. */
    public static String hostname() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The id of a namespace of this JVM, e.g. {@code net:[4026531992]}. */
    public static String namespace(String type) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/ns/" + type)).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
