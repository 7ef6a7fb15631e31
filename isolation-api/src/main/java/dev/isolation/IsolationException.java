package dev.isolation;

/**
 * Base of the library's unchecked exceptions other than {@link InvalidSpecException}, which is
 * an {@link IllegalArgumentException}.
 */
public class IsolationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public IsolationException(String message) {
        super(message);
    }

    public IsolationException(String message, Throwable cause) {
        super(message, cause);
    }
}
