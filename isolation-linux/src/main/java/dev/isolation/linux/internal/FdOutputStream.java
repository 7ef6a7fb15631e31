package dev.isolation.linux.internal;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Objects;

/** Writes a pipe through write(2), unbuffered. Closing it closes the descriptor. */
final class FdOutputStream extends OutputStream {
    private final Fd fd;

    FdOutputStream(Fd fd) {
        this.fd = fd;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] buffer, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, buffer.length);
        int number = fd.acquire();
        try {
            byte[] remaining = offset == 0 && length == buffer.length ? buffer : Arrays.copyOfRange(buffer, offset, offset + length);
            int done = 0;
            while (done < length) {
                try {
                    byte[] chunk = done == 0 ? remaining : Arrays.copyOfRange(remaining, done, length);
                    done += (int) LibC.write(number, chunk, length - done);
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != Errno.EINTR) {
                        throw new IOException("write: " + Errno.name(e.getErrorCode()) + " (" + Errno.text(e.getErrorCode()) + ")", e);
                    }
                }
            }
        } finally {
            fd.release();
        }
    }

    @Override
    public void close() {
        fd.close();
    }
}
