package dev.isolation.linux.internal;

import com.sun.jna.LastErrorException;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.LaunchException;
import dev.isolation.UnsupportedHostException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongPredicate;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the cgroups of sandboxes with resource limits are made, and the preparation of that
 * place. The JVM decides and prepares; the native helper then creates one cgroup per launch in
 * the parent directories named here, as {@code <helper pid>-<launch id>-<pid namespace inode>}
 * (helpers in containers sharing the host's cgroup tree may have equal pids), sets the limits,
 * puts the sandbox in it before it runs, and removes it when the sandbox has ended.
 *
 * <h2>Which cgroup version</h2>
 * Decided at run time from {@code /proc/self/cgroup}: when the memory controller is bound to a
 * cgroup v1 hierarchy (v1 and "hybrid" hosts), every limit uses cgroup v1, with one directory
 * per hierarchy (memory, pids, cpu, cpuacct; co-mounted ones share a directory). Otherwise
 * cgroup v2, with one directory. Mount points come from {@code /proc/self/mountinfo}, so a
 * container's view (a mount whose root is the container's own cgroup) is understood.
 *
 * <h2>The library's parent</h2>
 * <ul>
 * <li><b>cgroup v1, root</b>: {@code <hierarchy mount>/isolation} in each hierarchy (memory, and
 * pids and cpu when limited; cpuacct and freezer when present, for the CPU figure and to
 * freeze the sandbox while it is killed), e.g.
 * {@code /sys/fs/cgroup/memory/isolation}. No cgroup of someone else is modified.</li>
 * <li><b>cgroup v1, unprivileged</b>: {@code <own cgroup>/isolation} in each hierarchy, when the
 * JVM's own cgroup there (from {@code /proc/self/cgroup}) is writable by the user, as after an
 * administrator delegated it. Otherwise the launch is refused.</li>
 * <li><b>cgroup v2, root</b>: {@code <cgroup2 mount>/isolation}, e.g.
 * {@code /sys/fs/cgroup/isolation}. The controllers a launch needs are enabled in its
 * {@code cgroup.subtree_control}, and, only when missing there, in the root cgroup's (the
 * root cgroup is exempt from the no-internal-processes rule). A cgroup namespace root that
 * is not the real root (a container) and holds processes cannot enable controllers: then the
 * delegated way below is tried.</li>
 * <li><b>cgroup v2, delegated</b> (unprivileged, or root in such a container): the JVM's own
 * cgroup {@code D}, when the user may write it, its {@code cgroup.procs} and its
 * {@code cgroup.subtree_control} (as {@code systemd-run --user --scope -p Delegate=yes java ...}
 * arranges), and {@code D/cgroup.controllers} offers what the limits need. cgroup v2 lets a
 * cgroup hand controllers to its children only while it has no processes of its own, and the
 * JVM (and its helper) live in {@code D}. So, once, the JVM, its helper and the helper's
 * descendants (its spares, its {@code isolation-close} processes, sandboxes without limits and
 * what they started), and nothing else, are moved into a new leaf {@code D/isolation-jvm}
 * (a process one of them starts during the move can stay behind; the plan is then made again,
 * at most three times); the controllers are enabled
 * in {@code D}'s and then in {@code D/isolation}'s {@code cgroup.subtree_control}; sandboxes go
 * into {@code D/isolation}. When {@code D} holds any other process, nothing is moved and the
 * launch is refused: the library moves only its own processes. Later helpers of the same JVM
 * start in the leaf and reuse {@code D/isolation}.</li>
 * <li>Anything else is refused with an {@link UnsupportedHostException} (step
 * {@code create cgroup}) saying what to do. A requested limit is never silently dropped.</li>
 * </ul>
 *
 * <h2>Clean-up</h2>
 * The helper removes each launch's cgroup once the sandbox has ended, after failed launches,
 * and, when the JVM dies, after killing the sandboxes on the socket's end. Only a helper
 * killed outright leaves cgroups behind: when a helper is started, the leftovers of helpers
 * of this pid namespace that no longer run (by the pid in the name), older ones named with the
 * new helper's own pid, and those of other pid namespaces once they are older than a few
 * seconds, are removed here; a cgroup that still has processes cannot be removed and stays.
 * Empty library parents are kept.
 */
