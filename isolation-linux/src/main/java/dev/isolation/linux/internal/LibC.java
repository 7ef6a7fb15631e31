package dev.isolation.linux.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;

/**
 * The C library calls the JVM side makes, bound with JNA direct mapping (fast, no reflection per
 * call). Only 64-bit Linux is supported, so {@code size_t} and {@code ssize_t} are Java longs.
 *
 * <p>None of these forks, clones or changes namespaces: that is the native helper's work.
 */
final class LibC {
    static {
        Native.register(LibC.class, NativeLibrary.getInstance("c"));
    }

    private LibC() {
    }

    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;
    static final int O_CREAT = 0100;
    static final int O_TRUNC = 01000;
    static final int O_APPEND = 02000;
    static final int O_CLOEXEC = 02000000;

    static final int AF_UNIX = 1;
    static final int SOCK_STREAM = 1;
    static final int SOCK_CLOEXEC = O_CLOEXEC;
    static final int SOL_SOCKET = 1;
    static final int SCM_RIGHTS = 1;

    static final int F_DUPFD_CLOEXEC = 1030;
    static final int F_ADD_SEALS = 1033;
    static final int F_SEAL_SEAL = 1;
    static final int F_SEAL_SHRINK = 2;
    static final int F_SEAL_GROW = 4;
    static final int F_SEAL_WRITE = 8;
    static final int MFD_CLOEXEC = 1;
    static final int MFD_ALLOW_SEALING = 2;

    static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    static final short POSIX_SPAWN_SETSIGMASK = 0x08;

    static native int pipe2(int[] fds, int flags) throws LastErrorException;

    static native int close(int fd) throws LastErrorException;

    static native long read(int fd, byte[] buffer, long count) throws LastErrorException;

    static native long read(int fd, Pointer buffer, long count) throws LastErrorException;

    static native long write(int fd, byte[] buffer, long count) throws LastErrorException;

    static native long write(int fd, Pointer buffer, long count) throws LastErrorException;

    static native int open(String path, int flags, int mode) throws LastErrorException;

    static native int fcntl(int fd, int command, int argument) throws LastErrorException;

    static native int mkdir(String path, int mode) throws LastErrorException;

    static native int rmdir(String path) throws LastErrorException;

    static native int socketpair(int domain, int type, int protocol, int[] fds) throws LastErrorException;

    static final int SHUT_RDWR = 2;

    static native int shutdown(int fd, int how) throws LastErrorException;

    static native long sendmsg(int fd, Pointer message, int flags) throws LastErrorException;

    static native int memfd_create(String name, int flags) throws LastErrorException;

    static native int waitpid(int pid, int[] status, int options) throws LastErrorException;

    static native int geteuid();

    static native int getegid();

    static native int posix_spawn(int[] pid, String path, Pointer fileActions, Pointer attributes, StringArray argv, StringArray envp);

    static native int posix_spawn_file_actions_init(Pointer fileActions);

    static native int posix_spawn_file_actions_adddup2(Pointer fileActions, int fd, int newFd);

    static native int posix_spawn_file_actions_destroy(Pointer fileActions);

    static native int posix_spawnattr_init(Pointer attributes);

    static native int posix_spawnattr_setflags(Pointer attributes, short flags);

    static native int posix_spawnattr_setsigmask(Pointer attributes, Pointer mask);

    static native int posix_spawnattr_setsigdefault(Pointer attributes, Pointer signals);

    static native int posix_spawnattr_destroy(Pointer attributes);

    static native int sigemptyset(Pointer set);

    static native int sigfillset(Pointer set);
}
