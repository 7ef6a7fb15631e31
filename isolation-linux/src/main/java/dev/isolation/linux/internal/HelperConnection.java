package dev.isolation.linux.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.StringArray;
import dev.isolation.IsolationException;
import dev.isolation.LaunchException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One running native helper and the socket to it. Launches are multiplexed over the socket by
 * id; one daemon thread reads the helper's messages and dispatches them to the launches.
 *
 * <p>Thread-safe. When the helper dies (or is shut down), every launch still pending fails and
 * every running sandbox is reported as lost: the helper's death kills them (PDEATHSIG).
 */
final class HelperConnection {
    private final int socket;
    private final int helperPid;
    private final Object writeLock = new Object();
    private final Map<Long, LinuxIsolatedProcess> launches = new ConcurrentHashMap<>();
    private final Thread reader;
    private volatile boolean closed;

    private HelperConnection(int socket, int helperPid) {
        this.socket = socket;
        this.helperPid = helperPid;
        this.reader = new Thread(this::readLoop, "isolation-helper-reader-" + helperPid);
        this.reader.setDaemon(true);
    }

    /** Spawns a helper from {@code binary} and starts reading its messages. */
    static HelperConnection start(HelperBinary binary) {
        int[] pair = new int[2];
        try {
            LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, pair);
        } catch (LastErrorException e) {
            throw Failures.fromErrno("socketpair", "", e.getErrorCode());
        }
        int ours = pair[0];
        int theirs = pair[1];
        try {
            if (theirs == 3) {
                // dup2(3, 3) would leave close-on-exec set; move it out of the way first.
                int moved = LibC.fcntl(theirs, LibC.F_DUPFD_CLOEXEC, 10);
                LibC.close(theirs);
                theirs = moved;
            }
            int pid = spawn(binary.executablePath(), theirs);
            HelperConnection connection = new HelperConnection(ours, pid);
            connection.reader.start();
            return connection;
        } catch (RuntimeException e) {
            closeQuietly(ours);
            throw e;
        } finally {
            closeQuietly(theirs);
        }
    }

    private static int spawn(String path, int socketFd) {
        Memory fileActions = new Memory(256);
        Memory attributes = new Memory(512);
        Memory signals = new Memory(128);
        LibC.posix_spawn_file_actions_init(fileActions);
        LibC.posix_spawnattr_init(attributes);
        try {
            LibC.posix_spawn_file_actions_adddup2(fileActions, socketFd, 3);
            // The JVM blocks and handles signals of its own; the helper starts from a clean slate.
            LibC.sigemptyset(signals);
            LibC.posix_spawnattr_setsigmask(attributes, signals);
            LibC.sigfillset(signals);
            LibC.posix_spawnattr_setsigdefault(attributes, signals);
            LibC.posix_spawnattr_setflags(attributes, (short) (LibC.POSIX_SPAWN_SETSIGMASK | LibC.POSIX_SPAWN_SETSIGDEF));
            int[] pid = new int[1];
            int error = LibC.posix_spawn(pid, path, fileActions, attributes,
                    new StringArray(new String[] {"isolation-helper"}), new StringArray(new String[0]));
            if (error != 0) {
                throw Failures.fromErrno("spawn native helper", path, error);
            }
            return pid[0];
        } finally {
            LibC.posix_spawnattr_destroy(attributes);
            LibC.posix_spawn_file_actions_destroy(fileActions);
        }
    }

    boolean isClosed() {
        return closed;
    }

    int helperPid() {
        return helperPid;
    }

    /** Registers {@code process} and sends its LAUNCH frame with its three stdio descriptors. */
    void launch(LinuxIsolatedProcess process, byte[] payload, int[] stdio) {
        start(Protocol.MSG_LAUNCH, process, payload, stdio);
    }

    /** Registers a joined {@code process} and sends its JOIN frame with its three stdio descriptors. */
    void join(LinuxIsolatedProcess process, byte[] payload, int[] stdio) {
        start(Protocol.MSG_JOIN, process, payload, stdio);
    }

    private void start(int type, LinuxIsolatedProcess process, byte[] payload, int[] stdio) {
        launches.put(process.id(), process);
        try {
            send(type, process.id(), payload, stdio);
        } catch (RuntimeException e) {
            launches.remove(process.id());
            throw e;
        }
        if (closed) {
            // The reader may have failed every launch before ours was registered.
            process.helperDied(deathMessage());
        }
    }

    /** Asks the helper to signal a launch's main process; a no-op once the helper is gone. */
    void signal(long id, int signal) {
        if (closed) {
            return;
        }
        try {
            send(Protocol.MSG_SIGNAL, id, Protocol.buffer(4).putInt(signal).array(), new int[0]);
        } catch (LaunchException e) {
            // The helper died; its sandboxes died with it.
        }
    }

    /**
     * Asks the helper to signal every process of a launch (its PID namespace, its cgroup, or its
     * process group); a no-op once the helper is gone or the launch was reaped.
     */
    void signalAll(long id, int signal) {
        if (closed) {
            return;
        }
        try {
            send(Protocol.MSG_SIGNAL_ALL, id, Protocol.buffer(4).putInt(signal).array(), new int[0]);
        } catch (LaunchException e) {
            // The helper died; its sandboxes died with it.
        }
    }

    private void send(int type, long id, byte[] payload, int[] fds) {
        byte[] header = Protocol.header(payload.length, type, fds.length, id);
        Memory frame = new Memory(header.length + (long) payload.length);
        frame.write(0, header, 0, header.length);
        if (payload.length > 0) {
            frame.write(header.length, payload, 0, payload.length);
        }
        synchronized (writeLock) {
            if (closed) {
                throw new LaunchException("send to native helper", "", null, null, deathMessage(), null);
            }
            long sent = sendWithFds(frame, fds);
            while (sent < frame.size()) {
                try {
                    sent += LibC.write(socket, frame.share(sent), frame.size() - sent);
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != Errno.EINTR) {
                        throw Failures.fromErrno("send to native helper", "", e.getErrorCode());
                    }
                }
            }
        }
    }

    private long sendWithFds(Memory frame, int[] fds) {
        LibC.IoVec iov = new LibC.IoVec();
        iov.iov_base = frame;
        iov.iov_len = frame.size();
        iov.write();
        LibC.MsgHdr message = new LibC.MsgHdr();
        message.msg_iov = iov.getPointer();
        message.msg_iovlen = 1;
        Memory control = null;
        if (fds.length > 0) {
            // struct cmsghdr { size_t len; int level; int type; } followed by the fds, 8-aligned
            long dataLength = 4L * fds.length;
            control = new Memory(16 + ((dataLength + 7) & ~7L));
            control.clear();
            control.setLong(0, 16 + dataLength);
            control.setInt(8, LibC.SOL_SOCKET);
            control.setInt(12, LibC.SCM_RIGHTS);
            for (int i = 0; i < fds.length; i++) {
                control.setInt(16 + 4L * i, fds[i]);
            }
            message.msg_control = control;
            message.msg_controllen = control.size();
        }
        message.write();
        while (true) {
            try {
                return LibC.sendmsg(socket, message, 0);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EINTR) {
                    throw Failures.fromErrno("send to native helper", "", e.getErrorCode());
                }
            }
        }
    }

    private void readLoop() {
        String reason = "the native helper (pid " + helperPid + ") exited";
        try {
            byte[] header = new byte[Protocol.HEADER_BYTES];
            while (readFully(header)) {
                ByteBuffer h = ByteBuffer.wrap(header).order(java.nio.ByteOrder.nativeOrder());
                int length = h.getInt();
                int type = h.getShort() & 0xffff;
                h.getShort();
                long id = h.getLong();
                if (length < 0 || length > Protocol.MAX_FRAME) {
                    reason = "the native helper sent a frame of " + Integer.toUnsignedString(length) + " bytes";
                    break;
                }
                byte[] payload = new byte[length];
                if (!readFully(payload)) {
                    break;
                }
                dispatch(type, id, ByteBuffer.wrap(payload).order(java.nio.ByteOrder.nativeOrder()));
            }
        } catch (RuntimeException e) {
            reason = "reading from the native helper failed: " + e;
        } finally {
            finish(reason);
        }
    }

    private void dispatch(int type, long id, ByteBuffer payload) {
        switch (type) {
            case Protocol.MSG_HELLO -> {
                int version = payload.getInt();
                if (version != Protocol.VERSION) {
                    throw new IsolationException("native helper speaks protocol " + version + ", expected " + Protocol.VERSION);
                }
            }
            case Protocol.MSG_STARTED -> {
                LinuxIsolatedProcess process = launches.get(id);
                if (process != null) {
                    int pid = payload.getInt();
                    // version 2: the memory and cpu cgroup directories ("" without a cgroup)
                    String memoryCgroup = payload.hasRemaining() ? cString(payload) : "";
                    String cpuCgroup = payload.hasRemaining() ? cString(payload) : "";
                    process.cgroupDirectories(memoryCgroup, cpuCgroup);
                    process.started(pid);
                }
            }
            case Protocol.MSG_FAILED -> {
                LinuxIsolatedProcess process = launches.remove(id);
                int errno = payload.getInt();
                String step = cString(payload);
                String path = cString(payload);
                if (process != null) {
                    process.failed(Failures.fromHelper(step, path, errno, process.spec()));
                }
            }
            case Protocol.MSG_EXITED -> {
                LinuxIsolatedProcess process = launches.remove(id);
                if (process != null) {
                    int status = payload.getInt();
                    int flags = payload.getInt();
                    long userMicros = payload.getLong();
                    long systemMicros = payload.getLong();
                    long maxRssKib = payload.getLong();
                    if (payload.remaining() >= 16) {
                        process.cgroupFigures(flags, payload.getLong(), payload.getLong());
                    }
                    process.exited(status, userMicros, systemMicros, maxRssKib);
                }
            }
            case Protocol.MSG_PROTOCOL_ERROR -> throw new IsolationException(
                    "native helper refused a request: " + StandardCharsets.UTF_8.decode(payload));
            default -> throw new IsolationException("native helper sent unknown message type " + type);
        }
    }

    private static String cString(ByteBuffer buffer) {
        int start = buffer.position();
        int end = start;
        while (end < buffer.limit() && buffer.get(end) != 0) {
            end++;
        }
        String value = new String(buffer.array(), start, end - start, StandardCharsets.UTF_8);
        buffer.position(Math.min(end + 1, buffer.limit()));
        return value;
    }

    private boolean readFully(byte[] target) {
        int done = 0;
        byte[] chunk = target;
        while (done < target.length) {
            try {
                if (done > 0 && chunk == target) {
                    chunk = new byte[target.length];
                }
                long n = LibC.read(socket, chunk, target.length - done);
                if (n == 0) {
                    return false;
                }
                if (chunk != target) {
                    System.arraycopy(chunk, 0, target, done, (int) n);
                }
                done += (int) n;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EINTR) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Stops the helper: it kills and reaps every sandbox, then exits. Returns once the helper is
     * reaped, so that no zombie and no sandbox remains.
     */
    void close() {
        synchronized (writeLock) {
            if (!closed) {
                // shutdown(2), not close(2): the reader thread is blocked reading this descriptor,
                // and closing it under the reader could let the number be reused.
                try {
                    LibC.shutdown(socket, LibC.SHUT_RDWR);
                } catch (LastErrorException ignored) {
                    // already disconnected
                }
            }
        }
        if (Thread.currentThread() != reader) {
            boolean interrupted = false;
            while (reader.isAlive()) {
                try {
                    reader.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Called once by the reader thread when the socket ends: releases everything. */
    private void finish(String reason) {
        synchronized (writeLock) {
            closed = true;
            deathReason = reason;
            closeQuietly(socket);
        }
        try {
            LibC.waitpid(helperPid, new int[1], 0);
        } catch (LastErrorException e) {
            // Already reaped (ECHILD): nothing to do.
        }
        for (LinuxIsolatedProcess process : launches.values()) {
            process.helperDied(deathMessage());
        }
        launches.clear();
    }

    private volatile String deathReason = "";

    private String deathMessage() {
        return deathReason + "; its sandboxes were killed with it";
    }

    private static void closeQuietly(int fd) {
        try {
            LibC.close(fd);
        } catch (LastErrorException ignored) {
            // close(2) releases the descriptor even when it reports an error
        }
    }
}