final class CgroupLayout {
    static final String PARENT_NAME = "isolation";
    static final String LEAF_NAME = "isolation-jvm";

    static final int UNIFIED = 1;
    static final int MEMORY = 2;
    static final int PIDS = 4;
    static final int CPU = 8;
    static final int CPUACCT = 16;
    static final int FREEZER = 32;

    /** The step named when writing a cgroup.subtree_control fails. */
    static final String ENABLE_STEP = "enable cgroup controllers";
    /** {@code <helper pid>-<launch id>-<pid namespace inode>} */
    private static final Pattern LAUNCH_CGROUP = Pattern.compile("(\\d+)-(\\d+)-(\\d+)");
    /** A leftover of another pid namespace younger than this is left alone: its helper may have just made it. */
    private static final Duration LEFTOVER_MIN_AGE = Duration.ofSeconds(10);

    private CgroupLayout() {
    }

    enum Version {
        V1, V2
    }

    /** A directory in which launch cgroups are created, and which controllers' files it has ({@link #UNIFIED}, {@link #MEMORY}, ...). */
    record Parent(String dir, int roles) {
    }

    /** The controllers a spec's limits need. Memory figures are gathered whenever the memory controller is at hand. */
    record Needs(boolean memory, boolean pids, boolean cpu) {
        static Needs of(IsolatedProcessSpec spec) {
            return new Needs(spec.memoryLimitBytes().isPresent(), spec.pidsLimit().isPresent(),
                    spec.cpuQuota().isPresent() || spec.cpuWeight().isPresent());
        }

        Needs union(Needs other) {
            return new Needs(memory || other.memory, pids || other.pids, cpu || other.cpu);
        }

        boolean covers(Needs other) {
            return union(other).equals(this);
        }

        Set<String> controllers() {
            Set<String> controllers = new LinkedHashSet<>();
            if (memory) {
                controllers.add("memory");
            }
            if (pids) {
                controllers.add("pids");
            }
            if (cpu) {
                controllers.add("cpu");
            }
            return controllers;
        }
    }

    /** One step of preparing the parents. */
    sealed interface Action {
    }

    /** mkdir, accepting an existing directory. */
    record MakeDirectory(String dir) implements Action {
    }

    /** "+a +b" into {@code dir/cgroup.subtree_control}. */
    record EnableControllers(String dir, Set<String> controllers) implements Action {
    }

    /** Each pid into {@code to/cgroup.procs}; undone (back into {@code from}) when a later step fails. */
    record MoveProcesses(String from, String to, List<Long> pids) implements Action {
    }

    /** The decision: the parents to name in the launch, and how to get them ready. */
    record Plan(Version version, List<Parent> parents, List<Action> actions) {
    }

    /**
     * What the decision reads about this process. The cgroup files under the mount points are
     * read directly, so tests point the mounts at a fake tree.
     */
    record Host(String mountinfo, String procSelfCgroup, boolean root, long uid, long jvmPid, long helperPid,
            Predicate<Path> writable, LongPredicate helperDescendant) {

        /** How far up a process's parents are followed looking for the helper. */
        private static final int MAX_DEPTH = 64;

        static Host current(long helperPid) {
            return new Host(readOrEmpty(Path.of("/proc/self/mountinfo")), readOrEmpty(Path.of("/proc/self/cgroup")),
                    LibC.geteuid() == 0, Integer.toUnsignedLong(LibC.geteuid()), ProcessHandle.current().pid(), helperPid,
                    Files::isWritable, pid -> descends(pid, helperPid));
        }

        /**
         * Whether {@code pid} is this JVM, its helper, or a descendant of the helper (its spares and
         * closing processes, and sandboxes without limits with whatever they started).
         */
        boolean library(long pid) {
            return pid == jvmPid || pid == helperPid || helperDescendant.test(pid);
        }

        static boolean descends(long pid, long ancestor) {
            Optional<ProcessHandle> process = ProcessHandle.of(pid);
            for (int depth = 0; depth < MAX_DEPTH && process.isPresent(); depth++) {
                process = process.get().parent();
                if (process.isPresent() && process.get().pid() == ancestor) {
                    return true;
                }
            }
            return false;
        }
    }

