package dev.isolation;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where one of a sandbox's standard streams goes: a pipe to the caller, the caller's own
 * stream, a file on the host, or nowhere.
 *
 * <p>Immutable and thread-safe.
 */
public final class Redirect {
    /** The kinds of redirect. */
    public enum Kind {
        /** A pipe; the caller reads or writes it through {@link IsolatedProcess}. */
        PIPE,
        /** The same stream as the calling JVM's own. */
        INHERIT,
        /** {@code /dev/null}. */
        DISCARD,
        /** Read from a host file (stdin only). */
        READ_FILE,
        /** Write to a host file, truncating it (created with mode 0644 if missing). */
        WRITE_FILE,
        /** Append to a host file (created with mode 0644 if missing). */
        APPEND_FILE
    }

    /** A pipe to or from the caller: the default for all three streams. */
    public static final Redirect PIPE = new Redirect(Kind.PIPE, null);
    /** The calling JVM's own stream. */
    public static final Redirect INHERIT = new Redirect(Kind.INHERIT, null);
    /** {@code /dev/null}. */
    public static final Redirect DISCARD = new Redirect(Kind.DISCARD, null);

    private final Kind kind;
    private final Path file;

    private Redirect(Kind kind, Path file) {
        this.kind = kind;
        this.file = file;
    }

    /** Read standard input from a host file. */
    public static Redirect from(Path file) {
        return new Redirect(Kind.READ_FILE, Objects.requireNonNull(file, "file"));
    }

    /** Write the stream to a host file, truncating it first. */
    public static Redirect to(Path file) {
        return new Redirect(Kind.WRITE_FILE, Objects.requireNonNull(file, "file"));
    }

    /** Append the stream to a host file. */
    public static Redirect appendTo(Path file) {
        return new Redirect(Kind.APPEND_FILE, Objects.requireNonNull(file, "file"));
    }

    public Kind kind() {
        return kind;
    }

    /** The host file, for the file kinds. */
    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Redirect other && kind == other.kind && Objects.equals(file, other.file);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, file);
    }

    @Override
    public String toString() {
        return file == null ? kind.name() : kind + "(" + file + ")";
    }
}
