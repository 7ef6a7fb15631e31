package dev.isolation;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import org.immutables.value.Value;

/**
 * What to run and how to isolate it. Build one with {@link #builder()}:
 *
 * <pre>{@code
 * IsolatedProcessSpec spec = IsolatedProcessSpec.builder()
 *     .command("/bin/sh", "-c", "hostname; ps -ef")
 *     .addNamespaces(Namespace.USER, Namespace.PID, Namespace.MOUNT, Namespace.UTS, Namespace.IPC, Namespace.NET)
 *     .addUidMappings(IdMapping.of(0, hostUid, 1))
 *     .addGidMappings(IdMapping.of(0, hostGid, 1))
 *     .rootfs(Path.of("/srv/rootfs"))
 *     .hostname("box")
 *     .build();
 * }</pre>
 *
 * <p>Defaults: every namespace of {@link #DEFAULT_NAMESPACES} when none is added; the caller's
 * own uid and gid inside when no mapping is given; the host root read-only, with a fresh
 * {@code /proc}, a minimal {@code /dev} and a private tmpfs {@code /tmp}, when no root
 * filesystem is given (like {@code bwrap --ro-bind / /}); an environment holding only
 * {@code PATH}; working directory {@code /}; all three standard streams piped.
 *
 * <p>{@code build()} checks every rule and throws an {@link InvalidSpecException} naming the
 * field and the rule: ranges that overlap, relative paths, a hostname the kernel refuses, a
 * mapping without a user namespace, mappings an unprivileged caller cannot write, and so on.
 *
 * <p>Immutable and thread-safe; one spec may be launched any number of times.
 */
@Value.Immutable
@SpecStyle
public abstract class IsolatedProcessSpec {

    /** The namespaces a sandbox gets when the spec names none. */
    public static final Set<Namespace> DEFAULT_NAMESPACES = Collections.unmodifiableSet(EnumSet.of(
            Namespace.USER, Namespace.PID, Namespace.MOUNT, Namespace.NET, Namespace.UTS, Namespace.IPC));

    /** The {@code PATH} a sandbox gets unless the environment sets one. */
    public static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /** Linux refuses longer hostnames ({@code HOST_NAME_MAX}). */
    static final int MAX_HOSTNAME_BYTES = 64;

    /** Below this the kernel's own allocations alone would trip the limit. */
    static final long MIN_MEMORY_LIMIT = 1L << 20;

    /** Linux accepts at most this many lines in a uid or gid map (since 4.15). */
    static final int MAX_ID_MAPPINGS = 340;

    IsolatedProcessSpec() {
    }

    /** A new, empty builder. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder that starts from this spec's values. */
    public Builder toBuilder() {
        return builder().from(this);
    }

    /**
     * Builds {@link IsolatedProcessSpec}s. Not thread-safe; use one builder per thread.
     * {@code build()} throws {@link InvalidSpecException}.
     */
    public static final class Builder extends ImmutableIsolatedProcessSpec.Builder {
        Builder() {
        }

        /** Sets the command and its arguments; the first is the executable. */
        public Builder command(String... commandAndArguments) {
            return command(Arrays.asList(commandAndArguments));
        }
    }

    /** The executable and its arguments. An executable without a {@code /} is looked up in the sandbox's {@code PATH}. */
    public abstract List<String> command();

    /** Environment variables set in the sandbox, on top of the inherited ones if {@link #inheritEnvironment()}. */
    public abstract Map<String, String> environment();

    /** Whether the sandbox starts from the calling JVM's environment. Default: no. */
    @Value.Default
    public boolean inheritEnvironment() {
        return false;
    }

    /** The working directory inside the sandbox, absolute. Default {@code /}. */
    public abstract Optional<String> workingDirectory();

    /** The namespaces to create. Empty means {@link #DEFAULT_NAMESPACES}; see {@link #effectiveNamespaces()}. */
    public abstract Set<Namespace> namespaces();

    /** The uid map, one range per line; empty means the caller's own uid maps to itself. */
    public abstract List<IdMapping> uidMappings();

    /** The gid map; empty means the caller's own gid maps to itself. */
    public abstract List<IdMapping> gidMappings();

    /**
     * The uid the command runs as inside the sandbox. Default: the inside id of the caller's own
     * uid when it is mapped, else the first mapped inside id.
     */
    public abstract OptionalInt uid();