    // ---- the decision ----

    /** Decides where the launch cgroups go for {@code needs}; throws {@link UnsupportedHostException} when nowhere. */
    static Plan plan(Host host, Needs needs) {
        List<CgroupHost.Mount> mounts = CgroupHost.parseMountinfo(host.mountinfo());
        List<CgroupHost.Membership> memberships = CgroupHost.parseProcCgroup(host.procSelfCgroup());
        if (CgroupHost.memoryOnV1(memberships)) {
            return planV1(host, needs, mounts, memberships);
        }
        if (CgroupHost.unifiedMembership(memberships).isPresent() && !CgroupHost.unifiedMounts(mounts).isEmpty()) {
            return planV2(host, needs, mounts, memberships);
        }
        throw refuse("/sys/fs/cgroup", null, "No cgroup filesystem with the memory controller is mounted (neither a cgroup v1 "
                + "memory hierarchy nor cgroup2 in /proc/self/mountinfo); mount one, e.g. mount -t cgroup2 none /sys/fs/cgroup");
    }

    private static Plan planV1(Host host, Needs needs, List<CgroupHost.Mount> mounts, List<CgroupHost.Membership> memberships) {
        Map<String, Integer> roles = new LinkedHashMap<>();
        record Want(String controller, int role, boolean required, boolean used) {
        }
        // memory and cpuacct also when no limit needs them: they give the figures; the freezer
        // lets destroy() freeze the sandbox while it kills it
        List<Want> wants = List.of(new Want("memory", MEMORY, needs.memory(), true), new Want("pids", PIDS, needs.pids(), needs.pids()),
                new Want("cpu", CPU, needs.cpu(), needs.cpu()), new Want("cpuacct", CPUACCT, false, true),
                new Want("freezer", FREEZER, false, true));
        for (Want want : wants) {
            if (!want.used()) {
                continue;
            }
            Optional<CgroupHost.Membership> membership = CgroupHost.v1Membership(memberships, want.controller());
            List<CgroupHost.Mount> hierarchy = CgroupHost.v1Mounts(mounts, want.controller());
            if (membership.isEmpty() || hierarchy.isEmpty()) {
                if (want.required()) {
                    throw refuse("/sys/fs/cgroup/" + want.controller(), null, "This host uses cgroup v1 but has no mounted hierarchy with the "
                            + want.controller() + " controller; mount it, e.g. mkdir /sys/fs/cgroup/" + want.controller()
                            + " && mount -t cgroup -o " + want.controller() + " cgroup /sys/fs/cgroup/" + want.controller());
                }
                continue;
            }
            String base;
            if (host.root()) {
                CgroupHost.Mount top = hierarchy.get(0);
                if (top.readOnly()) {
                    if (want.required()) {
                        throw refuse(top.mountPoint(), Errno.EROFS, "The cgroup v1 " + want.controller() + " hierarchy is mounted read-only at "
                                + top.mountPoint() + ", as in a container without cgroup access; run the container with --privileged, "
                                + "or mount the hierarchy read-write");
                    }
                    continue;
                }
                base = CgroupHost.directoryOf(top.root(), top).orElseThrow();
            } else {
                Optional<String> own = CgroupHost.directoryOf(membership.get().path(), hierarchy);
                if (own.isEmpty() || !host.writable().test(Path.of(own.get()))
                        || !host.writable().test(Path.of(own.get(), "cgroup.procs"))) {
                    if (want.required()) {
                        String where = own.orElse(hierarchy.get(0).mountPoint());
                        throw refuse(where, Errno.EACCES, "Resource limits need a cgroup, and on this host (cgroup v1) uid " + host.uid()
                                + " may not create one in the " + want.controller() + " hierarchy: its cgroup " + where
                                + " is not writable. Run as root, or have root delegate a cgroup in each of the memory, pids and cpu "
                                + "hierarchies to this user (mkdir it, chown the directory and its cgroup.procs to the user) and start "
                                + "the JVM in it");
                    }
                    continue;
                }
                base = own.get();
            }
            roles.merge(base, want.role(), (a, b) -> a | b);
        }
        List<Parent> parents = new ArrayList<>();
        List<Action> actions = new ArrayList<>();
        roles.forEach((base, role) -> {
            String parent = child(base, PARENT_NAME);
            parents.add(new Parent(parent, role));
            actions.add(new MakeDirectory(parent));
        });
        return new Plan(Version.V1, List.copyOf(parents), List.copyOf(actions));
    }

