package dev.isolation;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * An extra mount in a sandbox's filesystem: a host path bound in (read-only or read-write), or
 * an empty tmpfs. Mounts are applied in the order given, after the root, {@code /proc} and
 * {@code /dev}, so a later one may cover an earlier one.
 *
 * <p>A mount point that does not exist is created (a directory, or an empty file when a file is
 * bound); in a read-only root that fails with a {@link LaunchException} naming the path.
 *
 * <p>Immutable and thread-safe.
 */
public final class Mount {
    /** The kinds of mount. */
    public enum Kind { BIND, TMPFS }

    private final Kind kind;
    private final Path source;
    private final String destination;
    private final boolean readOnly;
    private final Long sizeBytes;

    private Mount(Kind kind, Path source, String destination, boolean readOnly, Long sizeBytes) {
        this.kind = kind;
        this.source = source;
        this.destination = Objects.requireNonNull(destination, "destination");
        this.readOnly = readOnly;
        this.sizeBytes = sizeBytes;
    }

    /** Binds the host path {@code source} read-only at {@code destination} inside the sandbox. */
    public static Mount bindReadOnly(Path source, String destination) {
        return new Mount(Kind.BIND, Objects.requireNonNull(source, "source"), destination, true, null);
    }

    /** Binds the host path {@code source} read-write at {@code destination} inside the sandbox. */
    public static Mount bind(Path source, String destination) {
        return new Mount(Kind.BIND, Objects.requireNonNull(source, "source"), destination, false, null);
    }

    /** An empty, writable tmpfs at {@code destination}, of the kernel's default size limit. */
    public static Mount tmpfs(String destination) {
        return new Mount(Kind.TMPFS, null, destination, false, null);
    }

    /** An empty, writable tmpfs at {@code destination} holding at most {@code sizeBytes}. */
    public static Mount tmpfs(String destination, long sizeBytes) {
        if (sizeBytes <= 0) {
            throw new InvalidSpecException("mounts", "a tmpfs size must be positive, got " + sizeBytes);
        }
        return new Mount(Kind.TMPFS, null, destination, false, sizeBytes);
    }

    public Kind kind() {
        return kind;
    }

    /** The host path, for a bind mount. */
    public Optional<Path> source() {
        return Optional.ofNullable(source);
    }

    /** The absolute path inside the sandbox. */
    public String destination() {
        return destination;
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** The size limit of a tmpfs, when one was given. */
    public OptionalLong sizeBytes() {
        return sizeBytes == null ? OptionalLong.empty() : OptionalLong.of(sizeBytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Mount other && kind == other.kind && Objects.equals(source, other.source)
                && destination.equals(other.destination) && readOnly == other.readOnly
                && Objects.equals(sizeBytes, other.sizeBytes);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, source, destination, readOnly, sizeBytes);
    }

    @Override
    public String toString() {
        return kind == Kind.TMPFS
                ? "tmpfs(" + destination + (sizeBytes == null ? "" : ", " + sizeBytes + " bytes") + ")"
                : (readOnly ? "bindReadOnly(" : "bind(") + source + " -> " + destination + ")";
    }
}
