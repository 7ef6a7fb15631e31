package dev.isolation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.CommandNotFoundException;
import dev.isolation.ExitStatus;
import dev.isolation.IdMapping;
import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Isolation;
import dev.isolation.Namespace;
import dev.isolation.ResourceUsage;
import dev.isolation.UnsupportedHostException;
import dev.isolation.it.support.BusyboxRootfs;
import dev.isolation.it.support.Host;
import dev.isolation.it.support.Run;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Resource limits (cgroups v1 or v2, whichever the host has) against the real kernel: memory
 * and the OOM killer, the pids limit, the CPU quota, figures while running and after, the
 * cgroup namespace, and that no cgroup is left behind. Where this host cannot give limits to
 * this user (unprivileged on cgroup v1, or cgroup v2 without a delegated cgroup), every test
 * asserts the specific refusal instead.
 */
class ResourceLimitsIT {
    private static final long MIB = 1L << 20;
    /** {@code <helper pid>-<launch id>-<pid namespace inode>} */
    private static final Pattern LAUNCH_CGROUP = Pattern.compile("(\\d+)-(\\d+)-(\\d+)");
    /** Launch ids from here on name the cgroup the helper makes ahead for the next launch (cgroup.c). */
    private static final long FIRST_PREPARED_ID = 1L << 62;
    /** Holds about 100 MB in the shell's own memory: tr turns the zeros into bytes a shell variable keeps. */
    private static final String HOG = "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo held ${#x}";

    private static Path rootfs;
    private static boolean supported;
    /**
     * The modes whose cgroups the harness sets up itself (VmRunner: pure v2, and for the user a
     * delegated cgroup), where limits must work: there a refusal would otherwise pass these
     * tests as the expected one.
     */
    private static final Set<String> MODES_WITH_LIMITS = Set.of("vm-cgroup2", "vm-cgroup2-user");