    private static Plan planV2(Host host, Needs needs, List<CgroupHost.Mount> mounts, List<CgroupHost.Membership> memberships) {
        List<CgroupHost.Mount> unified = CgroupHost.unifiedMounts(mounts);
        Set<String> required = needs.controllers();
        UnsupportedHostException atTop = null;
        if (host.root()) {
            try {
                return planV2AtTop(host, unified.get(0), required);
            } catch (UnsupportedHostException e) {
                atTop = e;
            }
        }
        Optional<String> own = CgroupHost.directoryOf(CgroupHost.unifiedMembership(memberships).orElseThrow().path(), unified);
        try {
            if (own.isEmpty()) {
                throw refuse(unified.get(0).mountPoint(), null, "The JVM's own cgroup (" + CgroupHost.unifiedMembership(memberships)
                        .orElseThrow().path() + " in /proc/self/cgroup) is not visible under any cgroup2 mount");
            }
            return planV2Delegated(host, own.get(), required);
        } catch (UnsupportedHostException e) {
            if (atTop == null) {
                throw e;
            }
            throw refuse(atTop.path().orElse(""), atTop.errno().isPresent() ? atTop.errno().getAsInt() : null,
                    atTop.remedy() + ". Nor can the JVM's own cgroup be used: " + e.remedy());
        }
    }

    /** Root: {@code <mount>/isolation}, enabling missing controllers in the root cgroup. */
    private static Plan planV2AtTop(Host host, CgroupHost.Mount top, Set<String> required) {
        String base = CgroupHost.directoryOf(top.root(), top).orElseThrow();
        if (top.readOnly()) {
            throw refuse(base, Errno.EROFS, "The cgroup2 filesystem is mounted read-only at " + base + ", as in a container without cgroup "
                    + "access; run the container with --privileged or a writable cgroup mount");
        }
        Set<String> available = words(Path.of(base, "cgroup.controllers"));
        Set<String> missing = minus(required, available);
        if (!missing.isEmpty()) {
            throw refuse(base, null, "The kernel offers no " + String.join(", ", missing) + " controller in cgroup v2 here ("
                    + base + "/cgroup.controllers: " + String.join(" ", available) + ")");
        }
        Set<String> enabled = words(Path.of(base, "cgroup.subtree_control"));
        Set<String> toEnable = minus(required, enabled);
        boolean trueRoot = !Files.exists(Path.of(base, "cgroup.type"));
        if (!toEnable.isEmpty() && !trueRoot && !pidsIn(Path.of(base, "cgroup.procs")).isEmpty()) {
            throw refuse(base, Errno.EBUSY, "The cgroup " + base + " (the root of this cgroup namespace) holds processes, so cgroup v2 "
                    + "forbids enabling the " + String.join(", ", toEnable) + " controller for its children; move its processes into "
                    + "a child cgroup first, or run the container with --cgroupns=host");
        }
        Set<String> offered = union(enabled, toEnable);
        List<Action> actions = new ArrayList<>();
        if (!toEnable.isEmpty()) {
            actions.add(new EnableControllers(base, toEnable));
        }
        String parent = child(base, PARENT_NAME);
        addParentActions(actions, parent, required, offered);
        return new Plan(Version.V2, List.of(new Parent(parent, UNIFIED)), List.copyOf(actions));
    }

