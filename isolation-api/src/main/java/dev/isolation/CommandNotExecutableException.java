package dev.isolation;

/**
 * The sandbox was set up and its command exists, but could not be executed (no execute
 * permission, a bad binary format, a missing interpreter...). The shell reports this as exit
 * status 126.
 */
public class CommandNotExecutableException extends LaunchException {
    private static final long serialVersionUID = 1L;

    public CommandNotExecutableException(String path, int errno, String errnoName, String errnoText, String hint) {
        super("execve", path, errno, errnoName, errnoText, hint);
    }
}
