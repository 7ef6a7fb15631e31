package dev.isolation.linux.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.UnsupportedHostException;
import dev.isolation.linux.internal.CgroupLayout.EnableControllers;
import dev.isolation.linux.internal.CgroupLayout.MakeDirectory;
import dev.isolation.linux.internal.CgroupLayout.MoveProcesses;
import dev.isolation.linux.internal.CgroupLayout.Needs;
import dev.isolation.linux.internal.CgroupLayout.Parent;
import dev.isolation.linux.internal.CgroupLayout.Plan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The choice of the library's cgroup parents, on fake cgroup trees (files in a temporary directory). */
class CgroupLayoutTest {
    private static final long JVM = 1000;
    private static final long HELPER = 1001;
    /** A descendant of the helper: one of its spares or closing processes, or a sandbox without limits. */
    private static final long HELPER_DESCENDANT = 1002;
    private static final Needs ALL = new Needs(true, true, true);
    private static final Needs MEMORY = new Needs(true, false, false);

    @TempDir
    Path tmp;

    private String v1Mount(String name, String root, String controllers) {
        return "30 25 0:28 " + root + " " + tmp.resolve(name) + " rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,"
                + controllers + "\n";
    }

    private String v2Mount(String root, String options) {
        return "26 25 0:24 " + root + " " + tmp.resolve("unified") + " " + options + " shared:10 - cgroup2 cgroup2 rw,nsdelegate\n";
    }