    /** The JVM's own, delegated cgroup; see the class comment. */
    private static Plan planV2Delegated(Host host, String own, Set<String> required) {
        List<Action> actions = new ArrayList<>();
        String base;
        Set<String> offered;
        Path ownPath = Path.of(own);
        Path above = ownPath.getParent();
        if (LEAF_NAME.equals(String.valueOf(ownPath.getFileName())) && above != null
                && Files.isDirectory(above.resolve(PARENT_NAME))) {
            // an earlier helper of this JVM moved it into the leaf already
            base = above.toString();
            Set<String> available = words(above.resolve("cgroup.controllers"));
            refuseMissing(base, required, available);
            Set<String> enabled = words(above.resolve("cgroup.subtree_control"));
            Set<String> toEnable = minus(required, enabled);
            if (!toEnable.isEmpty()) {
                if (!host.writable().test(above.resolve("cgroup.subtree_control"))) {
                    throw notDelegated(host, base);
                }
                actions.add(new EnableControllers(base, toEnable));
            }
            offered = union(enabled, toEnable);
        } else {
            base = own;
            if (!host.writable().test(ownPath) || !host.writable().test(ownPath.resolve("cgroup.procs"))
                    || !host.writable().test(ownPath.resolve("cgroup.subtree_control"))) {
                throw notDelegated(host, own);
            }
            Set<String> available = words(ownPath.resolve("cgroup.controllers"));
            refuseMissing(base, required, available);
            List<Long> present = pidsIn(ownPath.resolve("cgroup.procs"));
            List<Long> foreign = present.stream().filter(pid -> !host.library(pid)).toList();
            if (!foreign.isEmpty()) {
                throw refuse(own, Errno.EBUSY, "The JVM's cgroup " + own + " also holds processes other than this JVM, its helper and what the helper started "
                        + "(pids " + foreign.stream().limit(10).map(String::valueOf).reduce((a, b) -> a + " " + b).orElse("")
                        + "). cgroup v2 lets a cgroup with processes have no limited children, and the library moves only its own "
                        + "processes out of the way: start the JVM alone in its delegated cgroup, e.g. systemd-run --user --scope "
                        + "-p Delegate=yes java ...");
            }
            if (!present.isEmpty()) {
                String leaf = child(base, LEAF_NAME);
                actions.add(new MakeDirectory(leaf));
                // the JVM and the helper first, so that what the helper starts from then on starts in
                // the leaf; a process started by one not yet moved can still land here, which makes
                // enabling the controllers fail with EBUSY (Cgroups tries the plan again)
                List<Long> order = new ArrayList<>(present);
                order.sort(Comparator.comparing((Long pid) -> pid != host.jvmPid() && pid != host.helperPid()));
                actions.add(new MoveProcesses(base, leaf, List.copyOf(order)));
            }
            Set<String> enabled = words(ownPath.resolve("cgroup.subtree_control"));
            Set<String> toEnable = minus(union(required, intersect(Set.of("memory"), available)), enabled);
            if (!toEnable.isEmpty()) {
                actions.add(new EnableControllers(base, toEnable));
            }
            offered = union(enabled, toEnable);
        }
        addParentActions(actions, child(base, PARENT_NAME), required, offered);
        return new Plan(Version.V2, List.of(new Parent(child(base, PARENT_NAME), UNIFIED)), List.copyOf(actions));
    }

    /** mkdir the library's parent and enable in it what the launches need, plus memory for the figures when offered. */
    private static void addParentActions(List<Action> actions, String parent, Set<String> required, Set<String> offered) {
        actions.add(new MakeDirectory(parent));
        Set<String> want = union(required, intersect(Set.of("memory"), offered));
        Set<String> toEnable = minus(want, words(Path.of(parent, "cgroup.subtree_control")));
        if (!toEnable.isEmpty()) {
            actions.add(new EnableControllers(parent, toEnable));
        }
    }

