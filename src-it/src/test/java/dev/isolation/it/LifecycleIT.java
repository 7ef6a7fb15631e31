package dev.isolation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.CommandNotFoundException;
import dev.isolation.ExitStatus;
import dev.isolation.IdMapping;
import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Isolation;
import dev.isolation.JoinSpec;
import dev.isolation.LaunchException;
import dev.isolation.Mount;
import dev.isolation.Namespace;
import dev.isolation.Redirect;
import dev.isolation.Signal;
import dev.isolation.it.support.BusyboxRootfs;
import dev.isolation.it.support.Host;
import dev.isolation.it.support.Run;
import dev.isolation.it.support.SandboxSpawner;
import dev.isolation.it.support.TeardownWithoutClosers;
import dev.isolation.it.support.TracedLaunches;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Lifecycle: joining a running sandbox (or any process), the init in front of the command,
 * stopping (kill, destroy, timeouts), and nothing left behind when the JVM dies or exits, after
 * thousands of launches, or under many threads.
 */
class LifecycleIT {
    /** How many launches {@link #manyLaunchesOfEveryKindLeaveNothingBehind} makes; CI runs the default. */
    private static final int LAUNCHES = Integer.getInteger("isolation.lifecycle.launches", 10_000);

    private static Path rootfs;

    @BeforeAll
    static void makeRootfs() throws IOException {
        rootfs = BusyboxRootfs.create();
        for (String applet : List.of("setsid", "tr", "touch", "sed")) {
            if (!Files.exists(rootfs.resolve("bin").resolve(applet), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(rootfs.resolve("bin").resolve(applet), Path.of("busybox"));
            }
        }
        Path notExecutable = rootfs.resolve("bin/not-executable");
        Files.writeString(notExecutable, "#!/bin/sh\n");
        Files.setPosixFilePermissions(notExecutable, PosixFilePermissions.fromString("rw-r--r--"));
        // the helper and its reader thread exist before any baseline is taken
        Run.of(inBusybox("true").build());
    }

    @AfterAll
    static void deleteRootfs() {
        BusyboxRootfs.delete(rootfs);
    }

    private static IsolatedProcessSpec.Builder inBusybox(String script) {
        return IsolatedProcessSpec.builder().command("/bin/sh", "-c", script).rootfs(rootfs);
    }

    private static JoinSpec.Builder joining(String script) {
        return JoinSpec.builder().command("/bin/sh", "-c", script);
    }

    /** Runs a joined process to its end, like {@link Run#of}. */
    private static Run finish(IsolatedProcess process) throws Exception {
        try (process) {
            process.stdin().close();
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(process.stderr()));
            String out = drain(process.stdout());
            ExitStatus status = process.waitFor(Duration.ofSeconds(60)).orElseThrow();
            return new Run(status, out, err.join(), process.pid());
        }
    }