    /** The gid the command runs as inside the sandbox; defaults like {@link #uid()}. */
    public abstract OptionalInt gid();

    /**
     * The host directory that becomes the sandbox's root, entered with {@code pivot_root}. Empty
     * means the host root, read-only.
     */
    public abstract Optional<Path> rootfs();

    /** Whether the root filesystem stays writable; only with {@link #rootfs()}. Default: read-only. */
    @Value.Default
    public boolean writableRoot() {
        return false;
    }

    /** Extra mounts, applied in order. */
    public abstract List<Mount> mounts();

    /** The hostname inside the sandbox; needs {@link Namespace#UTS}. */
    public abstract Optional<String> hostname();

    /** Standard input. Default {@link Redirect#PIPE}. */
    @Value.Default
    public Redirect stdin() {
        return Redirect.PIPE;
    }

    /** Standard output. Default {@link Redirect#PIPE}. */
    @Value.Default
    public Redirect stdout() {
        return Redirect.PIPE;
    }

    /** Standard error. Default {@link Redirect#PIPE}. */
    @Value.Default
    public Redirect stderr() {
        return Redirect.PIPE;
    }

    /**
     * The most memory the sandbox may use, in bytes (a cgroup limit). Past it the kernel's OOM
     * killer kills a process of the sandbox, and {@link ExitStatus#oomKilled()} says so. By
     * default the sandbox may not swap beyond it; see {@link #swapLimitBytes()}. Where the
     * host cannot give this user a cgroup, see {@link #hasResourceLimits()}.
     */
    public abstract OptionalLong memoryLimitBytes();

    /** Swap the sandbox may use beyond {@link #memoryLimitBytes()}, in bytes. Default 0. Needs a memory limit. */
    public abstract OptionalLong swapLimitBytes();

    /** The most tasks (processes and threads) the sandbox may have at once (a cgroup limit). */
    public abstract OptionalLong pidsLimit();

    /** The most CPU time the sandbox may use, in CPUs: 1.5 means one and a half CPUs' worth (a cgroup quota). */
    public abstract OptionalDouble cpuQuota();

    /**
     * The sandbox's relative CPU weight, 1 to 10000 (cgroup v2 scale; default 100). On cgroup v1
     * it becomes {@code cpu.shares} by systemd's linear mapping, {@code weight * 1024 / 100}
     * within 2..262144: the default 100 gives the default 1024 shares.
     */
    public abstract OptionalInt cpuWeight();

    /**
     * Whether a minimal init runs as PID 1 in front of the command: it reaps orphaned
     * processes, forwards signals to the command, and exits with the command's status. For
     * commands that start children they do not wait for. Needs {@link Namespace#PID}.
     * Default: the command itself is PID 1 (which, like any PID 1, gets only the signals it
     * handles, and inherits the orphans of its sandbox).
     *
     * <p>The command is then PID 2, the init's only child. Every signal the init can catch
     * ({@code HUP}, {@code INT}, {@code QUIT}, {@code TERM}, {@code USR1}, {@code USR2}, ... as
     * sent by {@link IsolatedProcess#kill(Signal)} or from inside) goes to the command.
     * {@code SIGKILL} ends the init and with it the whole PID namespace. When the command ends,
     * the init ends too, and the kernel kills what is left of the namespace; the
     * {@link ExitStatus} is the command's own: {@code exited(N)} or {@code killed(N)}, exactly
     * as without an init (not the shell's 128+N, which is what the init process itself exits
     * with: a PID 1 cannot die of a signal it sends itself, so the library reports the command's
     * status that the init passes to it). The init runs the library's helper image, not a
     * binary of the sandbox; it is not dumpable and holds none of the sandbox's streams.
     */
    @Value.Default
    public boolean init() {
        return false;
    }

    /**
     * How long the sandbox may run. When it expires, every process of the sandbox is killed and
     * {@link ExitStatus#timedOut()} says so.
     */
    public abstract Optional<Duration> timeout();