    private static void refuseMissing(String base, Set<String> required, Set<String> available) {
        Set<String> missing = minus(required, available);
        if (!missing.isEmpty()) {
            throw refuse(base, null, "The delegated cgroup " + base + " does not offer the " + String.join(", ", missing)
                    + " controller (its cgroup.controllers: " + String.join(" ", available) + "); delegate it, e.g. systemd-run --user "
                    + "--scope -p Delegate=yes, and where the user manager lacks it, have root add Delegate=cpu cpuset io memory pids "
                    + "to user@.service (systemctl edit user@.service)");
        }
    }

    private static UnsupportedHostException notDelegated(Host host, String own) {
        return refuse(own, Errno.EACCES, "Resource limits need a cgroup this user may manage, and on this host (cgroup v2) the JVM's "
                + "cgroup " + own + " is not delegated to uid " + host.uid() + ". Start the JVM in a delegated cgroup, e.g. "
                + "systemd-run --user --scope -p Delegate=yes java ..., or run as root");
    }

    private static UnsupportedHostException refuse(String path, Integer errno, String remedy) {
        return new UnsupportedHostException("create cgroup", path, errno, errno == null ? null : Errno.name(errno),
                errno == null ? null : Errno.text(errno), remedy);
    }

    // ---- preparation ----

    /** Carries out the plan's actions, in order. Throws {@link LaunchException} naming the step, path and errno. */
    static void execute(Plan plan) {
        List<MoveProcesses> moved = new ArrayList<>();
        try {
            for (Action action : plan.actions()) {
                if (action instanceof MakeDirectory make) {
                    try {
                        LibC.mkdir(make.dir(), 0755);
                    } catch (LastErrorException e) {
                        if (e.getErrorCode() != Errno.EEXIST) {
                            throw failure("create cgroup", make.dir(), e.getErrorCode());
                        }
                    }
                } else if (action instanceof EnableControllers enable) {
                    String text = enable.controllers().stream().map(c -> "+" + c).reduce((a, b) -> a + " " + b).orElse("");
                    write(Path.of(enable.dir(), "cgroup.subtree_control").toString(), text, ENABLE_STEP);
                } else if (action instanceof MoveProcesses move) {
                    moved.add(move);
                    for (long pid : move.pids()) {
                        try {
                            write(Path.of(move.to(), "cgroup.procs").toString(), Long.toString(pid), "move to a leaf cgroup");
                        } catch (LaunchException e) {
                            if (e.errno().orElse(0) != Errno.ESRCH) {
                                throw e;
                            }
                            // a helper's child that ended since it was listed: nothing to move
                        }
                    }
                }
            }
        } catch (LaunchException e) {
            for (MoveProcesses move : moved) {
                undo(move);
            }
            throw e;
        }
    }

    /** Puts the processes back where they were and removes the leaf, best effort. */
    private static void undo(MoveProcesses move) {
        for (long pid : move.pids()) {
            try {
                write(Path.of(move.from(), "cgroup.procs").toString(), Long.toString(pid), "move back");
            } catch (LaunchException ignored) {
                // the process may have exited
            }
        }
        try {
            LibC.rmdir(move.to());
        } catch (LastErrorException ignored) {
            // still in use: left as it is
        }
    }

    private static void write(String path, String text, String step) {
        int fd;
        try {
            fd = LibC.open(path, LibC.O_WRONLY | LibC.O_CLOEXEC, 0);
        } catch (LastErrorException e) {
            throw failure(step, path, e.getErrorCode());
        }
        try {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            LibC.write(fd, bytes, bytes.length);
        } catch (LastErrorException e) {
            throw failure(step, path, e.getErrorCode());
        } finally {
            try {
                LibC.close(fd);
            } catch (LastErrorException ignored) {
                // closed anyway
            }
        }
    }

