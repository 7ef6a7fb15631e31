package dev.isolation;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Setting up a sandbox failed. The message names the step, the path it worked on and the
 * error the kernel gave, e.g. {@code pivot_root(/srv/root): EINVAL (Invalid argument)}.
 *
 * <p>When this is thrown, nothing of the failed launch remains: its processes are reaped, and
 * its mounts, cgroups and file descriptors are gone.
 *
 * <p>Subclasses tell the command's own failure to start ({@link CommandNotFoundException},
 * {@link CommandNotExecutableException}) and a host that does not allow what was asked
 * ({@link UnsupportedHostException}) from other set-up failures.
 */
public class LaunchException extends IsolationException {
    private static final long serialVersionUID = 1L;

    private final String step;
    private final String path;
    private final Integer errno;
    private final String errnoName;

    /**
     * @param step the step that failed, e.g. {@code "pivot_root"} or {@code "write uid_map"}
     * @param path the path the step worked on, or {@code null} or empty when it has none
     * @param errno the error number, or {@code null} when the failure has none
     * @param errnoName the symbolic name of the error number, e.g. {@code "EINVAL"}
     * @param errnoText the system's description of the error, e.g. {@code "Invalid argument"}
     * @param hint what the reader can do about it, or {@code null}
     */
    public LaunchException(String step, String path, Integer errno, String errnoName, String errnoText, String hint) {
        this(step, path, errno, errnoName, errnoText, hint, null);
    }

    /** Like the other constructor, with a cause. */
    public LaunchException(String step, String path, Integer errno, String errnoName, String errnoText, String hint, Throwable cause) {
        super(format(step, path, errnoName, errnoText, hint), cause);
        this.step = Objects.requireNonNull(step, "step");
        this.path = path == null || path.isEmpty() ? null : path;
        this.errno = errno;
        this.errnoName = errnoName;
    }

    /** The step that failed, e.g. {@code "pivot_root"}, {@code "mount proc"}, {@code "execve"}. */
    public String step() {
        return step;
    }

    /** The path the failed step worked on, when it had one. */
    public Optional<String> path() {
        return Optional.ofNullable(path);
    }

    /** The error number the kernel returned, when the failure came from a system call. */
    public OptionalInt errno() {
        return errno == null ? OptionalInt.empty() : OptionalInt.of(errno);
    }

    /** The symbolic name of {@link #errno()}, e.g. {@code "EACCES"}. */
    public Optional<String> errnoName() {
        return Optional.ofNullable(errnoName);
    }

    private static String format(String step, String path, String errnoName, String errnoText, String hint) {
        StringBuilder message = new StringBuilder(step);
        if (path != null && !path.isEmpty()) {
            message.append('(').append(path).append(')');
        }
        if (errnoName != null || errnoText != null) {
            message.append(": ");
            if (errnoName != null) {
                message.append(errnoName);
            }
            if (errnoText != null) {
                message.append(errnoName != null ? " (" + errnoText + ")" : errnoText);
            }
        }
        if (hint != null && !hint.isEmpty()) {
            message.append(". ").append(hint);
        }
        return message.toString();
    }
}