    private Path dir(String relative, String... files) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(relative));
        for (int i = 0; i + 1 < files.length; i += 2) {
            Files.writeString(dir.resolve(files[i]), files[i + 1]);
        }
        return dir;
    }

    private static CgroupLayout.Host host(String mountinfo, String cgroup, boolean root, Predicate<Path> writable) {
        return new CgroupLayout.Host(mountinfo, cgroup, root, root ? 0 : 1000, JVM, HELPER, writable, pid -> pid == HELPER_DESCENDANT);
    }

    private static Predicate<Path> writableUnder(Path dir) {
        return path -> path.startsWith(dir);
    }

    // ---- cgroup v1 ----

    private String hybridMountinfo() {
        return v2Mount("/", "rw") + v1Mount("memory", "/", "memory") + v1Mount("pids", "/", "pids")
                + v1Mount("cpu", "/", "cpu") + v1Mount("cpuacct", "/", "cpuacct") + v1Mount("freezer", "/", "freezer");
    }

    private static final String HYBRID_CGROUP = "8:pids:/\n6:freezer:/\n4:memory:/process_api/abc\n2:cpuacct:/\n1:cpu:/\n0::/\n";

    @Test
    void v1RootUsesEachHierarchysTopAndLeavesTheOwnCgroupAlone() {
        Plan plan = CgroupLayout.plan(host(hybridMountinfo(), HYBRID_CGROUP, true, p -> true), ALL);
        assertThat(plan.version()).isEqualTo(CgroupLayout.Version.V1);
        assertThat(plan.parents()).containsExactly(
                new Parent(tmp.resolve("memory/isolation").toString(), CgroupLayout.MEMORY),
                new Parent(tmp.resolve("pids/isolation").toString(), CgroupLayout.PIDS),
                new Parent(tmp.resolve("cpu/isolation").toString(), CgroupLayout.CPU),
                new Parent(tmp.resolve("cpuacct/isolation").toString(), CgroupLayout.CPUACCT),
                new Parent(tmp.resolve("freezer/isolation").toString(), CgroupLayout.FREEZER));
        assertThat(plan.actions()).allMatch(a -> a instanceof MakeDirectory).hasSize(5);
    }

    @Test
    void v1OnlyTheHierarchiesALaunchNeedsPlusTheFigures() {
        Plan plan = CgroupLayout.plan(host(hybridMountinfo(), HYBRID_CGROUP, true, p -> true), MEMORY);
        assertThat(plan.parents()).extracting(Parent::roles)
                .containsExactly(CgroupLayout.MEMORY, CgroupLayout.CPUACCT, CgroupLayout.FREEZER);
    }

    @Test
    void v1CoMountedCpuAndCpuacctShareOneParent() {
        String mountinfo = v1Mount("memory", "/", "memory") + v1Mount("cpu,cpuacct", "/", "cpu,cpuacct");
        Plan plan = CgroupLayout.plan(host(mountinfo, "3:cpu,cpuacct:/\n2:memory:/\n0::/\n", true, p -> true),
                new Needs(false, false, true));
        assertThat(plan.parents()).containsExactly(
                new Parent(tmp.resolve("memory/isolation").toString(), CgroupLayout.MEMORY),
                new Parent(tmp.resolve("cpu,cpuacct/isolation").toString(), CgroupLayout.CPU | CgroupLayout.CPUACCT));
    }

    @Test
    void v1InAContainerTheMountShowsTheContainersCgroup() {
        String mountinfo = v1Mount("memory", "/docker/abc", "memory");
        Plan plan = CgroupLayout.plan(host(mountinfo, "4:memory:/docker/abc\n0::/\n", true, p -> true), MEMORY);
        assertThat(plan.parents()).containsExactly(new Parent(tmp.resolve("memory/isolation").toString(), CgroupLayout.MEMORY));
    }

    @Test
    void v1UnprivilegedIsRefusedUnlessItsOwnCgroupIsWritable() {
        assertThatThrownBy(() -> CgroupLayout.plan(host(hybridMountinfo(), HYBRID_CGROUP, false, p -> false), MEMORY))
                .isInstanceOfSatisfying(UnsupportedHostException.class, e -> {
                    assertThat(e.step()).isEqualTo("create cgroup");
                    assertThat(e.path()).hasValue(tmp.resolve("memory/process_api/abc").toString());
                    assertThat(e.errnoName()).hasValue("EACCES");
                    assertThat(e.remedy()).contains("cgroup v1").contains("Run as root");
                });

        Predicate<Path> delegated = writableUnder(tmp.resolve("memory/process_api/abc"));
        Plan plan = CgroupLayout.plan(host(hybridMountinfo(), HYBRID_CGROUP, false, delegated), MEMORY);
        // only the memory hierarchy is writable: the optional ones are left out
        assertThat(plan.parents()).containsExactly(
                new Parent(tmp.resolve("memory/process_api/abc/isolation").toString(), CgroupLayout.MEMORY));
    }

    @Test
    void v1ReadOnlyMountIsRefusedForRoot() {
        String mountinfo = "30 25 0:28 / " + tmp.resolve("memory") + " ro,nosuid - cgroup cgroup ro,memory\n";
        assertThatThrownBy(() -> CgroupLayout.plan(host(mountinfo, "4:memory:/\n", true, p -> true), MEMORY))
                .isInstanceOfSatisfying(UnsupportedHostException.class, e -> {
                    assertThat(e.errnoName()).hasValue("EROFS");
                    assertThat(e.remedy()).contains("read-only");
                });
    }

    @Test
    void v1MissingHierarchyForARequiredController() {
        String mountinfo = v1Mount("memory", "/", "memory");
        assertThatThrownBy(() -> CgroupLayout.plan(host(mountinfo, "4:memory:/\n0::/\n", true, p -> true), new Needs(false, true, false)))
                .isInstanceOf(UnsupportedHostException.class).hasMessageContaining("pids controller");
    }

    @Test
    void noCgroupFilesystemAtAll() {
        assertThatThrownBy(() -> CgroupLayout.plan(host("", "", true, p -> true), MEMORY))
                .isInstanceOf(UnsupportedHostException.class).hasMessageContaining("No cgroup filesystem");
    }

    // ---- cgroup v2 ----

    @Test
    void v2RootEnablesOnlyMissingControllersAtTheRootThenInItsParent() throws IOException {
        dir("unified", "cgroup.controllers", "cpuset cpu io memory pids\n", "cgroup.subtree_control", "memory pids\n",
                "cgroup.procs", "1\n55\n");
        Plan plan = CgroupLayout.plan(host(v2Mount("/", "rw"), "0::/init.scope\n", true, p -> true), ALL);
        String top = tmp.resolve("unified").toString();
        String parent = top + "/isolation";
        assertThat(plan.version()).isEqualTo(CgroupLayout.Version.V2);
        assertThat(plan.parents()).containsExactly(new Parent(parent, CgroupLayout.UNIFIED));
        assertThat(plan.actions()).containsExactly(new EnableControllers(top, Set.of("cpu")), new MakeDirectory(parent),
                new EnableControllers(parent, Set.of("memory", "pids", "cpu")));
    }

    @Test
    void v2RootWithEverythingInPlaceDoesNothingButMkdir() throws IOException {
        dir("unified", "cgroup.controllers", "cpu memory pids\n", "cgroup.subtree_control", "cpu memory pids\n");
        dir("unified/isolation", "cgroup.subtree_control", "memory pids cpu\n");
        Plan plan = CgroupLayout.plan(host(v2Mount("/", "rw"), "0::/\n", true, p -> true), ALL);
        assertThat(plan.actions()).containsExactly(new MakeDirectory(tmp.resolve("unified/isolation").toString()));
    }

    @Test
    void v2KernelWithoutAController() throws IOException {
        dir("unified", "cgroup.controllers", "memory pids\n", "cgroup.subtree_control", "");
        assertThatThrownBy(() -> CgroupLayout.plan(host(v2Mount("/", "rw"), "0::/\n", true, p -> true), ALL))
                .isInstanceOf(UnsupportedHostException.class).hasMessageContaining("no cpu controller");
    }

    @Test
    void v2DelegatedMovesOnlyTheJvmAndHelperIntoALeaf() throws IOException {
        String scope = "user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope";
        dir("unified", "cgroup.controllers", "cpu memory pids\n", "cgroup.subtree_control", "cpu memory pids\n");
        Path own = dir("unified/" + scope, "cgroup.controllers", "cpu memory pids\n", "cgroup.subtree_control", "",
                "cgroup.procs", JVM + "\n" + HELPER + "\n");
        Plan plan = CgroupLayout.plan(host(v2Mount("/", "rw"), "0::/" + scope + "\n", false, writableUnder(own)), ALL);
        String base = own.toString();
        assertThat(plan.parents()).containsExactly(new Parent(base + "/isolation", CgroupLayout.UNIFIED));
        assertThat(plan.actions()).containsExactly(
                new MakeDirectory(base + "/isolation-jvm"),
                new MoveProcesses(base, base + "/isolation-jvm", List.of(JVM, HELPER)),
                new EnableControllers(base, Set.of("memory", "pids", "cpu")),
                new MakeDirectory(base + "/isolation"),
                new EnableControllers(base + "/isolation", Set.of("memory", "pids", "cpu")));
    }

    @Test
    void v2DelegatedMovesTheHelpersChildrenAfterTheHelper() throws IOException {
        String scope = "app.slice/run-r1.scope";
        Path own = dir("unified/" + scope, "cgroup.controllers", "cpu memory pids\n", "cgroup.subtree_control", "",
                "cgroup.procs", HELPER_DESCENDANT + "\n" + JVM + "\n" + HELPER + "\n");
        Plan plan = CgroupLayout.plan(host(v2Mount("/", "rw"), "0::/" + scope + "\n", false, writableUnder(own)), MEMORY);
        String base = own.toString();
        assertThat(plan.actions()).contains(new MoveProcesses(base, base + "/isolation-jvm", List.of(JVM, HELPER, HELPER_DESCENDANT)));
    }

    @Test
    void aProcessDescendsFromItsParentsParentButNotTheOtherWayRound() throws Exception {
        // sh starts sleep as its child: the JVM -> sh -> sleep
        Process shell = new ProcessBuilder("/bin/sh", "-c", "sleep 30 & wait").start();
        try {
            ProcessHandle sleep = null;
            for (int i = 0; i < 200 && sleep == null; i++) {
                sleep = shell.toHandle().children().findFirst().orElse(null);
                if (sleep == null) {
                    Thread.sleep(10);
                }
            }
            assertThat(sleep).as("the shell's child").isNotNull();
            long jvm = ProcessHandle.current().pid();
            assertThat(CgroupLayout.Host.descends(sleep.pid(), jvm)).isTrue();
            assertThat(CgroupLayout.Host.descends(sleep.pid(), shell.pid())).isTrue();
            assertThat(CgroupLayout.Host.descends(shell.pid(), sleep.pid())).isFalse();
            assertThat(CgroupLayout.Host.descends(jvm, shell.pid())).isFalse();
            sleep.destroyForcibly();
        } finally {
            shell.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            shell.destroyForcibly().waitFor();
        }
    }

    @Test
    void v2DelegatedWithAnotherProcessIsRefusedAndNothingMoves() throws IOException {
        Path own = dir("unified/app.slice/run-r1.scope", "cgroup.controllers", "cpu memory pids\n",
                "cgroup.subtree_control", "", "cgroup.procs", JVM + "\n" + HELPER + "\n4242\n");
        assertThatThrownBy(() -> CgroupLayout.plan(host(v2Mount("/", "rw"), "0::/app.slice/run-r1.scope\n", false,
                writableUnder(own)), MEMORY))
                .isInstanceOfSatisfying(UnsupportedHostException.class, e -> {
                    assertThat(e.step()).isEqualTo("create cgroup");
                    assertThat(e.remedy()).contains("4242").contains("systemd-run --user --scope -p Delegate=yes");
                });
    }

    @Test
    void v2LaterHelpersOfTheSameJvmReuseTheParent() throws IOException {
        Path base = dir("unified/app.slice/run-r1.scope", "cgroup.controllers", "cpu memory pids\n",
                "cgroup.subtree_control", "memory\n");
        dir("unified/app.slice/run-r1.scope/isolation-jvm", "cgroup.procs", JVM + "\n");
        dir("unified/app.slice/run-r1.scope/isolation", "cgroup.subtree_control", "memory\n");
        Plan plan = CgroupLayout.plan(host(v2Mount("/", "rw"), "0::/app.slice/run-r1.scope/isolation-jvm\n", false,
                writableUnder(base)), new Needs(true, true, false));
        assertThat(plan.parents()).containsExactly(new Parent(base + "/isolation", CgroupLayout.UNIFIED));
        assertThat(plan.actions()).containsExactly(new EnableControllers(base.toString(), Set.of("pids")),
                new MakeDirectory(base + "/isolation"), new EnableControllers(base + "/isolation", Set.of("pids")));
    }

    @Test
    void v2NotDelegated() throws IOException {
        dir("unified/user.slice/session-2.scope", "cgroup.controllers", "", "cgroup.procs", JVM + "\n");
        assertThatThrownBy(() -> CgroupLayout.plan(host(v2Mount("/", "rw"), "0::/user.slice/session-2.scope\n", false, p -> false), MEMORY))
                .isInstanceOfSatisfying(UnsupportedHostException.class, e -> {
                    assertThat(e.errnoName()).hasValue("EACCES");
                    assertThat(e.remedy()).contains("not delegated").contains("systemd-run --user --scope -p Delegate=yes");
                });
    }

    @Test
    void v2DelegatedWithoutTheControllers() throws IOException {
        Path own = dir("unified/app.slice/run-r1.scope", "cgroup.controllers", "pids\n", "cgroup.procs", JVM + "\n");
        assertThatThrownBy(() -> CgroupLayout.plan(host(v2Mount("/", "rw"), "0::/app.slice/run-r1.scope\n", false, writableUnder(own)), ALL))
                .isInstanceOf(UnsupportedHostException.class).hasMessageContaining("does not offer the memory, cpu controller");
    }

    @Test
    void v2RootInAContainerWhoseRootHasOtherProcesses() throws IOException {
        // a cgroup namespace root that is not the real root (it has cgroup.type), with the container's init in it
        dir("unified", "cgroup.type", "domain\n", "cgroup.controllers", "cpu memory pids\n", "cgroup.subtree_control", "",
                "cgroup.procs", "1\n" + JVM + "\n" + HELPER + "\n");
        assertThatThrownBy(() -> CgroupLayout.plan(host(v2Mount("/", "rw"), "0::/\n", true, p -> true), MEMORY))
                .isInstanceOfSatisfying(UnsupportedHostException.class, e -> assertThat(e.remedy())
                        .contains("holds processes").contains("Nor can the JVM's own cgroup be used").contains("pids 1"));
    }

    @Test
    void v2RootInAContainerWhereTheJvmIsAlone() throws IOException {
        dir("unified", "cgroup.type", "domain\n", "cgroup.controllers", "cpu memory pids\n", "cgroup.subtree_control", "",
                "cgroup.procs", JVM + "\n" + HELPER + "\n");
        Plan plan = CgroupLayout.plan(host(v2Mount("/", "rw"), "0::/\n", true, p -> true), MEMORY);
        String base = tmp.resolve("unified").toString();
        assertThat(plan.actions()).startsWith(new MakeDirectory(base + "/isolation-jvm"),
                new MoveProcesses(base, base + "/isolation-jvm", List.of(JVM, HELPER)));
    }

    @Test
    void v2ReadOnlyMount() throws IOException {
        dir("unified", "cgroup.controllers", "memory\n");
        assertThatThrownBy(() -> CgroupLayout.plan(host(v2Mount("/", "ro,nosuid"), "0::/\n", true, p -> false), MEMORY))
                .isInstanceOf(UnsupportedHostException.class).hasMessageContaining("read-only");
    }

    // ---- execution on a fake tree, and leftovers ----

    @Test
    void executeCarriesOutTheActions() throws IOException {
        Path base = dir("tree", "cgroup.subtree_control", "", "cgroup.procs", "");
        Path leaf = base.resolve("leaf");
        CgroupLayout.execute(new Plan(CgroupLayout.Version.V2, List.of(), List.of(
                new MakeDirectory(leaf.toString()), new MakeDirectory(leaf.toString()), // existing is fine
                new EnableControllers(base.toString(), new java.util.LinkedHashSet<>(List.of("memory", "pids"))))));
        assertThat(leaf).isDirectory();
        assertThat(Files.readString(base.resolve("cgroup.subtree_control"))).isEqualTo("+memory +pids");
    }

    @Test
    void executeReportsTheStepPathAndErrno() {
        String missing = tmp.resolve("no/such").toString();
        assertThatThrownBy(() -> CgroupLayout.execute(new Plan(CgroupLayout.Version.V2, List.of(), List.of(new MakeDirectory(missing)))))
                .hasMessageStartingWith("create cgroup(" + missing + "): ENOENT");
    }

    @Test
    void leftoversOfDeadHelpersAreRemoved() throws IOException {
        long ns = 4026531836L;
        Path parent = dir("memory/isolation");
        Path dead = Files.createDirectories(parent.resolve("123-4-" + ns + "/nested"));
        Path deadYoung = Files.createDirectories(parent.resolve("124-1-" + ns));
        Path alive = Files.createDirectories(parent.resolve("555-2-" + ns));
        Path sameAsNewHelper = Files.createDirectories(parent.resolve("777-9-" + ns));
        Path samePidOtherNamespace = Files.createDirectories(parent.resolve("777-1-99"));
        Path otherNamespaceOld = Files.createDirectories(parent.resolve("555-3-99"));
        Path notOurs = Files.createDirectories(parent.resolve("something-else"));
        FileTime old = FileTime.from(Instant.now().minusSeconds(3600));
        for (Path p : List.of(dead, dead.getParent(), alive, notOurs, otherNamespaceOld)) {
            Files.setLastModifiedTime(p, old);
        }
        CgroupLayout.removeLeftovers(List.of(new Parent(parent.toString(), CgroupLayout.MEMORY)), 777, ns, pid -> pid == 555);
        assertThat(dead.getParent()).doesNotExist();
        assertThat(deadYoung).doesNotExist();
        assertThat(alive).exists();
        assertThat(sameAsNewHelper).doesNotExist();
        assertThat(samePidOtherNamespace).as("another namespace's helper with the same pid").exists();
        assertThat(otherNamespaceOld).doesNotExist();
        assertThat(notOurs).exists();
    }
}
