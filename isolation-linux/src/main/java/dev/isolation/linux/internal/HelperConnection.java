package dev.isolation.linux.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;
import dev.isolation.IsolationException;
import dev.isolation.LaunchException;
import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
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
    /**
     * System property: {@code false} stops the helper from preparing a spare sandbox of the
     * last shapes launched (see prepared.c); read when the helper starts.
     */
    static final String PREPARE_PROPERTY = "isolation.prepare";
    /**
     * System property: a file to which the helper and its sandboxes append a line per launch
     * phase, {@code LAUNCH_ID PHASE NANOS} ({@code CLOCK_MONOTONIC}, as {@link System#nanoTime});
     * for diagnosing where a launch's time goes (README, Benchmark). Read when the helper starts.
     */
    static final String TRACE_PROPERTY = "isolation.trace";

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
                    new StringArray(helperArguments()), new StringArray(new String[0]));
            if (error != 0) {
                throw Failures.fromErrno("spawn native helper", path, error);
            }
            return pid[0];
        } finally {
            LibC.posix_spawnattr_destroy(attributes);
            LibC.posix_spawn_file_actions_destroy(fileActions);
        }
    }

    /**
     * The helper's command line: {@code -Disolation.prepare=false} turns prepared sandboxes off,
     * {@code -Disolation.trace=FILE} makes it trace launch phases into FILE (created if need be,
     * appended to; refused here, naming the property, when it cannot be written).
     */
    static String[] helperArguments() {
        List<String> arguments = new ArrayList<>(List.of("isolation-helper"));
        if ("false".equalsIgnoreCase(System.getProperty(PREPARE_PROPERTY, "true"))) {
            arguments.add("--prepared=0");
        }
        String trace = System.getProperty(TRACE_PROPERTY, "");
        if (!trace.isEmpty()) {
            try {
                Path file = Path.of(trace).toAbsolutePath(); // an invalid name is refused like an unwritable file
                Files.write(file, new byte[0], StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                arguments.add("--trace=" + file);
            } catch (IOException | RuntimeException e) {
                throw new LaunchException("open trace file (system property " + TRACE_PROPERTY + ")", trace,
                        null, null, e.toString(), "name a writable file, or leave the property unset", e);
            }
        }
        return arguments.toArray(String[]::new);
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
        sendSignal(Protocol.MSG_SIGNAL, id, signal);
    }

    /**
     * Asks the helper to signal every process of a launch (its PID namespace, its cgroup, or its
     * process group); a no-op once the helper is gone or the launch was reaped.
     */
    void signalAll(long id, int signal) {
        sendSignal(Protocol.MSG_SIGNAL_ALL, id, signal);
    }

    private void sendSignal(int type, long id, int signal) {
        if (closed) {
            return;
        }
        try {
            send(type, id, Protocol.buffer(4).putInt(signal).array(), new int[0]);
        } catch (LaunchException e) {
            // The helper died; its sandboxes died with it.
        }
    }

    /*
     * One native block per frame: struct iovec, struct msghdr, the SCM_RIGHTS control message
     * and the frame itself, written with plain stores (JNA Structures marshal reflectively, which
     * cost more than the sendmsg itself). LP64 layouts: iovec {base, len} is 16 bytes; msghdr
     * {name, namelen, iov, iovlen, control, controllen, flags} is 56; cmsghdr {len, level, type}
     * is 16, followed by the fds, padded to 8.
     */
    private static final long IOV = 0;
    private static final long MSGHDR = 16;
    private static final long CONTROL = MSGHDR + 56;

    private void send(int type, long id, byte[] payload, int[] fds) {
        byte[] header = Protocol.header(payload.length, type, fds.length, id);
        long controlLength = fds.length == 0 ? 0 : 16 + ((4L * fds.length + 7) & ~7L);
        long frameOffset = CONTROL + controlLength;
        long frameSize = header.length + (long) payload.length;
        Memory block = new Memory(frameOffset + frameSize);
        block.write(frameOffset, header, 0, header.length);
        if (payload.length > 0) {
            block.write(frameOffset + header.length, payload, 0, payload.length);
        }
        Pointer frame = block.share(frameOffset);
        block.setPointer(IOV, frame);
        block.setLong(IOV + 8, frameSize);
        block.setPointer(MSGHDR, null);
        block.setLong(MSGHDR + 8, 0);
        block.setPointer(MSGHDR + 16, block.share(IOV));
        block.setLong(MSGHDR + 24, 1);
        if (fds.length > 0) {
            block.setPointer(MSGHDR + 32, block.share(CONTROL));
            block.setLong(MSGHDR + 40, controlLength);
            block.setLong(CONTROL, 16 + 4L * fds.length);
            block.setInt(CONTROL + 8, LibC.SOL_SOCKET);
            block.setInt(CONTROL + 12, LibC.SCM_RIGHTS);
            block.setLong(CONTROL + controlLength - 8, 0); // padding
            for (int i = 0; i < fds.length; i++) {
                block.setInt(CONTROL + 16 + 4L * i, fds[i]);
            }
        } else {
            block.setPointer(MSGHDR + 32, null);
            block.setLong(MSGHDR + 40, 0);
        }
        block.setLong(MSGHDR + 48, 0);
        synchronized (writeLock) {
            if (closed) {
                throw new LaunchException("send to native helper", "", null, null, deathMessage(), null);
            }
            long sent = sendWithFds(block.share(MSGHDR));
            while (sent < frameSize) {
                try {
                    sent += LibC.write(socket, frame.share(sent), frameSize - sent);
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != Errno.EINTR) {
                        throw Failures.fromErrno("send to native helper", "", e.getErrorCode());
                    }
                }
            }
        }
        Reference.reachabilityFence(block);
    }

    private long sendWithFds(Pointer message) {
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
