package dev.isolation;

/**
 * No implementation can launch isolated processes here: the platform is not Linux, or the
 * {@code isolation-linux} jar is not on the class path.
 */
public class IsolationUnavailableException extends IsolationException {
    private static final long serialVersionUID = 1L;

    public IsolationUnavailableException(String message) {
        super(message);
    }
}
