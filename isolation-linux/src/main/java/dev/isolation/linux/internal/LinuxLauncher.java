package dev.isolation.linux.internal;

import com.sun.jna.LastErrorException;
import dev.isolation.HostReport;
import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.JoinSpec;
import dev.isolation.LaunchException;
import dev.isolation.Launcher;
import dev.isolation.Mount;
import dev.isolation.Namespace;
import dev.isolation.Redirect;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Launches sandboxes through one long-lived native helper per JVM, started on first use and
 * restarted if it dies. Thread-safe.
 */
final class LinuxLauncher implements Launcher {
    private static final int STDIN = 0;

    private final AtomicLong nextId = new AtomicLong(1);
    /** Completes onExit futures off the reader thread, and fires timeouts: one thread for both. */
    private final ScheduledThreadPoolExecutor scheduler = newScheduler();
    private HelperBinary binary;
    private HelperConnection helper;
    /** The library's cgroup parents for resource limits, prepared per helper. */
    private final Cgroups cgroups = new Cgroups();

    @Override
    public IsolatedProcess launch(IsolatedProcessSpec spec) {
        Objects.requireNonNull(spec, "spec");
        Stdio stdio = Stdio.open(spec);
        HelperConnection connection;
        byte[] payload;
        try {
            connection = helper();
            payload = cgroups.withLimits(encodeCached(spec), spec, connection.helperPid());
        } catch (RuntimeException e) {
            stdio.closeAll();
            throw e;
        }
        LinuxIsolatedProcess process = new LinuxIsolatedProcess(nextId.getAndIncrement(), spec, spec.command(), this,
                connection, scheduler, stdio.stdin(), stdio.stdout(), stdio.stderr());
        sendAndAwaitStart(process, stdio, () -> connection.launch(process, payload, stdio.childEnds()));
        spec.timeout().ifPresent(timeout -> process.expireAfter(timeout, scheduler));
        return process;
    }

