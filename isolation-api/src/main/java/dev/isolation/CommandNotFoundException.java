package dev.isolation;

/**
 * The sandbox was set up but its command does not exist inside it ({@code execve} failed with
 * {@code ENOENT}, or no directory of the sandbox's {@code PATH} holds it). The shell reports
 * this as exit status 127.
 */
public class CommandNotFoundException extends LaunchException {
    private static final long serialVersionUID = 1L;

    public CommandNotFoundException(String path, int errno, String errnoName, String errnoText, String hint) {
        super("execve", path, errno, errnoName, errnoText, hint);
    }
}
