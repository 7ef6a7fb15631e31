package dev.isolation.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A minimal root filesystem made from the host's static busybox ({@code apt-get install
 * busybox-static}): {@code /bin/busybox}, links for common applets, and empty {@code /proc},
 * {@code /dev}, {@code /tmp}, {@code /sys}, {@code /etc}.
 */
public final class BusyboxRootfs {
    /** Where Debian's busybox-static puts busybox. */
    public static final Path BUSYBOX = Path.of("/bin/busybox");

    private static final List<String> APPLETS = List.of("sh", "true", "false", "ps", "cat", "id", "hostname", "sleep",
            "ls", "echo", "ip", "touch", "mount", "kill", "readlink", "wc", "grep", "head", "env", "pwd", "nc", "uname");

    private BusyboxRootfs() {
    }

    /** Builds the rootfs in a new temporary directory that everyone may read, and returns it. */
    public static Path create() {
        if (!Files.isExecutable(BUSYBOX)) {
            throw new IllegalStateException("a static busybox is needed at " + BUSYBOX + " (apt-get install busybox-static)");
        }
        try {
            Path root = Files.createTempDirectory("isolation-rootfs-");
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
            for (String dir : List.of("bin", "proc", "dev", "tmp", "sys", "etc")) {
                Files.createDirectories(root.resolve(dir));
            }
            Files.setPosixFilePermissions(root.resolve("tmp"), PosixFilePermissions.fromString("rwxrwxrwx"));
            Files.copy(BUSYBOX, root.resolve("bin/busybox"));
            Files.setPosixFilePermissions(root.resolve("bin/busybox"), PosixFilePermissions.fromString("rwxr-xr-x"));
            for (String applet : APPLETS) {
                Files.createSymbolicLink(root.resolve("bin").resolve(applet), Path.of("busybox"));
            }
            Files.writeString(root.resolve("etc/marker"), "busybox-rootfs\n");
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes a directory tree such as one made by {@link #create()}. */
    public static void delete(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