    private static ScheduledThreadPoolExecutor newScheduler() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "isolation-notifier");
            thread.setDaemon(true);
            return thread;
        });
        // a cancelled timeout must not keep its handle reachable until it would have fired
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    @Override
    public IsolatedProcess join(long pid, JoinSpec spec) {
        Objects.requireNonNull(spec, "spec");
        if (pid <= 0 || pid > Integer.MAX_VALUE) {
            int esrch = 3;
            throw new LaunchException("find target", "/proc/" + pid, esrch, Errno.name(esrch), Errno.text(esrch), "not a process id");
        }
        return join(helper(), -1, pid, spec);
    }

    /**
     * Starts {@code spec} in the namespaces of launch {@code targetLaunch} of {@code connection}
     * (its main process {@code targetPid}), or of any process {@code targetPid} when
     * {@code targetLaunch} is negative. Returns once the command executes.
     */
    IsolatedProcess join(HelperConnection connection, long targetLaunch, long targetPid, JoinSpec spec) {
        byte[] payload = encodeJoin(spec, targetLaunch, targetPid);
        Stdio stdio = Stdio.open(spec.stdin(), spec.stdout(), spec.stderr());
        LinuxIsolatedProcess process = new LinuxIsolatedProcess(nextId.getAndIncrement(), null, spec.command(), this,
                connection, scheduler, stdio.stdin(), stdio.stdout(), stdio.stderr());
        sendAndAwaitStart(process, stdio, () -> connection.join(process, payload, stdio.childEnds()));
        return process;
    }

    /**
     * Runs {@code send} (a LAUNCH or JOIN frame carrying the child's ends of {@code stdio}),
     * closes those ends, which the helper now holds, and waits until the command executes. A
     * failed send closes our ends too.
     */
    private static void sendAndAwaitStart(LinuxIsolatedProcess process, Stdio stdio, Runnable send) {
        try {
            send.run();
        } catch (RuntimeException e) {
            stdio.closeAll();
            throw e;
        } finally {
            stdio.closeChildEnds();
        }
        process.awaitStart();
    }

    /**
     * The namespaces a join enters: those named, or (none named) every one the target does not
     * share with the helper. An unprivileged caller always enters the target's user namespace
     * too: without it, it could enter none of the others.
     */
    static long joinNamespaceFlags(Set<Namespace> namespaces) {
        if (namespaces.isEmpty()) {
            return 0;
        }
        long flags = cloneFlags(namespaces);
        if (namespaces.contains(Namespace.TIME)) {
            flags |= Protocol.CLONE_NEWTIME;
        }
        if (LibC.geteuid() != 0) {
            flags |= Protocol.CLONE_NEWUSER;
        }
        return flags;
    }

    static byte[] encodeJoin(JoinSpec spec, long targetLaunch, long targetPid) {
        Protocol.TlvWriter tlv = new Protocol.TlvWriter();
        for (String argument : spec.command()) {
            tlv.string(Protocol.TLV_ARG, argument);
        }
        for (Map.Entry<String, String> variable : spec.effectiveEnvironment().entrySet()) {
            tlv.string(Protocol.TLV_ENV, variable.getKey() + "=" + variable.getValue());
        }
        tlv.string(Protocol.TLV_CWD, spec.workingDirectory().orElse("/"));
        if (spec.uid().isPresent() || spec.gid().isPresent()) {
            tlv.ids(Protocol.TLV_RUN_AS, spec.uid().orElse(Protocol.JOIN_TARGETS_ID), spec.gid().orElse(Protocol.JOIN_TARGETS_ID));
        }
        if (targetLaunch >= 0) {
            tlv.u64(Protocol.TLV_JOIN_LAUNCH, targetLaunch);
        } else {
            tlv.bytes(Protocol.TLV_JOIN_PID, Protocol.buffer(4).putInt((int) targetPid).array());
        }
        if (!spec.namespaces().isEmpty()) {
            tlv.u64(Protocol.TLV_JOIN_NAMESPACES, joinNamespaceFlags(spec.namespaces()));
        }
        return tlv.toByteArray();
    }

    @Override
    public HostReport probe() {
        return HostProbe.run(this);
    }

    /** The running helper, started (again) when there is none. */
    synchronized HelperConnection helper() {
        if (helper == null || helper.isClosed()) {
            if (binary == null) {
                binary = HelperBinary.load();
            }
            helper = HelperConnection.start(binary);
        }
        return helper;
    }

    /** Stops the helper, killing every sandbox it runs; the next launch starts a new one. For tests. */
    synchronized void stopHelper() {
        if (helper != null) {
            helper.close();
            helper = null;
        }
    }

    static long cloneFlags(Set<Namespace> namespaces) {
        long flags = 0;
        for (Namespace namespace : namespaces) {
            flags |= switch (namespace) {
                case USER -> Protocol.CLONE_NEWUSER;
                case PID -> Protocol.CLONE_NEWPID;
                case MOUNT -> Protocol.CLONE_NEWNS;
                case NET -> Protocol.CLONE_NEWNET;
                case UTS -> Protocol.CLONE_NEWUTS;
                case IPC -> Protocol.CLONE_NEWIPC;
                case CGROUP -> Protocol.CLONE_NEWCGROUP;
                case TIME -> 0L; // unshared in the child, just before execve
            };
        }
        return flags;
    }

    /** The namespaces actually created: an unprivileged caller always gets a user namespace. */
    static Set<Namespace> namespacesFor(IsolatedProcessSpec spec) {
        Set<Namespace> namespaces = spec.effectiveNamespaces();
        if (LibC.geteuid() != 0 && !namespaces.contains(Namespace.USER)) {
            java.util.EnumSet<Namespace> withUser = java.util.EnumSet.copyOf(namespaces);
            withUser.add(Namespace.USER);
            return withUser;
        }
        return namespaces;
    }

    /** The last spec encoded, by identity, with the ids it was encoded for and its payload. */
    private record Encoded(IsolatedProcessSpec spec, int euid, int egid, byte[] payload) {
    }

    private volatile Encoded lastEncoded;

    /**
     * {@link #encode} of a spec, reusing the payload when the same (immutable) spec instance is
     * launched again by the same effective ids, as a loop launching one spec does. Callers never
     * modify the payload ({@link Cgroups#withLimits} copies it).
     */
    private byte[] encodeCached(IsolatedProcessSpec spec) {
        int euid = LibC.geteuid();
        int egid = LibC.getegid();
        Encoded last = lastEncoded;
        if (last != null && last.spec() == spec && last.euid() == euid && last.egid() == egid) {
            return last.payload();
        }
        byte[] payload = encode(spec);
        lastEncoded = new Encoded(spec, euid, egid, payload);
        return payload;
    }

    static byte[] encode(IsolatedProcessSpec spec) {
        Protocol.TlvWriter tlv = new Protocol.TlvWriter();
        for (String argument : spec.command()) {
            tlv.string(Protocol.TLV_ARG, argument);
        }
        for (Map.Entry<String, String> variable : spec.effectiveEnvironment().entrySet()) {
            tlv.string(Protocol.TLV_ENV, variable.getKey() + "=" + variable.getValue());
        }
        tlv.string(Protocol.TLV_CWD, spec.workingDirectory().orElse("/"));
        Set<Namespace> namespaces = namespacesFor(spec);
        tlv.u64(Protocol.TLV_CLONE_FLAGS, cloneFlags(namespaces));
        if (namespaces.contains(Namespace.TIME)) {
            tlv.empty(Protocol.TLV_UNSHARE_TIME);
        }
        if (namespaces.contains(Namespace.USER)) {
            encodeIdentity(spec, tlv);
        }
        spec.rootfs().ifPresent(root -> tlv.string(Protocol.TLV_ROOTFS, root.toString()));
        if (spec.writableRoot()) {
            tlv.empty(Protocol.TLV_ROOT_WRITABLE);
        }
        for (Mount mount : spec.mounts()) {
            int kind = mount.kind() == Mount.Kind.BIND ? Protocol.MOUNT_BIND : Protocol.MOUNT_TMPFS;
            int flags = mount.readOnly() ? Protocol.MOUNTF_READONLY : 0;
            String source = mount.source().map(Object::toString).orElse("tmpfs");
            tlv.mount(kind, flags, mount.sizeBytes().orElse(0), source, mount.destination());
        }
        spec.hostname().ifPresent(name -> tlv.string(Protocol.TLV_HOSTNAME, name));
        if (spec.init()) {
            tlv.empty(Protocol.TLV_INIT);
        }
        return tlv.toByteArray();
    }

    private static void encodeIdentity(IsolatedProcessSpec spec, Protocol.TlvWriter tlv) {
        IdMaps.Plan uids = IdMaps.uidPlan(spec);
        IdMaps.Plan gids = IdMaps.gidPlan(spec);
        tlv.string(Protocol.TLV_UID_MAP, uids.mapText());
        tlv.string(Protocol.TLV_GID_MAP, gids.mapText());
        uids.tool().ifPresent(tool -> tlv.string(Protocol.TLV_NEWUIDMAP, tool));
        gids.tool().ifPresent(tool -> tlv.string(Protocol.TLV_NEWGIDMAP, tool));
        if (gids.tool().isEmpty() && LibC.geteuid() != 0) {
            // The kernel lets an unprivileged process write a gid_map only after denying setgroups.
            tlv.empty(Protocol.TLV_SETGROUPS_DENY);
        }
        long callerUid = Integer.toUnsignedLong(LibC.geteuid());
        long callerGid = Integer.toUnsignedLong(LibC.getegid());
        long defaultUid = uids.defaultInsideId(callerUid);
        long defaultGid = gids.defaultInsideId(callerGid);
        long uid = spec.uid().isPresent() ? spec.uid().getAsInt() : defaultUid;
        long gid = spec.gid().isPresent() ? spec.gid().getAsInt() : defaultGid;
        boolean callerUidMapped = uids.mappings().stream().anyMatch(m -> m.containsOutside(callerUid) && m.inside() + (callerUid - m.outside()) == uid);
        boolean callerGidMapped = gids.mappings().stream().anyMatch(m -> m.containsOutside(callerGid) && m.inside() + (callerGid - m.outside()) == gid);
        if (!callerUidMapped || !callerGidMapped) {
            tlv.ids(Protocol.TLV_RUN_AS, (int) uid, (int) gid);
        }
    }

    /** One {@code /dev/null} descriptor, opened once and shared by every launch that discards a stream. */
    private static final class DevNull {
        private static final int FD = open();

        private static int open() {
            try {
                return LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0);
            } catch (LastErrorException e) {
                throw Failures.fromErrno("open", "/dev/null", e.getErrorCode());
            }
        }

        static int fd() {
            return FD;
        }
    }

    /** The JVM's and the sandbox's ends of the three standard streams of one launch. */
    private record Stdio(Fd[] parentEnds, int[] childEnds, boolean[] ownsChildEnd) {

        static Stdio open(IsolatedProcessSpec spec) {
            return open(spec.stdin(), spec.stdout(), spec.stderr());
        }

        static Stdio open(Redirect stdin, Redirect stdout, Redirect stderr) {
            Stdio stdio = new Stdio(new Fd[3], new int[] {-1, -1, -1}, new boolean[3]);
            try {
                stdio.open(STDIN, stdin, "stdin");
                stdio.open(1, stdout, "stdout");
                stdio.open(2, stderr, "stderr");
                return stdio;
            } catch (RuntimeException e) {
                stdio.closeAll();
                throw e;
            }
        }

        private void open(int stream, Redirect redirect, String name) {
            switch (redirect.kind()) {
                case PIPE -> {
                    int[] pipe = new int[2];
                    try {
                        LibC.pipe2(pipe, LibC.O_CLOEXEC);
                    } catch (LastErrorException e) {
                        throw Failures.fromErrno("create " + name + " pipe", "", e.getErrorCode());
                    }
                    boolean input = stream == STDIN;
                    parentEnds[stream] = new Fd(input ? pipe[1] : pipe[0]);
                    childEnds[stream] = input ? pipe[0] : pipe[1];
                    ownsChildEnd[stream] = true;
                }
                case INHERIT -> childEnds[stream] = stream;
                case DISCARD -> childEnds[stream] = DevNull.fd();
                case READ_FILE -> openFile(stream, redirect.file().orElseThrow().toString(), LibC.O_RDONLY, name);
                case WRITE_FILE -> openFile(stream, redirect.file().orElseThrow().toString(), LibC.O_WRONLY | LibC.O_CREAT | LibC.O_TRUNC, name);
                case APPEND_FILE -> openFile(stream, redirect.file().orElseThrow().toString(), LibC.O_WRONLY | LibC.O_CREAT | LibC.O_APPEND, name);
            }
        }

        private void openFile(int stream, String path, int flags, String name) {
            try {
                childEnds[stream] = LibC.open(path, flags | LibC.O_CLOEXEC, 0644);
                ownsChildEnd[stream] = true;
            } catch (LastErrorException e) {
                throw Failures.fromErrno("open " + name, path, e.getErrorCode());
            }
        }

        OutputStream stdin() {
            return parentEnds[0] == null ? OutputStream.nullOutputStream() : new FdOutputStream(parentEnds[0]);
        }

        InputStream stdout() {
            return parentEnds[1] == null ? InputStream.nullInputStream() : new FdInputStream(parentEnds[1]);
        }

        InputStream stderr() {
            return parentEnds[2] == null ? InputStream.nullInputStream() : new FdInputStream(parentEnds[2]);
        }

        void closeChildEnds() {
            for (int i = 0; i < 3; i++) {
                if (ownsChildEnd[i] && childEnds[i] >= 0) {
                    try {
                        LibC.close(childEnds[i]);
                    } catch (LastErrorException ignored) {
                        // released anyway
                    }
                    ownsChildEnd[i] = false;
                }
            }
        }

        void closeAll() {
            closeChildEnds();
            for (Fd fd : parentEnds) {
                if (fd != null) {
                    fd.close();
                }
            }
        }
    }
}