    private static String drain(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The first line the sandbox writes: it is up and has done what came before. */
    private static String firstLine(IsolatedProcess process) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = process.stdout().read(); c != -1 && c != '\n'; c = process.stdout().read()) {
            line.append((char) c);
        }
        return line.toString();
    }

    private static String namespaceOf(long pid, String type) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/" + type)).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether a process still runs: it exists and is not a zombie (already dead, not yet reaped). */
    private static boolean running(long pid, String startTime) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields[0] is the state (3rd field), fields[19] the start time (22nd field)
            return !fields[0].equals("Z") && !fields[0].equals("X") && (startTime == null || fields[19].equals(startTime));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static String startTime(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19];
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static void awaitGone(List<Long> pids, Duration limit) throws InterruptedException {
        Map<Long, String> started = new HashMap<>();
        for (long pid : pids) {
            started.put(pid, startTime(pid));
        }
        awaitGone(started, limit);
    }

    /** Polls until none of the processes (pid to start time) runs, for at most {@code limit}; asserts that. */
    private static void awaitGone(Map<Long, String> processes, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        List<Long> left;
        do {
            left = processes.entrySet().stream().filter(e -> running(e.getKey(), e.getValue())).map(Map.Entry::getKey).toList();
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(10);
        } while (System.nanoTime() < deadline);
        List<String> described = left.stream().map(pid -> pid + " " + cmdline(pid)).toList();
        assertThat(described).as("processes still running after " + limit.toMillis() + " ms").isEmpty();
    }

    private static String cmdline(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ').trim();
        } catch (IOException e) {
            return "(gone)";
        }
    }

    // ---- join ------------------------------------------------------------------------------

    @Test
    void joinSeesTheSandboxsPidNamespaceHostnameRootAndIds() throws Exception {
        try (IsolatedProcess box = Isolation.launcher().launch(inBusybox("echo $(id -u) $(id -g); exec sleep 1000").hostname("box").build())) {
            String ids = firstLine(box);
            Run run = finish(box.join(joining("echo $$ $(id -u) $(id -g); hostname; cat /etc/marker; ps -o pid,comm; "
                    + "for t in pid mnt net uts ipc user; do readlink /proc/self/ns/$t; done").build()));
            assertThat(run.status()).as(run.toString()).isEqualTo(ExitStatus.exited(0));
            List<String> lines = run.stdout().lines().toList();
            String[] first = lines.get(0).split(" ");
            assertThat(Integer.parseInt(first[0])).as("the joined shell's pid inside").isGreaterThan(1);
            assertThat(first[1] + " " + first[2]).as("uid and gid, as the sandbox's").isEqualTo(ids);
            assertThat(lines.get(1)).isEqualTo("box");
            assertThat(lines.get(2)).as("the sandbox's root").isEqualTo("busybox-rootfs");
            assertThat(run.stdout()).as("ps sees the sandbox's PID 1 and the joined shell")
                    .containsPattern("(?m)^\\s*1 sleep$").containsPattern("(?m)^\\s*" + first[0] + " sh$");
            List<String> expected = Stream.of("pid", "mnt", "net", "uts", "ipc", "user").map(t -> namespaceOf(box.pid(), t)).toList();
            assertThat(lines.subList(lines.size() - 6, lines.size())).isEqualTo(expected);
            assertThat(box.isAlive()).isTrue();
        }
    }

    @Test
    void joinWithASubsetOfNamespacesEntersOnlyThose() throws Exception {
        try (IsolatedProcess box = Isolation.launcher().launch(inBusybox("echo up; exec sleep 1000").hostname("box").build())) {
            firstLine(box);
            // without the mount namespace the host's root is seen: use its busybox explicitly
            JoinSpec spec = JoinSpec.builder().command("/bin/busybox", "sh", "-c",
                    "/bin/busybox hostname; for t in uts mnt pid net; do /bin/busybox readlink /proc/self/ns/$t; done")
                    .addNamespaces(Namespace.UTS).build();
            Run run = finish(box.join(spec));
            assertThat(run.status()).as(run.toString()).isEqualTo(ExitStatus.exited(0));
            assertThat(run.stdout().lines().toList()).containsExactly("box", namespaceOf(box.pid(), "uts"),
                    Host.namespace("mnt"), Host.namespace("pid"), Host.namespace("net"));
        }
    }

    @Test
    void rootJoiningCannotMakeTheSandboxsReadOnlyMountsWritable() throws Exception {
        Path hostDir = Files.createTempDirectory("isolation-it-join-ro-");
        try {
            Files.writeString(hostDir.resolve("from-host"), "hello from the host\n");
            IsolatedProcessSpec spec = inBusybox("echo up; exec sleep 1000").addMounts(Mount.bindReadOnly(hostDir, "/tmp"))
                    .addUidMappings(IdMapping.single(0, Host.uid())).addGidMappings(IdMapping.single(0, Host.gid())).build();
            try (IsolatedProcess box = Isolation.launcher().launch(spec)) {
                firstLine(box);
                // the joined shell runs as the sandbox's uid 0, with every capability of its user namespace
                Run run = finish(box.join(joining("id -u; mount -o remount,rw,bind /tmp 2>/dev/null || echo bind-refused; "
                        + "mount -o remount,rw,bind / 2>/dev/null || echo root-refused; "
                        + "echo changed > /tmp/from-host 2>/dev/null || echo write-refused; "
                        + "mount -t tmpfs none /sys && mount -o remount,ro,bind /sys && echo remount-read-only-allowed").build()));
                assertThat(run.status()).as(run.toString()).isEqualTo(ExitStatus.exited(0));
                assertThat(run.stdout()).as(run.toString())
                        .isEqualTo("0\nbind-refused\nroot-refused\nwrite-refused\nremount-read-only-allowed\n");
            }
            assertThat(Files.readString(hostDir.resolve("from-host"))).isEqualTo("hello from the host\n");
        } finally {
            BusyboxRootfs.delete(hostDir);
        }
    }

    @Test
    void joinByHostPidThroughTheLauncher() throws Exception {
        try (IsolatedProcess box = Isolation.launcher().launch(inBusybox("echo up; exec sleep 1000").hostname("by-pid").build())) {
            firstLine(box);
            Run run = finish(Isolation.launcher().join(box.pid(), joining("hostname; cat /etc/marker; readlink /proc/self/ns/pid").build()));
            assertThat(run.status()).as(run.toString()).isEqualTo(ExitStatus.exited(0));
            assertThat(run.stdout().lines().toList()).containsExactly("by-pid", "busybox-rootfs", namespaceOf(box.pid(), "pid"));
        }
    }

    @Test
    void joinedProcessHasItsOwnStreamsStatusAndHandle() throws Exception {
        try (IsolatedProcess box = Isolation.launcher().launch(inBusybox("echo up; exec sleep 1000").build())) {
            firstLine(box);
            try (IsolatedProcess joined = box.join(joining("cat; echo err >&2; exit 3").workingDirectory("/etc").build())) {
                joined.stdin().write("through stdin\n".getBytes(StandardCharsets.UTF_8));
                joined.stdin().close();
                assertThat(drain(joined.stdout())).isEqualTo("through stdin\n");
                assertThat(drain(joined.stderr())).isEqualTo("err\n");
                assertThat(joined.waitFor()).isEqualTo(ExitStatus.exited(3));
            }
            // kill and destroy of a joined process end it, not the sandbox
            try (IsolatedProcess joined = box.join(joining("sleep 1000 & sleep 1000").build())) {
                joined.destroy();
                assertThat(joined.waitFor(Duration.ofSeconds(10))).contains(ExitStatus.killed(9, false));
            }
            try (IsolatedProcess joined = box.join(joining("exec sleep 1000").workingDirectory("/etc").build())) {
                joined.kill(Signal.TERM);
                assertThat(joined.waitFor(Duration.ofSeconds(10))).contains(ExitStatus.killed(15, false));
            }
            assertThat(box.isAlive()).isTrue();
        }
        assertThat(Host.remainingGrandchildren()).isEmpty();
    }

    @Test
    void joinIntoAnEndedSandboxFailsNamingTheStep() throws Exception {
        IsolatedProcess box = Isolation.launcher().launch(inBusybox("exit 0").build());
        long pid = box.pid();
        assertThat(box.waitFor()).isEqualTo(ExitStatus.exited(0));
        assertThatThrownBy(() -> box.join(joining("true").build())).isInstanceOfSatisfying(LaunchException.class, e -> {
            assertThat(e.step()).isEqualTo("find target");
            assertThat(e.errnoName()).contains("ESRCH");
        });
        box.close();
        // targets, not a count: the JDK opens and closes jars and its own cgroup files at moments of its own choosing
        List<String> fds = Host.openFdTargets();
        assertThat(ProcessHandle.of(pid)).isEmpty();
        // by pid: one that cannot exist (the ended sandbox's could have been reused by now)
        assertThatThrownBy(() -> Isolation.launcher().join(Integer.MAX_VALUE, joining("true").build()))
                .isInstanceOfSatisfying(LaunchException.class, e -> {
                    assertThat(e.step()).isEqualTo("find target");
                    assertThat(e.errnoName()).contains("ESRCH");
                });
        assertThat(Host.openFdTargets()).as("open fds").isEqualTo(fds);
        assertThat(Host.remainingGrandchildren()).isEmpty();
    }

    @Test
    void joinOfAMissingCommandFailsLikeALaunch() throws Exception {
        try (IsolatedProcess box = Isolation.launcher().launch(inBusybox("echo up; exec sleep 1000").build())) {
            firstLine(box);
            assertThatThrownBy(() -> box.join(JoinSpec.builder().command("/bin/no-such-command").build()))
                    .isInstanceOfSatisfying(CommandNotFoundException.class, e -> assertThat(e.step()).isEqualTo("execve"));
            assertThatThrownBy(() -> box.join(JoinSpec.builder().command("/bin/true").workingDirectory("/nowhere").build()))
                    .isInstanceOfSatisfying(LaunchException.class, e -> {
                        assertThat(e.step()).isEqualTo("chdir");
                        assertThat(e.errnoName()).contains("ENOENT");
                    });
            assertThat(box.isAlive()).isTrue();
        }
        assertThat(Host.remainingGrandchildren()).isEmpty();
    }

    /**
     * While a joining process enters the sandbox and until its execve, it runs the helper's
     * image and memory: nothing inside may read it or write its executable (runc's
     * CVE-2016-9962 and CVE-2019-5736). A shell inside watches /proc for such processes
     * (cmdline "isolation-helper") during hundreds of joins and tries to open their environ and
     * mem and to write their exe; an open that succeeds counts only if the process had still not
     * executed its command afterwards.
     */
    @Test
    void joiningProcessesCannotBeReachedFromInside() throws Exception {
        String watcher = String.join("\n",
                "seen=0",
                "while [ ! -e /tmp/stop ]; do",
                "  for d in /proc/[0-9]*; do",
                "    c=; read -r c < $d/cmdline 2>/dev/null",
                "    case \"$c\" in isolation-helper*)",
                "      seen=$((seen+1))",
                "      for f in environ mem; do",
                "        if { : ; } 2>/dev/null < $d/$f; then",
                "          c=; read -r c < $d/cmdline 2>/dev/null",
                "          case \"$c\" in isolation-helper*) echo \"OPENED $d/$f before execve\";; esac",
                "        fi",
                "      done",
                "      if { : ; } 2>/dev/null >> $d/exe; then echo \"WROTE $d/exe\"; fi",
                "    ;; esac",
                "  done",
                "done",
                "echo seen $seen");
        // root inside (the caller mapped to 0) holds every capability of the sandbox's user
        // namespace, CAP_SYS_PTRACE included: only non-dumpability protects the joiner from it
        IsolatedProcessSpec spec = IsolatedProcessSpec.builder().command("/bin/sh", "-c", watcher).rootfs(rootfs)
                .addMounts(Mount.tmpfs("/tmp")).addUidMappings(IdMapping.single(0, Host.uid()))
                .addGidMappings(IdMapping.single(0, Host.gid())).build();
        try (IsolatedProcess box = Isolation.launcher().launch(spec)) {
            for (int i = 0; i < 300; i++) {
                assertThat(finish(box.join(JoinSpec.builder().command("/bin/true").build())).status()).isEqualTo(ExitStatus.exited(0));
            }
            finish(box.join(JoinSpec.builder().command("/bin/touch", "/tmp/stop").build()));
            box.stdin().close();
            String report = drain(box.stdout());
            assertThat(box.waitFor()).isEqualTo(ExitStatus.exited(0));
            assertThat(report).as("what the watcher could reach").doesNotContain("OPENED").doesNotContain("WROTE").contains("seen ");
            System.out.println("joiningProcessesCannotBeReachedFromInside: " + report.trim() + " (loop passes that saw a joining process)");
        }
    }

    // ---- PID 1 and the init -----------------------------------------------------------------

    @Test
    void withoutInitTheCommandIsPid1AndWithInitTheInitIs() {
        Run plain = Run.of(inBusybox("echo $$").build());
        assertThat(plain.stdout()).isEqualTo("1\n");
        Run init = Run.of(inBusybox("echo $$; tr '\\0' ' ' < /proc/1/cmdline; echo").init(true).build());
        assertThat(init.status()).as(init.toString()).isEqualTo(ExitStatus.exited(0));
        // PID 1 is the init ("isolation-init REPORT_FD COMMAND_PID GATE_FD"), the command its child, pid 2
        assertThat(init.stdout()).matches("2\nisolation-init \\d+ 2 \\d+ \n");
    }

    @Test
    void initReapsOrphans() {
        // the inner shell exits at once: its sleep is reparented to PID 1, which must reap it
        String script = "sh -c 'sleep 0.1 &'; sleep 0.8; "
                + "for f in /proc/[0-9]*/stat; do read -r l < $f; echo \"$l\"; done";
        Run run = Run.of(inBusybox(script).init(true).build());
        assertThat(run.status()).as(run.toString()).isEqualTo(ExitStatus.exited(0));
        assertThat(run.stdout().lines().filter(l -> l.contains(") Z ")).toList()).as("zombies").isEmpty();
        assertThat(run.stdout()).contains("(sh)").doesNotContain("(sleep)");
    }

    @Test
    void initEndsWithTheCommandAndTakesItsChildrenWithIt() throws Exception {
        long start = System.nanoTime();
        Run run = Run.of(inBusybox("sleep 100 & exec true").init(true).build());
        assertThat(run.status()).isEqualTo(ExitStatus.exited(0));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
        assertThat(Host.remainingGrandchildren()).isEmpty();
    }

    @Test
    void initForwardsSignalsTheCommandHandles() throws Exception {
        for (Signal signal : List.of(Signal.TERM, Signal.HUP, Signal.INT, Signal.USR1, Signal.USR2, Signal.QUIT)) {
            String name = signal.name();
            IsolatedProcessSpec spec = inBusybox("trap 'echo got " + name + "; exit 42' " + name + "; echo ready; "
                    + "while :; do sleep 0.05; done").init(true).build();
            try (IsolatedProcess process = Isolation.launcher().launch(spec)) {
                assertThat(firstLine(process)).isEqualTo("ready");
                process.kill(signal);
                assertThat(process.waitFor(Duration.ofSeconds(10))).as(name).contains(ExitStatus.exited(42));
                assertThat(drain(process.stdout())).isEqualTo("got " + name + "\n");
            }
        }
    }

    @Test
    void initPassesTheExitStatusThrough() throws Exception {
        assertThat(Run.of(inBusybox("exit 7").init(true).build()).status()).isEqualTo(ExitStatus.exited(7));
        // killed by a signal: the JVM sees the same status as without an init, not 128+N
        assertThat(Run.of(inBusybox("kill -KILL $$").init(true).build()).status()).isEqualTo(ExitStatus.killed(9, false));
        try (IsolatedProcess process = Isolation.launcher().launch(inBusybox("echo up; exec sleep 1000").init(true).build())) {
            firstLine(process);
            process.kill(Signal.TERM); // forwarded; sleep does not handle it
            assertThat(process.waitFor(Duration.ofSeconds(10))).contains(ExitStatus.killed(15, false));
        }
        // a command that is not found fails the launch as without an init
        assertThatThrownBy(() -> Isolation.launcher().launch(IsolatedProcessSpec.builder().command("/bin/nope").rootfs(rootfs).init(true).build()))
                .isInstanceOf(CommandNotFoundException.class);
        assertThat(Host.remainingGrandchildren()).isEmpty();
    }

    @Test
    void initCannotBeAlteredFromInside() {
        // the init runs the helper's image: a sealed memfd, also busy being executed
        Run root = Run.of(inBusybox("echo x >> /proc/1/exe && echo WROTE").init(true)
                .addUidMappings(IdMapping.single(0, Host.uid())).addGidMappings(IdMapping.single(0, Host.gid())).build());
        assertThat(root.stdout()).doesNotContain("WROTE");
        assertThat(root.status()).isNotEqualTo(ExitStatus.exited(0));
        if (!Host.isRoot()) {
            // an unprivileged command cannot even look: the init is not dumpable
            Run user = Run.of(inBusybox("readlink /proc/1/exe || echo DENIED; { : ; } 2>/dev/null < /proc/1/environ || echo DENIED")
                    .init(true).build());
            assertThat(user.stdout()).isEqualTo("DENIED\nDENIED\n");
        }
    }

    // ---- stopping ---------------------------------------------------------------------------

    @Test
    void destroyKillsADoubleForkedProcessInANewSession() throws Exception {
        try (IsolatedProcess box = Isolation.launcher().launch(inBusybox("setsid sh -c 'sleep 1000 &'; echo up; sleep 1000").build())) {
            firstLine(box);
            List<Long> pids = Host.grandchildren().stream().map(ProcessHandle::pid).toList();
            assertThat(pids).hasSizeGreaterThanOrEqualTo(2); // sh (PID 1) and the escaped sleep, at least
            box.destroy();
            assertThat(box.waitFor(Duration.ofSeconds(10))).contains(ExitStatus.killed(9, false));
            awaitGone(pids, Duration.ofSeconds(2));
        }
        assertThat(Host.remainingGrandchildren()).isEmpty();
    }

    @Test
    void destroyWithoutPidNamespaceKillsTheProcessGroup() throws Exception {
        Set<Namespace> noPid = EnumSet.of(Namespace.USER, Namespace.MOUNT);
        try (IsolatedProcess box = Isolation.launcher().launch(inBusybox("sleep 1000 & echo $!; sleep 1000").namespaces(noPid).build())) {
            long background = Long.parseLong(firstLine(box));
            box.destroy();
            assertThat(box.waitFor(Duration.ofSeconds(10))).contains(ExitStatus.killed(9, false));
            awaitGone(List.of(background), Duration.ofSeconds(2));
        }
    }

    @Test
    void whenTheMainProcessEndsWithoutPidNamespaceItsProcessGroupEnds() throws Exception {
        Set<Namespace> noPid = EnumSet.of(Namespace.USER, Namespace.MOUNT);
        Run run = Run.of(inBusybox("sleep 1000 >/dev/null 2>&1 & echo $!").namespaces(noPid).build());
        assertThat(run.status()).isEqualTo(ExitStatus.exited(0));
        awaitGone(List.of(Long.parseLong(run.stdout().trim())), Duration.ofSeconds(2));
    }

    /**
     * Without a PID namespace but with a cgroup of its own (a limit), the cgroup is what reaches a
     * process that left the process group: at destroy() and when the main process ends. A join
     * enters that cgroup. Where this user gets no cgroup (ResourceLimitsIT says why), there is
     * nothing to check here.
     */
    @Test
    void withACgroupButNoPidNamespaceTheCgroupReachesEscapedProcesses() throws Exception {
        if (!tryPidsLimit()) {
            return;
        }
        Set<Namespace> noPid = EnumSet.of(Namespace.USER, Namespace.MOUNT);
        String escape = "setsid sh -c 'sleep 1000 >/dev/null 2>&1 & echo $!'";
        try (IsolatedProcess box = Isolation.launcher().launch(inBusybox(escape + "; exec sleep 1000").namespaces(noPid).pidsLimit(64).build())) {
            long escaped = Long.parseLong(firstLine(box));
            String cgroup = Files.readString(Path.of("/proc/" + box.pid() + "/cgroup"));
            Run joined = finish(box.join(joining("cat /proc/self/cgroup").build()));
            assertThat(joined.stdout()).as("the joined process's cgroups").isEqualTo(cgroup);
            box.destroy();
            assertThat(box.waitFor(Duration.ofSeconds(10))).contains(ExitStatus.killed(9, false));
            awaitGone(List.of(escaped), Duration.ofSeconds(2));
        }
        Run ended = Run.of(inBusybox(escape + "; sleep 0.1").namespaces(noPid).pidsLimit(64).build());
        assertThat(ended.status()).isEqualTo(ExitStatus.exited(0));
        awaitGone(List.of(Long.parseLong(ended.stdout().trim())), Duration.ofSeconds(2));
        assertThat(Host.remainingGrandchildren()).isEmpty();
    }

    @Test
    void timeoutKillsTheWholeSandbox() throws Exception {
        IsolatedProcessSpec spec = inBusybox("setsid sh -c 'sleep 1000 &'; sleep 1000").timeout(Duration.ofMillis(500)).build();
        try (IsolatedProcess box = Isolation.launcher().launch(spec)) {
            Thread.sleep(200);
            List<Long> pids = Host.grandchildren().stream().map(ProcessHandle::pid).toList();
            ExitStatus status = box.waitFor(Duration.ofSeconds(10)).orElseThrow();
            assertThat(status.timedOut()).isTrue();
            assertThat(status).isEqualTo(ExitStatus.killed(9, false).withTimedOut(true));
            awaitGone(pids, Duration.ofSeconds(2));
        }
        assertThat(Host.remainingGrandchildren()).isEmpty();
    }

    @Test
    void killedJvmLeavesNoProcessBehind() throws Exception {
        childJvmLeavesNothing("wait");
    }

    @Test
    void exitingJvmThatClosedNothingLeavesNoProcessBehind() throws Exception {
        childJvmLeavesNothing("exit");
    }

    /**
     * Without the closers (killed), ended sandboxes' mount namespaces are still released: the
     * helper closes them itself. Runs in a child JVM, whose helper is its own.
     */
    @Test
    void mountNamespacesAreReleasedWhenTheClosersAreGone() throws Exception {
        Process child = childJvm(TeardownWithoutClosers.class, rootfs.toString());
        try {
            String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(child.exitValue()).as(output).isZero();
            assertThat(output).contains("closers 3\n").contains("namespaces 8\n").contains("held 0 []");
        } finally {
            child.destroyForcibly();
        }
    }

    /**
     * With {@code -Disolation.trace=FILE}, the helper and the sandboxes write each launch's
     * phases, in the order they happen, and the command never sees the trace's descriptor.
     * Runs in a child JVM, since the property is read when the helper starts.
     */
    @Test
    void theTraceNamesEveryPhaseOfEachLaunchInOrder() throws Exception {
        Path dir = Files.createTempDirectory("isolation-trace-it");
        Path trace = dir.resolve("trace.txt");
        try {
            Process child = childJvm(List.of("-Disolation.trace=" + trace), TracedLaunches.class, rootfs.toString(), "6");
            String output;
            try {
                output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
            } finally {
                child.destroyForcibly();
            }
            assertThat(child.exitValue()).as(output).isZero();
            // ls's own descriptor for the directory is the fourth; nothing else is open in the command
            assertThat(output).as(output).contains("fds 0 1 2 3 exit exited(0)").contains("DONE");

            Map<String, Map<String, Long>> launches = new HashMap<>();
            for (String line : Files.readAllLines(trace)) {
                String[] f = line.split(" ");
                assertThat(f).as("line \"" + line + "\"").hasSize(3);
                launches.computeIfAbsent(f[0], k -> new HashMap<>()).put(f[1], Long.parseLong(f[2]));
            }
            assertThat(launches).as("launches traced").hasSize(7);
            int fromSpares = 0;
            for (Map.Entry<String, Map<String, Long>> launch : launches.entrySet()) {
                Map<String, Long> at = launch.getValue();
                assertThat(at).as("launch " + launch.getKey()).containsKeys("received", "released", "exec", "started", "exited");
                // a launch handed to a spare that died at that moment goes direct after all: both are there
                assertThat(at.containsKey("spare") || at.containsKey("direct")).as("a route: " + at).isTrue();
                String route = at.containsKey("direct") ? "direct" : "spare";
                assertThat(at.get("received")).as("received before the route " + at).isLessThanOrEqualTo(at.get(route));
                assertThat(at.get(route)).as("handed over or released before the sandbox began " + at)
                        .isLessThanOrEqualTo(at.get("released"));
                assertThat(at.get("released")).as("released before exec " + at).isLessThanOrEqualTo(at.get("exec"));
                assertThat(at.get("exec")).as("exec before started " + at).isLessThanOrEqualTo(at.get("started"));
                assertThat(at.get("started")).as("started before exited " + at).isLessThanOrEqualTo(at.get("exited"));
                if (route.equals("spare")) {
                    fromSpares++;
                }
            }
            assertThat(fromSpares).as("launches served by spares").isPositive();
        } finally {
            Files.deleteIfExists(trace);
            Files.deleteIfExists(dir);
        }
    }

    /** Starts {@code main} in a new JVM with this one's classpath, its stderr merged into its stdout. */
    private static Process childJvm(Class<?> main, String... args) throws IOException {
        return childJvm(List.of(), main, args);
    }

    /** As {@link #childJvm(Class, String...)}, with JVM options. */
    private static Process childJvm(List<String> jvmOptions, Class<?> main, String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>(List.of(java, "-XX:+UseSerialGC"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    /** Starts {@link SandboxSpawner} in a new JVM; once it has killed (or let exit), none of its sandboxes' processes may run 2 s later. */
    private static void childJvmLeavesNothing(String mode) throws Exception {
        Process child = childJvm(SandboxSpawner.class, mode, rootfs.toString());
        Map<Long, String> processes = new HashMap<>();
        List<String> output = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null && !line.equals("READY"); line = lines.readLine()) {
                output.add(line);
                if (line.startsWith("pid ") || line.startsWith("helper ")) {
                    long pid = Long.parseLong(line.substring(line.indexOf(' ') + 1));
                    processes.put(pid, startTime(pid));
                }
            }
            assertThat(processes.size()).as("processes the child JVM started: " + output).isGreaterThanOrEqualTo(12);
            if (mode.equals("wait")) {
                child.destroyForcibly(); // SIGKILL
            }
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        awaitGone(processes, Duration.ofSeconds(2));
    }

    // ---- many -------------------------------------------------------------------------------

    /**
     * What must not grow: the JVM's fds, threads and mounts, the helper's fds and children,
     * cgroups. Mounts are the host's table, which other processes change too: only lines that
     * could be a sandbox's (its rootfs, the library's names) count.
     */
    private record Footprint(int fds, int libraryThreads, int threads, List<String> mounts, int helperFds, int helperChildren,
            int cgroups) {
        static Footprint now() {
            long helper = ProcessHandle.current().children().filter(p -> p.info().command().map(c -> c.contains("memfd:isolation")
                    || c.contains("isolation-helper")).orElse(true)).findFirst().map(ProcessHandle::pid).orElse(-1L);
            int libraryThreads = (int) Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("isolation-")).count();
            List<String> mounts = Host.mounts().stream().filter(m -> m.contains(rootfs.toString()) || m.contains("isolation")
                    || m.contains("newroot") || m.contains("oldroot")).toList();
            return new Footprint(Host.openFds(), libraryThreads, ManagementFactory.getThreadMXBean().getThreadCount(), mounts,
                    helper < 0 ? -1 : count("/proc/" + helper + "/fd"),
                    helper < 0 ? -1 : ProcessHandle.of(helper).map(h -> (int) h.children().count()).orElse(0), launchCgroups());
        }

        private static int count(String dir) {
            try (Stream<Path> entries = Files.list(Path.of(dir))) {
                return (int) entries.count();
            } catch (IOException e) {
                return -1;
            }
        }

        /** Cgroups named like the library's launch cgroups ("HELPERPID-LAUNCHID-PIDNS"), anywhere in the host's tree. */
        private static int launchCgroups() {
            AtomicInteger found = new AtomicInteger();
            try {
                Files.walkFileTree(Path.of("/sys/fs/cgroup"), Set.of(), 8, new java.nio.file.SimpleFileVisitor<>() {
                    @Override
                    public java.nio.file.FileVisitResult preVisitDirectory(Path dir, java.nio.file.attribute.BasicFileAttributes attrs) {
                        // not the one made ahead for the next launch (launch ids from 2^62, cgroup.c)
                        String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
                        if (name.matches("\\d+-\\d+-\\d+") && Long.parseUnsignedLong(name.split("-")[1]) < (1L << 62)) {
                            found.incrementAndGet();
                        }
                        return java.nio.file.FileVisitResult.CONTINUE;
                    }

                    @Override
                    public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) {
                        return java.nio.file.FileVisitResult.CONTINUE; // unreadable corners of the tree
                    }
                });
            } catch (IOException e) {
                return -1;
            }
            return found.get();
        }
    }

    /**
     * {@value #LAUNCHES} launches by default ({@code -Disolation.lifecycle.launches=N}), four
     * threads, every kind mixed: normal exits, each kind of failure, kills, destroys, timeouts,
     * inits, orphans, joins (and failed joins). Nothing may grow.
     */
    @Test
    void manyLaunchesOfEveryKindLeaveNothingBehind() throws Exception {
        boolean cgroupLimits = tryPidsLimit();
        int threads = 4;
        runMix(threads, 25 * threads, cgroupLimits); // warm-up: JIT, helper, pools
        Thread.sleep(200);
        Footprint before = Footprint.now();
        long start = System.nanoTime();
        runMix(threads, LAUNCHES, cgroupLimits);
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("manyLaunchesOfEveryKindLeaveNothingBehind: %d launches in %d ms (%.0f/s), cgroup limits %s%n",
                LAUNCHES, millis, LAUNCHES * 1000.0 / Math.max(1, millis), cgroupLimits ? "included" : "not available here");
        Footprint after = null;
        for (int i = 0; i < 100; i++) { // the last EXITED frames and stream closes may still be in flight
            after = Footprint.now();
            if (after.fds() <= before.fds() && after.helperChildren() <= before.helperChildren()
                    && after.helperFds() <= before.helperFds() && after.cgroups() <= before.cgroups()) {
                break;
            }
            Thread.sleep(50);
        }
        assertThat(after.fds()).as("JVM fds").isLessThanOrEqualTo(before.fds());
        assertThat(after.libraryThreads()).as("library threads").isLessThanOrEqualTo(before.libraryThreads());
        assertThat(after.threads()).as("JVM threads (JIT compiler threads come and go)").isLessThanOrEqualTo(before.threads() + 4);
        assertThat(after.mounts()).as("host mounts of sandboxes").isEqualTo(before.mounts());
        assertThat(after.helperFds()).as("helper fds").isLessThanOrEqualTo(before.helperFds());
        assertThat(after.helperChildren()).as("helper children").isLessThanOrEqualTo(before.helperChildren());
        assertThat(after.cgroups()).as("launch cgroups").isLessThanOrEqualTo(before.cgroups());
        assertThat(Host.remainingGrandchildren()).isEmpty();
    }

    /** Whether this host lets us put a pids limit on a sandbox (a cgroup of its own). */
    private static boolean tryPidsLimit() {
        try {
            return Run.of(inBusybox("true").pidsLimit(16).build()).status().succeeded();
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static void runMix(int threads, int launches, boolean cgroupLimits) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicInteger next = new AtomicInteger();
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(pool.submit(() -> {
                    // each worker keeps one sandbox to join into, replaced now and then
                    IsolatedProcess box = null;
                    try {
                        for (int i = next.getAndIncrement(); i < launches; i = next.getAndIncrement()) {
                            if (box == null || i % 500 == 0) {
                                if (box != null) {
                                    box.close();
                                }
                                box = Isolation.launcher().launch(inBusybox("exec sleep 1000").stdin(Redirect.DISCARD)
                                        .stdout(Redirect.DISCARD).stderr(Redirect.DISCARD).build());
                            }
                            oneOfEach(i, box, cgroupLimits);
                        }
                    } finally {
                        if (box != null) {
                            box.close();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> worker : workers) {
                worker.get(30, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void oneOfEach(int i, IsolatedProcess box, boolean cgroupLimits) throws Exception {
        Redirect discard = Redirect.DISCARD;
        switch (i % 20) {
            case 0, 1, 2, 3 -> assertThat(quick(inBusybox("exit " + (i % 7)).build())).isEqualTo(ExitStatus.exited(i % 7));
            case 4 -> assertThat(quick(inBusybox("sleep 1000 & exit 0").build())).isEqualTo(ExitStatus.exited(0)); // orphan
            case 5 -> assertThat(quick(inBusybox("exit 5").init(true).build())).isEqualTo(ExitStatus.exited(5));
            case 6 -> assertThatThrownBy(() -> quick(IsolatedProcessSpec.builder().command("/bin/no-such").rootfs(rootfs).build()))
                    .isInstanceOf(CommandNotFoundException.class);
            case 7 -> assertThatThrownBy(() -> quick(IsolatedProcessSpec.builder().command("/bin/not-executable").rootfs(rootfs).build()))
                    .isInstanceOf(LaunchException.class);
            case 8 -> assertThatThrownBy(() -> quick(inBusybox("true").workingDirectory("/nowhere").build())).isInstanceOf(LaunchException.class);
            case 9 -> assertThatThrownBy(() -> quick(inBusybox("true").addMounts(Mount.bind(Path.of("/no/such/dir"), "/tmp")).build()))
                    .isInstanceOf(LaunchException.class);
            case 10 -> assertThatThrownBy(() -> quick(IsolatedProcessSpec.builder().command("/bin/true").rootfs(Path.of("/no/such/root")).build()))
                    .isInstanceOf(LaunchException.class);
            case 11 -> {
                try (IsolatedProcess p = Isolation.launcher().launch(inBusybox("exec sleep 1000").stdin(discard).stdout(discard).stderr(discard).build())) {
                    p.kill(i % 40 == 11 ? Signal.KILL : Signal.TERM); // PID 1 without a TERM handler: TERM is ignored, close kills
                }
            }
            case 12 -> {
                try (IsolatedProcess p = Isolation.launcher().launch(inBusybox("setsid sh -c 'sleep 1000 &'; exec sleep 1000")
                        .stdin(discard).stdout(discard).stderr(discard).build())) {
                    p.destroy();
                    assertThat(p.waitFor(Duration.ofSeconds(30))).contains(ExitStatus.killed(9, false));
                }
            }
            case 13 -> {
                try (IsolatedProcess p = Isolation.launcher().launch(inBusybox("exec sleep 1000").timeout(Duration.ofMillis(5))
                        .stdin(discard).stdout(discard).stderr(discard).build())) {
                    assertThat(p.waitFor(Duration.ofSeconds(30)).orElseThrow().timedOut()).isTrue();
                }
            }
            case 14, 15 -> {
                try (IsolatedProcess j = box.join(JoinSpec.builder().command("/bin/sh", "-c", "exit 3").stdin(discard).stdout(discard)
                        .stderr(discard).build())) {
                    assertThat(j.waitFor(Duration.ofSeconds(30))).contains(ExitStatus.exited(3));
                }
            }
            case 16 -> assertThatThrownBy(() -> box.join(JoinSpec.builder().command("/bin/no-such").stdin(discard).stdout(discard)
                    .stderr(discard).build())).isInstanceOf(CommandNotFoundException.class);
            case 17 -> {
                try (IsolatedProcess j = box.join(JoinSpec.builder().command("/bin/sh", "-c", "sleep 1000 & exec sleep 1000")
                        .stdin(discard).stdout(discard).stderr(discard).build())) {
                    j.destroy();
                    assertThat(j.waitFor(Duration.ofSeconds(30))).contains(ExitStatus.killed(9, false));
                }
            }
            case 18 -> assertThat(quick(inBusybox("sleep 1000 & exit 4").namespaces(EnumSet.of(Namespace.USER, Namespace.MOUNT)).build()))
                    .isEqualTo(ExitStatus.exited(4));
            default -> {
                IsolatedProcessSpec.Builder spec = inBusybox("exit 2");
                if (cgroupLimits) {
                    spec.pidsLimit(32);
                }
                assertThat(quick(spec.build())).isEqualTo(ExitStatus.exited(2));
            }
        }
    }

    /** Launches with every stream discarded and waits for the end. */
    private static ExitStatus quick(IsolatedProcessSpec spec) throws Exception {
        IsolatedProcessSpec discarded = spec.toBuilder().stdin(Redirect.DISCARD).stdout(Redirect.DISCARD).stderr(Redirect.DISCARD).build();
        try (IsolatedProcess p = Isolation.launcher().launch(discarded)) {
            return p.waitFor(Duration.ofSeconds(60)).orElseThrow(() -> new AssertionError("still running: " + spec.command()));
        }
    }

    @Test
    void manyThreadsLaunchingAndKillingAtOnceLoseNoExitStatus() throws Exception {
        int threads = 16;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(pool.submit(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    for (int i = 0; i < 40; i++) {
                        int code = random.nextInt(100);
                        int action = random.nextInt(4);
                        IsolatedProcessSpec spec = inBusybox(action == 0 ? "exit " + code : "exec sleep 1000")
                                .stdin(Redirect.DISCARD).stdout(Redirect.DISCARD).stderr(Redirect.DISCARD).build();
                        try (IsolatedProcess p = Isolation.launcher().launch(spec)) {
                            ExitStatus expected = switch (action) {
                                case 0 -> ExitStatus.exited(code);
                                case 1 -> {
                                    p.kill(Signal.KILL);
                                    yield ExitStatus.killed(9, false);
                                }
                                case 2 -> {
                                    p.destroy();
                                    yield ExitStatus.killed(9, false);
                                }
                                default -> {
                                    // killed from another thread while this one waits
                                    CompletableFuture.runAsync(p::destroy);
                                    yield ExitStatus.killed(9, false);
                                }
                            };
                            assertThat(p.waitFor(Duration.ofSeconds(60))).as("action " + action).contains(expected);
                            assertThat(p.onExit().get(60, TimeUnit.SECONDS)).isEqualTo(expected);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> worker : workers) {
                worker.get(5, TimeUnit.MINUTES); // a deadlock shows as a timeout here
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(Host.remainingGrandchildren()).isEmpty();
    }
}
