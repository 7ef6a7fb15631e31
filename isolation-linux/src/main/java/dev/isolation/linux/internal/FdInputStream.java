package dev.isolation.linux.internal;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/** Reads a pipe through read(2). Closing it closes the descriptor. */
final class FdInputStream extends InputStream {
    private final Fd fd;

    FdInputStream(Fd fd) {
        this.fd = fd;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, buffer.length);
        if (length == 0) {
            return 0;
        }
        int number = fd.acquire();
        try {
            byte[] target = offset == 0 ? buffer : new byte[length];
            while (true) {
                try {
                    long n = LibC.read(number, target, length);
                    if (n == 0) {
                        return -1;
                    }
                    if (target != buffer) {
                        System.arraycopy(target, 0, buffer, offset, (int) n);
                    }
                    return (int) n;
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != Errno.EINTR) {
                        throw new IOException("read: " + Errno.name(e.getErrorCode()) + " (" + Errno.text(e.getErrorCode()) + ")", e);
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
