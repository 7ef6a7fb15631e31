package dev.isolation.linux.internal;

import com.sun.jna.LastErrorException;
import dev.isolation.IsolationUnavailableException;
import dev.isolation.LaunchException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.Optional;

/**
 * The native helper executable shipped in this jar, made executable without writing it where
 * anyone else could change it: preferably a sealed memfd (nothing on disk at all, and sealed
 * so that not even a process that reaches it through /proc can alter it), else a file in a
 * fresh directory only this user can enter.
 */
final class HelperBinary {
    private static final String RESOURCE_DIR = "/dev/isolation/linux/internal/native/";

    private final String executablePath;

    private HelperBinary(String executablePath) {
        this.executablePath = executablePath;
    }

    /** The resource name for this JVM's architecture, when one is supported. */
    static Optional<String> resourceName() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String dir = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> null;
        };
        return Optional.ofNullable(dir).map(d -> RESOURCE_DIR + d + "/isolation-helper");
    }

    /** A path that execve(2) accepts, such as {@code /proc/self/fd/12}. */
    String executablePath() {
        return executablePath;
    }

    static HelperBinary load() {
        String resource = resourceName().orElseThrow(() -> new IsolationUnavailableException(
                "No native helper for architecture " + System.getProperty("os.arch") + "; supported: x86_64, aarch64"));
        byte[] image;
        try (InputStream in = HelperBinary.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IsolationUnavailableException("The native helper " + resource + " is missing from the isolation-linux jar;"
                        + " it was built without it (for this architecture)");
            }
            image = in.readAllBytes();
        } catch (IOException e) {
            throw new LaunchException("read native helper", resource, null, null, e.toString(), null, e);
        }
        try {
            return new HelperBinary(sealedMemfd(image));
        } catch (LastErrorException e) {
            return new HelperBinary(privateFile(image));
        }
    }

    private static String sealedMemfd(byte[] image) {
        int fd = LibC.memfd_create("isolation-helper", LibC.MFD_CLOEXEC | LibC.MFD_ALLOW_SEALING);
        try {
            int done = 0;
            while (done < image.length) {
                byte[] rest = done == 0 ? image : java.util.Arrays.copyOfRange(image, done, image.length);
                done += (int) LibC.write(fd, rest, rest.length);
            }
            LibC.fcntl(fd, LibC.F_ADD_SEALS, LibC.F_SEAL_SEAL | LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW | LibC.F_SEAL_WRITE);
            if (!Files.isReadable(Path.of("/proc/self/fd/" + fd))) {
                throw new LastErrorException(Errno.ENOENT);
            }
            // The descriptor stays open for the life of the JVM: every helper is executed from it.
            return "/proc/self/fd/" + fd;
        } catch (LastErrorException e) {
            LibC.close(fd);
            throw e;
        }
    }

    private static String privateFile(byte[] image) {
        try {
            Path dir = Files.createTempDirectory("isolation-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path file = dir.resolve("isolation-helper");
            Files.write(file, image);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r-x------"));
            file.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            return file.toString();
        } catch (IOException e) {
            throw new LaunchException("write native helper", System.getProperty("java.io.tmpdir"), null, null, e.toString(),
                    "memfd_create is unavailable, so the helper must be written to a private temporary directory", e);
        }
    }
}
