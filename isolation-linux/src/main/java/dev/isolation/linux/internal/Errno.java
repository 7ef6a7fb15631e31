package dev.isolation.linux.internal;

/** Names and descriptions of Linux error numbers, so messages read {@code EINVAL (Invalid argument)}. */
final class Errno {
    private Errno() {
    }

    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EBADF = 9;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int ENOTDIR = 20;
    static final int ENOSYS = 38;

    // Index = errno on Linux (x86-64 and aarch64 share these numbers).
    private static final String[][] TABLE = {
        {"0", "Success"},
        {"EPERM", "Operation not permitted"},
        {"ENOENT", "No such file or directory"},
        {"ESRCH", "No such process"},
        {"EINTR", "Interrupted system call"},
        {"EIO", "Input/output error"},
        {"ENXIO", "No such device or address"},
        {"E2BIG", "Argument list too long"},
        {"ENOEXEC", "Exec format error"},
        {"EBADF", "Bad file descriptor"},
        {"ECHILD", "No child processes"},
        {"EAGAIN", "Resource temporarily unavailable"},
        {"ENOMEM", "Cannot allocate memory"},
        {"EACCES", "Permission denied"},
        {"EFAULT", "Bad address"},
        {"ENOTBLK", "Block device required"},
        {"EBUSY", "Device or resource busy"},
        {"EEXIST", "File exists"},
        {"EXDEV", "Invalid cross-device link"},
        {"ENODEV", "No such device"},
        {"ENOTDIR", "Not a directory"},
        {"EISDIR", "Is a directory"},
        {"EINVAL", "Invalid argument"},
        {"ENFILE", "Too many open files in system"},
        {"EMFILE", "Too many open files"},
        {"ENOTTY", "Inappropriate ioctl for device"},
        {"ETXTBSY", "Text file busy"},
        {"EFBIG", "File too large"},
        {"ENOSPC", "No space left on device"},
        {"ESPIPE", "Illegal seek"},
        {"EROFS", "Read-only file system"},
        {"EMLINK", "Too many links"},
        {"EPIPE", "Broken pipe"},
        {"EDOM", "Numerical argument out of domain"},
        {"ERANGE", "Numerical result out of range"},
        {"EDEADLK", "Resource deadlock avoided"},
        {"ENAMETOOLONG", "File name too long"},
        {"ENOLCK", "No locks available"},
        {"ENOSYS", "Function not implemented"},
        {"ENOTEMPTY", "Directory not empty"},
        {"ELOOP", "Too many levels of symbolic links"},
    };

    /** The symbolic name, e.g. {@code EINVAL}, or {@code errno N} for numbers not in the table. */
    static String name(int errno) {
        if (errno > 0 && errno < TABLE.length) {
            return TABLE[errno][0];
        }
        return switch (errno) {
            case 95 -> "EOPNOTSUPP";
            case 110 -> "ETIMEDOUT";
            case 111 -> "ECONNREFUSED";
            case 104 -> "ECONNRESET";
            case 122 -> "EDQUOT";
            default -> "errno " + errno;
        };
    }

    /** The description strerror(3) gives. */
    static String text(int errno) {
        if (errno > 0 && errno < TABLE.length) {
            return TABLE[errno][1];
        }
        return switch (errno) {
            case 95 -> "Operation not supported";
            case 110 -> "Connection timed out";
            case 111 -> "Connection refused";
            case 104 -> "Connection reset by peer";
            case 122 -> "Disk quota exceeded";
            default -> "Unknown error " + errno;
        };
    }
}