    private static LaunchException failure(String step, String path, int errno) {
        if (errno == Errno.EACCES || errno == Errno.EPERM || errno == Errno.EROFS) {
            return new UnsupportedHostException(step, path, errno, Errno.name(errno), Errno.text(errno),
                    "The cgroup filesystem refuses this user; run as root, or in a cgroup delegated to the user");
        }
        String hint = errno == Errno.EBUSY && step.equals(ENABLE_STEP)
                ? "cgroup v2 refuses controllers for the children of a cgroup with processes of its own; did another process enter it?"
                : null;
        return new LaunchException(step, path, errno, Errno.name(errno), Errno.text(errno), hint);
    }

    // ---- leftovers ----

    /**
     * Removes what helpers killed outright left in the parents: cgroups of this pid namespace
     * ({@code pidNamespace}) named for a helper pid that no longer runs, or for
     * {@code helperPid}, which the new helper has not used yet; and those
     * of other pid namespaces older than a few seconds, whose helpers cannot be checked (a live
     * sandbox's cgroup has processes, and a cgroup with processes cannot be removed). Best effort.
     */
    static void removeLeftovers(List<Parent> parents, long helperPid, long pidNamespace, Predicate<Long> alive) {
        Instant cutoff = Instant.now().minus(LEFTOVER_MIN_AGE);
        for (Parent parent : parents) {
            try (DirectoryStream<Path> children = Files.newDirectoryStream(Path.of(parent.dir()))) {
                for (Path child : children) {
                    Matcher m = LAUNCH_CGROUP.matcher(String.valueOf(child.getFileName()));
                    if (!m.matches() || !Files.isDirectory(child)) {
                        continue;
                    }
                    long pid = Long.parseLong(m.group(1));
                    boolean ours = Long.parseLong(m.group(3)) == pidNamespace;
                    boolean stale = ours ? pid == helperPid || !alive.test(pid) : olderThan(child, cutoff);
                    if (stale) {
                        removeTree(child, 0);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // unreadable: nothing to clean there
            }
        }
    }

    private static boolean olderThan(Path dir, Instant cutoff) {
        try {
            FileTime time = Files.getLastModifiedTime(dir);
            return time.toInstant().isBefore(cutoff);
        } catch (IOException e) {
            return false;
        }
    }

    private static void removeTree(Path dir, int depth) {
        if (depth < 16) {
            try (DirectoryStream<Path> children = Files.newDirectoryStream(dir, Files::isDirectory)) {
                for (Path child : children) {
                    removeTree(child, depth + 1);
                }
            } catch (IOException | RuntimeException e) {
                // gone meanwhile
            }
        }
        try {
            LibC.rmdir(dir.toString());
        } catch (LastErrorException e) {
            // populated or gone: left as it is
        }
    }

    // ---- helpers ----

    /** The inode of this process's pid namespace (shared with its helper), or 0. */
    static long pidNamespace() {
        try {
            String link = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString(); // pid:[4026531836]
            return Long.parseLong(link.substring(link.indexOf('[') + 1, link.indexOf(']')));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    static String child(String dir, String name) {
        return dir.endsWith("/") ? dir + name : dir + "/" + name;
    }

    private static Set<String> words(Path file) {
        return CgroupHost.words(readOrEmpty(file));
    }

    private static List<Long> pidsIn(Path file) {
        try {
            return CgroupHost.pids(readOrEmpty(file));
        } catch (NumberFormatException e) {
            return List.of();
        }
    }

    static String readOrEmpty(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static Set<String> minus(Set<String> a, Set<String> b) {
        Set<String> result = new LinkedHashSet<>(a);
        result.removeAll(b);
        return result;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> result = new LinkedHashSet<>(a);
        result.addAll(b);
        return result;
    }

    private static Set<String> intersect(Set<String> a, Set<String> b) {
        Set<String> result = new LinkedHashSet<>(a);
        result.retainAll(b);
        return result;
    }
}
