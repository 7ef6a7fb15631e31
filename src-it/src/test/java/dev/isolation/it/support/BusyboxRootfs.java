package dev.isolation.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * A minimal root filesystem made from the host's static busybox: /bin/busybox, applet links,
 * and empty /proc /dev /tmp /sys /etc. The same layout as shared/peers/make-rootfs.sh.
 */
public final class BusyboxRootfs {
    public static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final List<String> APPLETS = List.of("sh", "true", "false", "ps", "cat", "id", "hostname", "sleep",
            "ls", "echo", "ip", "ifconfig", "touch", "mount", "kill", "readlink", "wc", "grep", "dd", "head", "env", "pwd", "stat");

    private BusyboxRootfs() {
    }

    /** Builds the rootfs in a new temporary directory readable by everyone, and returns it. */
    public static Path create() {
        try {
            if (!Files.isExecutable(BUSYBOX)) {
                throw new IllegalStateException("a static busybox is needed at " + BUSYBOX + " (apt-get install busybox-static)");
            }
            Path root = Files.createTempDirectory("isolation-it-rootfs-");
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

    /** Deletes a rootfs made by {@link #create()}. */
    public static void delete(Path root) {
        if (root == null) {
            return;
        }
        try (var paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
