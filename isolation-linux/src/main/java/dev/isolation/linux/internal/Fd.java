package dev.isolation.linux.internal;

import com.sun.jna.LastErrorException;
import java.io.IOException;

/**
 * An owned file descriptor that is closed exactly once, and never while a read or write on
 * it is in progress: closing marks it closed, and the last user out closes the number, so a
 * concurrent read can never hit a reused descriptor.
 */
final class Fd implements AutoCloseable {
    private final int number;
    private int users;
    private boolean closeRequested;
    private boolean closed;

    Fd(int number) {
        this.number = number;
    }

    /** Begins a use; the number stays valid until {@link #release()}. */
    synchronized int acquire() throws IOException {
        if (closeRequested) {
            throw new IOException("Stream closed");
        }
        users++;
        return number;
    }

    synchronized void release() {
        users--;
        closeIfUnused();
    }

    /** The number, for handing to the helper; valid only until {@link #close()}. */
    int number() {
        return number;
    }

    synchronized boolean isClosed() {
        return closeRequested;
    }

    @Override
    public synchronized void close() {
        closeRequested = true;
        closeIfUnused();
    }

    private void closeIfUnused() {
        if (closeRequested && users == 0 && !closed) {
            closed = true;
            try {
                LibC.close(number);
            } catch (LastErrorException ignored) {
                // close(2) releases the descriptor even when it reports an error
            }
        }
    }
}