    @BeforeAll
    static void setUp() throws IOException {
        rootfs = BusyboxRootfs.create();
        for (String applet : List.of("tr", "timeout")) {
            Files.createSymbolicLink(rootfs.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        supported = CgroupFacts.limitsExpected();
        String mode = System.getenv("ISOLATION_IT_MODE");
        if (MODES_WITH_LIMITS.contains(mode)) {
            assertThat(supported).as("resource limits expected in mode " + mode).isTrue();
        }
    }

    @AfterAll
    static void deleteRootfs() {
        BusyboxRootfs.delete(rootfs);
    }

    @BeforeEach
    void rememberHelpers() {
        CgroupFacts.ourHelpers();
    }

    @AfterEach
    void noCgroupIsLeft() throws InterruptedException {
        // the helper removes a cgroup right after it has reported the exit, not before
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (!CgroupFacts.launchCgroups().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(CgroupFacts.launchCgroups()).as("launch cgroups left under the library's parents").isEmpty();
        // A launch may have taken the cgroup made ahead, which keeps its name: once it ended, what
        // is left of that kind is the one each helper keeps ready (checked: empty, or one spare).
        while (tooManyPrepared() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(preparedPerParentAndHelper()).as("cgroups made ahead, per parent and helper").doesNotHaveDuplicates();
    }

    private static boolean tooManyPrepared() {
        List<String> keys = preparedPerParentAndHelper();
        return keys.size() != new java.util.HashSet<>(keys).size();
    }

    private static List<String> preparedPerParentAndHelper() {
        return CgroupFacts.preparedCgroups().stream().map(c -> c.getParent() + " " + helperOf(c)).toList();
    }

    /** The helper pid in a launch cgroup's name. */
    private static String helperOf(Path cgroup) {
        java.util.regex.Matcher m = LAUNCH_CGROUP.matcher(cgroup.getFileName().toString());
        return m.matches() ? m.group(1) : cgroup.getFileName().toString();
    }

    private static IsolatedProcessSpec.Builder inBusybox(String... command) {
        return IsolatedProcessSpec.builder().command(command).rootfs(rootfs);
    }

    /**
     * Launches, or, where this host cannot give limits to this user, asserts the refusal and
     * returns empty.
     */
    private static Optional<IsolatedProcess> launch(IsolatedProcessSpec spec) {
        if (!supported) {
            assertThatThrownBy(() -> Isolation.launcher().launch(spec)).isInstanceOfSatisfying(UnsupportedHostException.class, e -> {
                assertThat(e.step()).isEqualTo("create cgroup");
                assertThat(e.remedy()).isNotBlank();
                assertThat(e.getMessage()).contains(e.remedy());
            });
            assertThat(Host.remainingGrandchildren()).as("processes left").isEmpty();
            return Optional.empty();
        }
        return Optional.of(Isolation.launcher().launch(spec));
    }

    private static Optional<Run> run(IsolatedProcessSpec spec) {
        if (!supported) {
            launch(spec);
            return Optional.empty();
        }
        return Optional.of(Run.of(spec));
    }

    @Test
    void memoryHogIsKilledByTheOomKillerAndReportedAsSuch() throws Exception {
        // another sandbox, with a limit of its own, runs through it all
        Optional<IsolatedProcess> bystander = launch(inBusybox("/bin/sleep", "60").memoryLimitBytes(64 * MIB).build());
        if (bystander.isEmpty()) {
            return;
        }
        try (IsolatedProcess other = bystander.get()) {
            Run hog = Run.of(inBusybox("/bin/sh", "-c", HOG).memoryLimitBytes(64 * MIB).build());
            assertThat(hog.status().oomKilled()).as(hog.toString()).isTrue();
            assertThat(hog.status().killedBySignal()).as(hog.toString()).isTrue();
            assertThat(hog.status().signal()).hasValue(9);
            assertThat(hog.stdout()).doesNotContain("held");
            assertThat(other.isAlive()).as("the other sandbox").isTrue();
            assertThat(other.resourceUsage()).hasValueSatisfying(u -> assertThat(u.memoryCurrentBytes()).isPresent());
        }
    }

    @Test
    void theHogReallyNeedsMoreThanTheLimit() throws Exception {
        Optional<IsolatedProcess> launched = launch(inBusybox("/bin/sh", "-c", HOG).memoryLimitBytes(512 * MIB).build());
        if (launched.isEmpty()) {
            return;
        }
        try (IsolatedProcess process = launched.get()) {
            process.stdin().close();
            String out = new String(process.stdout().readAllBytes(), StandardCharsets.UTF_8);
            ExitStatus status = process.waitFor(Duration.ofSeconds(60)).orElseThrow();
            assertThat(status).isEqualTo(ExitStatus.exited(0));
            assertThat(status.oomKilled()).isFalse();
            assertThat(out).isEqualTo("held 100000000\n");
            ResourceUsage usage = process.resourceUsage().orElseThrow();
            assertThat(usage.memoryCurrentBytes()).isEmpty();
            assertThat(usage.memoryPeakBytes()).isPresent();
            assertThat(usage.memoryPeakBytes().getAsLong()).isGreaterThan(100_000_000L);
        }
    }

    @Test
    void forkBombStopsAtThePidsLimitAndTheSandboxCanStillBeKilled() throws Exception {
        Optional<IsolatedProcess> launched = launch(inBusybox("/bin/sh", "-c", "b() { b | b & }; b; exec sleep 600")
                .pidsLimit(32).build());
        if (launched.isEmpty()) {
            return;
        }
        try (IsolatedProcess process = launched.get()) {
            Path pids = CgroupFacts.cgroupDirectory(process.pid(), "pids").orElseThrow();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (CgroupFacts.keyed(pids.resolve("pids.events"), "max") == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(CgroupFacts.keyed(pids.resolve("pids.events"), "max")).as("forks refused at the limit").isPositive();
            for (int i = 0; i < 20; i++) {
                assertThat(Long.parseLong(Files.readString(pids.resolve("pids.current")).trim())).isBetween(1L, 32L);
                Thread.sleep(10);
            }
            process.destroy();
            assertThat(process.waitFor(Duration.ofSeconds(20))).as("the sandbox ends when destroyed")
                    .hasValueSatisfying(status -> assertThat(status.signal()).hasValue(9));
            assertThat(Host.remainingGrandchildren()).as("processes left").isEmpty();
        }
    }

    @Test
    void halfACpuQuotaGivesAboutHalfACpu() throws Exception {
        // two spinning processes, so that more than one CPU would be used without the quota
        Optional<IsolatedProcess> launched = launch(inBusybox("/bin/sh", "-c", "while :; do :; done & while :; do :; done")
                .cpuQuota(0.5).build());
        if (launched.isEmpty()) {
            return;
        }
        try (IsolatedProcess process = launched.get()) {
            Thread.sleep(300);
            Duration cpu0 = process.resourceUsage().orElseThrow().cpuTime();
            long wall0 = System.nanoTime();
            Thread.sleep(3000);
            Duration cpu1 = process.resourceUsage().orElseThrow().cpuTime();
            long wall1 = System.nanoTime();
            double cpus = (double) cpu1.minus(cpu0).toNanos() / (wall1 - wall0);
            assertThat(cpus).as("CPUs used").isBetween(0.3, 0.7);
        }
    }

    @Test
    void memoryUseIsVisibleWhileRunningAndTheFiguresAfterwards() throws Exception {
        Optional<IsolatedProcess> launched = launch(inBusybox("/bin/sh", "-c",
                "x=$(head -c 30000000 /dev/zero | tr '\\0' a); echo ready; read line; echo ${#x}").memoryLimitBytes(256 * MIB).build());
        if (launched.isEmpty()) {
            return;
        }
        try (IsolatedProcess process = launched.get()) {
            BufferedReader out = new BufferedReader(new InputStreamReader(process.stdout(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).isEqualTo("ready");
            ResourceUsage running = process.resourceUsage().orElseThrow();
            assertThat(running.memoryCurrentBytes()).isPresent();
            assertThat(running.memoryCurrentBytes().getAsLong()).isBetween(30_000_000L, 256 * MIB);
            assertThat(running.cpuTime()).isPositive();
            process.stdin().write("go\n".getBytes(StandardCharsets.UTF_8));
            process.stdin().close();
            assertThat(out.readLine()).isEqualTo("30000000");
            assertThat(process.waitFor(Duration.ofSeconds(30))).contains(ExitStatus.exited(0));
            ResourceUsage after = process.resourceUsage().orElseThrow();
            assertThat(after.memoryCurrentBytes()).isEmpty();
            assertThat(after.memoryPeakBytes()).isPresent();
            assertThat(after.memoryPeakBytes().getAsLong()).isGreaterThanOrEqualTo(30_000_000L);
            assertThat(after.cpuTime()).isGreaterThanOrEqualTo(running.cpuTime());
        }
    }

    @Test
    void aSpareWaitingInTheCgroupMadeAheadTakesTheNextLaunchWithThoseLimits() throws Exception {
        IsolatedProcessSpec spec = inBusybox("/bin/sleep", "60").memoryLimitBytes(48 * MIB).pidsLimit(40).build();
        Optional<IsolatedProcess> first = launch(spec);
        if (first.isEmpty()) {
            return;
        }
        first.get().close();
        long waiting = awaitWaitingSpare();
        try (IsolatedProcess second = launch(spec).orElseThrow()) {
            assertThat(second.pid()).as("the launch ran on the waiting spare").isEqualTo(waiting);
            Path memory = CgroupFacts.cgroupDirectory(second.pid(), "memory").orElseThrow();
            Path pids = CgroupFacts.cgroupDirectory(second.pid(), "pids").orElseThrow();
            assertThat(members(memory)).as("members of the launch's memory cgroup").containsExactly(second.pid());
            assertThat(read(pids.resolve("pids.max"))).isEqualTo("40");
            assertThat(read(memory.resolve(CgroupFacts.v1() ? "memory.limit_in_bytes" : "memory.max"))).isEqualTo(Long.toString(48 * MIB));
        }
    }

    @Test
    void launchesWithoutLimitsKeepTheirSparesBesideTheOneWaitingInTheCgroupMadeAhead() throws Exception {
        Optional<IsolatedProcess> first = launch(inBusybox("/bin/sleep", "60").memoryLimitBytes(48 * MIB).build());
        if (first.isEmpty()) {
            return;
        }
        first.get().close();
        long holder = awaitWaitingSpare();
        // the same namespaces and ids, so the same kind of spare, but no cgroup to take
        try (IsolatedProcess plain = Isolation.launcher().launch(inBusybox("/bin/sleep", "60").build())) {
            ProcessHandle helper = ProcessHandle.of(plain.pid()).flatMap(ProcessHandle::parent).orElseThrow();
            // the helper makes spares for the next launches of this kind once it is idle
            long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            List<Long> spares = sparesLike(helper, plain.pid(), holder);
            while (spares.size() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
                spares = sparesLike(helper, plain.pid(), holder);
            }
            assertThat(spares).as("spares for launches like it, besides the one waiting in the cgroup made ahead").hasSize(2);
        }
    }

    /**
     * The pid of the spare that waits in a cgroup made ahead, once there is one: the helper moves
     * one there after it has been idle a while.
     */
    private static long awaitWaitingSpare() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        Optional<Long> waiting = Optional.empty();
        while (waiting.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            waiting = CgroupFacts.preparedCgroups().stream().flatMap(c -> members(c).stream()).findFirst();
        }
        assertThat(waiting).as("a spare waiting in a cgroup made ahead").isPresent();
        return waiting.get();
    }

    /**
     * The helper's idle spares, other than `except`, made for launches like `sandbox`: the same
     * uid map, and new namespaces of the same kinds (those it does not share with the helper).
     */
    private static List<Long> sparesLike(ProcessHandle helper, long sandbox, long except) {
        String map = procFile(sandbox, "uid_map");
        Set<String> kinds = newNamespaces(sandbox, helper.pid());
        return helper.children().map(ProcessHandle::pid)
                .filter(pid -> pid != except && "isolation-spare".equals(procFile(pid, "comm").trim()))
                .filter(pid -> map.equals(procFile(pid, "uid_map")) && kinds.equals(newNamespaces(pid, helper.pid())))
                .toList();
    }

    private static Set<String> newNamespaces(long pid, long helper) {
        Set<String> kinds = new LinkedHashSet<>();
        for (String kind : List.of("user", "pid", "mnt", "net", "uts", "ipc", "cgroup")) {
            try {
                Path ns = Path.of("/proc", Long.toString(pid), "ns", kind);
                if (!Files.readSymbolicLink(ns).equals(Files.readSymbolicLink(Path.of("/proc", Long.toString(helper), "ns", kind)))) {
                    kinds.add(kind);
                }
            } catch (IOException e) {
                kinds.add("gone");
            }
        }
        return kinds;
    }

    private static String procFile(long pid, String name) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), name));
        } catch (IOException e) {
            return "";
        }
    }

    private static List<Long> members(Path cgroup) {
        try {
            return Files.readAllLines(cgroup.resolve("cgroup.procs")).stream().map(Long::parseLong).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /**
     * The first launch of a kind finds no spare: the helper clones its child there and then, and
     * on cgroup v1 that child moves itself into its cgroups once released (launch.c). A uid map
     * no other test uses makes this launch the first of its kind in this JVM.
     */
    @Test
    void aLaunchThatFindsNoSpareRunsInItsCgroups() throws Exception {
        Optional<IsolatedProcess> launched = launch(inBusybox("/bin/sleep", "60").memoryLimitBytes(40 * MIB).pidsLimit(30)
                .addUidMappings(IdMapping.single(4321, Host.uid())).addGidMappings(IdMapping.single(4321, Host.gid())).build());
        if (launched.isEmpty()) {
            return;
        }
        try (IsolatedProcess process = launched.get()) {
            Path memory = CgroupFacts.cgroupDirectory(process.pid(), "memory").orElseThrow();
            Path pids = CgroupFacts.cgroupDirectory(process.pid(), "pids").orElseThrow();
            assertThat(members(memory)).as("members of the launch's memory cgroup").containsExactly(process.pid());
            assertThat(members(pids)).as("members of the launch's pids cgroup").containsExactly(process.pid());
            assertThat(read(pids.resolve("pids.max"))).isEqualTo("30");
            assertThat(read(memory.resolve(CgroupFacts.v1() ? "memory.limit_in_bytes" : "memory.max"))).isEqualTo(Long.toString(40 * MIB));
        }
    }

    @Test
    void theLimitsAreWrittenAsAsked() throws Exception {
        Optional<IsolatedProcess> launched = launch(inBusybox("/bin/sleep", "60").memoryLimitBytes(64 * MIB).pidsLimit(50)
                .cpuQuota(1.5).cpuWeight(200).build());
        if (launched.isEmpty()) {
            return;
        }
        try (IsolatedProcess process = launched.get()) {
            Path memory = CgroupFacts.cgroupDirectory(process.pid(), "memory").orElseThrow();
            Path pids = CgroupFacts.cgroupDirectory(process.pid(), "pids").orElseThrow();
            Path cpu = CgroupFacts.cgroupDirectory(process.pid(), "cpu").orElseThrow();
            assertThat(read(pids.resolve("pids.max"))).isEqualTo("50");
            if (CgroupFacts.v1()) {
                assertThat(read(memory.resolve("memory.limit_in_bytes"))).isEqualTo(Long.toString(64 * MIB));
                if (Files.exists(memory.resolve("memory.memsw.limit_in_bytes"))) {
                    assertThat(read(memory.resolve("memory.memsw.limit_in_bytes"))).as("no swap beyond the limit")
                            .isEqualTo(Long.toString(64 * MIB));
                }
                assertThat(read(cpu.resolve("cpu.cfs_quota_us"))).isEqualTo("150000");
                assertThat(read(cpu.resolve("cpu.cfs_period_us"))).isEqualTo("100000");
                // systemd's mapping of cpu.weight to cpu.shares: weight * 1024 / 100
                assertThat(read(cpu.resolve("cpu.shares"))).isEqualTo("2048");
            } else {
                assertThat(read(memory.resolve("memory.max"))).isEqualTo(Long.toString(64 * MIB));
                if (Files.exists(memory.resolve("memory.swap.max"))) {
                    assertThat(read(memory.resolve("memory.swap.max"))).isEqualTo("0");
                }
                assertThat(read(cpu.resolve("cpu.max"))).isEqualTo("150000 100000");
                assertThat(read(cpu.resolve("cpu.weight"))).isEqualTo("200");
            }
            assertThat(CgroupFacts.launchCgroups()).isNotEmpty();
        }
    }

    @Test
    void withACgroupNamespaceTheSandboxSeesItsOwnCgroupAsTheRoot() {
        Set<Namespace> namespaces = new LinkedHashSet<>(IsolatedProcessSpec.DEFAULT_NAMESPACES);
        namespaces.add(Namespace.CGROUP);
        Optional<Run> inNamespace = run(inBusybox("/bin/cat", "/proc/self/cgroup").memoryLimitBytes(64 * MIB).namespaces(namespaces).build());
        if (inNamespace.isEmpty()) {
            return;
        }
        assertThat(inNamespace.get().status()).isEqualTo(ExitStatus.exited(0));
        assertThat(inNamespace.get().stdout().lines()).isNotEmpty().allSatisfy(line -> assertThat(line).endsWith(":/"));

        Run without = run(inBusybox("/bin/cat", "/proc/self/cgroup").memoryLimitBytes(64 * MIB).build()).orElseThrow();
        String memoryLine = without.stdout().lines().filter(l -> CgroupFacts.v1() ? l.matches("\\d+:([^:]*,)?memory(,[^:]*)?:.*")
                : l.startsWith("0::")).findFirst().orElseThrow();
        assertThat(memoryLine).containsPattern("/isolation/\\d+-\\d+-\\d+$");
    }

    @Test
    void aFailedLaunchLeavesNoCgroup() {
        IsolatedProcessSpec spec = inBusybox("/bin/no-such-command").memoryLimitBytes(64 * MIB).pidsLimit(10).cpuQuota(1).build();
        if (!supported) {
            launch(spec);
            return;
        }
        assertThatThrownBy(() -> Isolation.launcher().launch(spec)).isInstanceOf(CommandNotFoundException.class);
        // noCgroupIsLeft checks the rest
    }

    @Test
    void killedSandboxesLeaveNoCgroup() throws Exception {
        Optional<IsolatedProcess> launched = launch(inBusybox("/bin/sh", "-c", "sleep 600 & sleep 600 & wait")
                .namespaces(Set.of(Namespace.MOUNT)).memoryLimitBytes(64 * MIB).build());
        if (launched.isEmpty()) {
            return;
        }
        try (IsolatedProcess process = launched.get()) {
            Thread.sleep(200);
            // without a PID namespace, killing the shell leaves its children: the cgroup's end kills them
            process.destroy();
            assertThat(process.waitFor(Duration.ofSeconds(20))).isPresent();
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!Host.grandchildren().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(Host.remainingGrandchildren()).as("processes left").isEmpty();
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file).trim();
    }

    /**
     * What the test knows about the host's cgroups, read independently of the library: whether
     * limits can work for this user, where a sandbox's cgroup is, and which launch cgroups
     * exist under the library's parents.
     */
    static final class CgroupFacts {
        private CgroupFacts() {
        }

        record Mount(String root, String mountPoint, String type, Set<String> options, Set<String> superOptions) {
        }

        static List<Mount> mounts() {
            List<Mount> mounts = new ArrayList<>();
            for (String line : Host.mounts()) {
                String[] f = line.split(" ");
                int dash = List.of(f).indexOf("-");
                if (dash > 0 && (f[dash + 1].equals("cgroup") || f[dash + 1].equals("cgroup2"))) {
                    mounts.add(new Mount(f[3], f[4].replace("\\040", " "), f[dash + 1], Set.of(f[5].split(",")),
                            Set.of(f[dash + 3].split(","))));
                }
            }
            return mounts;
        }

        static List<String[]> procCgroup(String pid) {
            try {
                return Files.readAllLines(Path.of("/proc/" + pid + "/cgroup")).stream().map(l -> l.split(":", 3)).toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        static boolean v1() {
            return procCgroup("self").stream().anyMatch(l -> !l[0].equals("0") && List.of(l[1].split(",")).contains("memory"));
        }

        /** The directory of a process's cgroup for a controller (v1), or its v2 cgroup. */
        static Optional<Path> cgroupDirectory(long pid, String controller) {
            boolean v1 = v1();
            for (String[] line : procCgroup(Long.toString(pid))) {
                boolean match = v1 ? !line[0].equals("0") && List.of(line[1].split(",")).contains(controller) : line[0].equals("0");
                if (!match) {
                    continue;
                }
                for (Mount mount : mounts()) {
                    boolean right = v1 ? mount.type().equals("cgroup") && mount.superOptions().contains(controller)
                            : mount.type().equals("cgroup2");
                    if (!right) {
                        continue;
                    }
                    String root = mount.root().equals("/") ? "" : mount.root();
                    if (line[2].equals(root) || line[2].startsWith(root + "/")) {
                        return Optional.of(Path.of(mount.mountPoint() + line[2].substring(root.length())));
                    }
                }
            }
            return Optional.empty();
        }

        /** Whether this user on this host should get limits (the library's rules, restated). */
        static boolean limitsExpected() {
            long self = ProcessHandle.current().pid();
            if (v1()) {
                Path own = cgroupDirectory(self, "memory").orElse(null);
                Mount memory = mounts().stream().filter(m -> m.type().equals("cgroup") && m.superOptions().contains("memory"))
                        .findFirst().orElse(null);
                if (memory == null || own == null) {
                    return false;
                }
                if (Host.isRoot()) {
                    return memory.options().contains("rw");
                }
                return Files.isWritable(own) && Files.isWritable(own.resolve("cgroup.procs"));
            }
            Mount unified = mounts().stream().filter(m -> m.type().equals("cgroup2")).findFirst().orElse(null);
            Path own = cgroupDirectory(self, "").orElse(null);
            if (unified == null || own == null) {
                return false;
            }
            if (Host.isRoot() && unified.options().contains("rw")
                    && !Files.exists(Path.of(unified.mountPoint(), "cgroup.type"))) {
                return true; // the real root cgroup
            }
            if (own.getFileName() != null && own.getFileName().toString().equals("isolation-jvm")) {
                return true; // moved into the leaf by an earlier test class
            }
            if (!Files.isWritable(own) || !Files.isWritable(own.resolve("cgroup.procs"))
                    || !Files.isWritable(own.resolve("cgroup.subtree_control"))) {
                return false;
            }
            try {
                // the library's rule (CgroupLayout): this JVM, its helper and what the helper
                // started; the tests start no other processes that could be in that cgroup
                Set<Long> ours = new LinkedHashSet<>();
                ours.add(self);
                ProcessHandle.current().descendants().forEach(descendant -> ours.add(descendant.pid()));
                return Files.readAllLines(own.resolve("cgroup.procs")).stream().map(Long::parseLong).allMatch(ours::contains);
            } catch (IOException e) {
                return false;
            }
        }

        private static final Set<Long> HELPERS = new java.util.concurrent.ConcurrentSkipListSet<>();

        /**
         * The pids of this JVM's helpers (its children), now and seen before. Other JVMs on the
         * machine (other test modes, benchmarks) may use the same parents at the same time.
         */
        static Set<Long> ourHelpers() {
            ProcessHandle.current().children().forEach(child -> HELPERS.add(child.pid()));
            return HELPERS;
        }

        /** Launch cgroups ({@code <pid>-<id>}) of this JVM's helpers under every place the library puts them. */
        static List<Path> launchCgroups() {
            return cgroups(false);
        }

        /**
         * The cgroups this JVM's helpers made ahead for their next launch with limits, each
         * checked on the way: it holds no process, or one spare waiting there for that launch
         * (a child of the helper, nothing of a sandbox yet).
         */
        static List<Path> preparedCgroups() {
            return cgroups(true);
        }

        private static List<Path> cgroups(boolean prepared) {
            Set<Long> helpers = ourHelpers();
            Set<Path> parents = new LinkedHashSet<>();
            for (Mount mount : mounts()) {
                parents.add(Path.of(mount.mountPoint(), "isolation"));
            }
            for (String[] line : procCgroup("self")) {
                for (Mount mount : mounts()) {
                    String root = mount.root().equals("/") ? "" : mount.root();
                    if (line[2].equals(root) || line[2].startsWith(root + "/")) {
                        Path own = Path.of(mount.mountPoint() + line[2].substring(root.length()));
                        parents.add(own.resolve("isolation"));
                        if (own.getParent() != null) {
                            parents.add(own.getParent().resolve("isolation"));
                        }
                    }
                }
            }
            List<Path> found = new ArrayList<>();
            for (Path parent : parents) {
                if (!Files.isDirectory(parent)) {
                    continue;
                }
                try (Stream<Path> children = Files.list(parent)) {
                    children.filter(c -> {
                        java.util.regex.Matcher m = LAUNCH_CGROUP.matcher(c.getFileName().toString());
                        if (!m.matches() || !helpers.contains(Long.parseLong(m.group(1))) || !m.group(3).equals(pidNamespace())) {
                            return false;
                        }
                        boolean madeAhead = Long.parseUnsignedLong(m.group(2)) >= FIRST_PREPARED_ID;
                        if (madeAhead && prepared) {
                            List<Long> members = members(c); // empty when removed meanwhile
                            assertThat(members).as("processes in prepared cgroup " + c).hasSizeLessThanOrEqualTo(1);
                            for (long member : members) {
                                assertThat(ProcessHandle.of(member).flatMap(ProcessHandle::parent).map(ProcessHandle::pid))
                                        .as("parent of the one process in prepared cgroup " + c).hasValue(Long.parseLong(m.group(1)));
                            }
                        }
                        return madeAhead == prepared;
                    }).forEach(found::add);
                } catch (IOException e) {
                    // unreadable: nothing of ours there
                }
            }
            return found;
        }

        /** The inode number of this JVM's pid namespace, as text. */
        static String pidNamespace() {
            try {
                String link = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
                return link.substring(link.indexOf('[') + 1, link.indexOf(']'));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** "key N" of a flat-keyed cgroup file; 0 when absent. */
        static long keyed(Path file, String key) {
            try {
                for (String line : Files.readAllLines(file)) {
                    String[] parts = line.trim().split("\\s+");
                    if (parts.length == 2 && parts[0].equals(key)) {
                        return Long.parseLong(parts[1]);
                    }
                }
            } catch (IOException e) {
                // gone
            }
            return 0;
        }
    }
}