    /**
     * Whether the spec asks for any cgroup limit.
     *
     * <p>With limits, the sandbox gets a cgroup of its own (cgroup v1 or v2, whichever the host
     * uses), created and limited before the command runs, and removed when the sandbox ends;
     * when its main process ends, whatever still runs in it is killed. Where that cgroup goes:
     * <ul>
     * <li>as root: under {@code isolation/} at the top of each hierarchy, e.g.
     * {@code /sys/fs/cgroup/memory/isolation/} (v1) or {@code /sys/fs/cgroup/isolation/} (v2,
     * enabling the controllers needed in the root cgroup when they are not yet);</li>
     * <li>unprivileged on cgroup v2: in the JVM's own cgroup, when it is delegated to the user, as
     * under {@code systemd-run --user --scope -p Delegate=yes java ...}. cgroup v2 lets only a
     * cgroup without processes of its own hand controllers to children, so on the first launch
     * with limits the JVM and its helper (and nothing else) are moved into a new child
     * {@code isolation-jvm}, and sandboxes go into {@code isolation/}, a sibling. When the JVM's
     * cgroup holds any other process, nothing is moved and the launch is refused;</li>
     * <li>unprivileged on cgroup v1: in the JVM's own cgroup of each hierarchy, when it is
     * writable by the user.</li>
     * </ul>
     * Otherwise the launch fails with an {@link UnsupportedHostException} (step
     * {@code create cgroup}) that says what to change: a requested limit is never dropped.
     */
    public boolean hasResourceLimits() {
        return memoryLimitBytes().isPresent() || pidsLimit().isPresent() || cpuQuota().isPresent() || cpuWeight().isPresent();
    }

    /** {@link #namespaces()}, or {@link #DEFAULT_NAMESPACES} when that is empty. */
    public Set<Namespace> effectiveNamespaces() {
        return namespaces().isEmpty() ? DEFAULT_NAMESPACES : namespaces();
    }

    /** The environment the command gets: inherited (if asked), then {@link #environment()}, and a {@code PATH}. */
    public Map<String, String> effectiveEnvironment() {
        Map<String, String> result = new LinkedHashMap<>();
        if (inheritEnvironment()) {
            result.putAll(System.getenv());
        }
        result.putAll(environment());
        result.putIfAbsent("PATH", DEFAULT_PATH);
        return Collections.unmodifiableMap(result);
    }

    @Value.Check
    void check() {
        checkCommand();
        checkEnvironment();
        Set<Namespace> namespaces = effectiveNamespaces();
        checkMappings("uidMappings", uidMappings(), namespaces);
        checkMappings("gidMappings", gidMappings(), namespaces);
        checkRunAs("uid", uid(), uidMappings(), namespaces);
        checkRunAs("gid", gid(), gidMappings(), namespaces);
        checkFilesystem(namespaces);
        hostname().ifPresent(name -> checkHostname(name, namespaces));
        checkRedirects();
        checkLimits();
        if (init() && !namespaces.contains(Namespace.PID)) {
            throw new InvalidSpecException("init", "an init process needs Namespace.PID, where it is PID 1");
        }
        timeout().ifPresent(t -> {
            if (t.isNegative() || t.isZero()) {
                throw new InvalidSpecException("timeout", "must be positive, got " + t);
            }
        });
        Isolation.provider().ifPresent(provider -> provider.validate(this));
    }

    private void checkLimits() {
        if (memoryLimitBytes().isPresent() && memoryLimitBytes().getAsLong() < MIN_MEMORY_LIMIT) {
            throw new InvalidSpecException("memoryLimitBytes", "must be at least " + MIN_MEMORY_LIMIT + " bytes, got " + memoryLimitBytes().getAsLong());
        }
        if (swapLimitBytes().isPresent()) {
            if (swapLimitBytes().getAsLong() < 0) {
                throw new InvalidSpecException("swapLimitBytes", "must not be negative, got " + swapLimitBytes().getAsLong());
            }
            if (memoryLimitBytes().isEmpty()) {
                throw new InvalidSpecException("swapLimitBytes", "a swap allowance needs memoryLimitBytes");
            }
        }
        if (pidsLimit().isPresent() && pidsLimit().getAsLong() < 1) {
            throw new InvalidSpecException("pidsLimit", "must be at least 1, got " + pidsLimit().getAsLong());
        }
        if (cpuQuota().isPresent() && !(cpuQuota().getAsDouble() >= 0.01 && cpuQuota().getAsDouble() <= 4096)) {
            throw new InvalidSpecException("cpuQuota", "must be between 0.01 and 4096 CPUs, got " + cpuQuota().getAsDouble());
        }
        if (cpuWeight().isPresent() && (cpuWeight().getAsInt() < 1 || cpuWeight().getAsInt() > 10000)) {
            throw new InvalidSpecException("cpuWeight", "must be between 1 and 10000, got " + cpuWeight().getAsInt());
        }
    }

    private void checkCommand() {
        SpecRules.checkCommand(command());
    }

    private void checkEnvironment() {
        SpecRules.checkEnvironment(environment());
        workingDirectory().ifPresent(dir -> SpecRules.checkInsidePath("workingDirectory", dir));
    }

    private static void checkMappings(String field, List<IdMapping> mappings, Set<Namespace> namespaces) {
        if (mappings.isEmpty()) {
            return;
        }
        if (!namespaces.contains(Namespace.USER)) {
            throw new InvalidSpecException(field, "an id mapping needs Namespace.USER");
        }
        if (mappings.size() > MAX_ID_MAPPINGS) {
            throw new InvalidSpecException(field, "Linux accepts at most " + MAX_ID_MAPPINGS + " ranges, got " + mappings.size());
        }
        for (int i = 0; i < mappings.size(); i++) {
            for (int j = i + 1; j < mappings.size(); j++) {
                IdMapping a = mappings.get(i);
                IdMapping b = mappings.get(j);
                if (a.overlapsInside(b)) {
                    throw new InvalidSpecException(field, "ranges must not overlap inside the sandbox: " + a + " and " + b);
                }
                if (a.overlapsOutside(b)) {
                    throw new InvalidSpecException(field, "ranges must not overlap on the host: " + a + " and " + b);
                }
            }
        }
    }

    private static void checkRunAs(String field, OptionalInt id, List<IdMapping> mappings, Set<Namespace> namespaces) {
        if (id.isEmpty()) {
            return;
        }
        if (id.getAsInt() < 0) {
            throw new InvalidSpecException(field, "must not be negative, got " + Integer.toUnsignedString(id.getAsInt()));
        }
        if (!namespaces.contains(Namespace.USER)) {
            throw new InvalidSpecException(field, "choosing the id inside needs Namespace.USER");
        }
        if (!mappings.isEmpty() && mappings.stream().noneMatch(m -> m.containsInside(id.getAsInt()))) {
            throw new InvalidSpecException(field, id.getAsInt() + " is not mapped by " + field + "Mappings " + mappings);
        }
    }

    private void checkFilesystem(Set<Namespace> namespaces) {
        boolean mountNamespace = namespaces.contains(Namespace.MOUNT);
        rootfs().ifPresent(root -> {
            if (!root.isAbsolute()) {
                throw new InvalidSpecException("rootfs", "must be an absolute path, got " + root);
            }
            if (!mountNamespace) {
                throw new InvalidSpecException("rootfs", "a root filesystem needs Namespace.MOUNT");
            }
        });
        if (writableRoot() && rootfs().isEmpty()) {
            throw new InvalidSpecException("writableRoot", "the host root is always read-only; give a rootfs to have a writable root");
        }
        if (!mounts().isEmpty() && !mountNamespace) {
            throw new InvalidSpecException("mounts", "extra mounts need Namespace.MOUNT");
        }
        for (Mount mount : mounts()) {
            SpecRules.checkInsidePath("mounts", mount.destination());
            if (mount.destination().equals("/")) {
                throw new InvalidSpecException("mounts", "a mount must not cover /; use rootfs to choose the root");
            }
            mount.source().ifPresent(source -> {
                if (!source.isAbsolute()) {
                    throw new InvalidSpecException("mounts", "a bind source must be an absolute host path, got " + source);
                }
            });
        }
    }

    private static void checkHostname(String name, Set<Namespace> namespaces) {
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes > MAX_HOSTNAME_BYTES) {
            throw new InvalidSpecException("hostname", "must be 1 to " + MAX_HOSTNAME_BYTES + " bytes, got " + bytes);
        }
        for (char c : name.toCharArray()) {
            if (c < 0x21 || c == 0x7f) {
                throw new InvalidSpecException("hostname", "must not contain spaces or control characters, got \"" + name + "\"");
            }
        }
        if (!namespaces.contains(Namespace.UTS)) {
            throw new InvalidSpecException("hostname", "setting a hostname needs Namespace.UTS, or it would change the host's");
        }
    }

    private void checkRedirects() {
        SpecRules.checkRedirects(stdin(), stdout(), stderr());
    }
}
