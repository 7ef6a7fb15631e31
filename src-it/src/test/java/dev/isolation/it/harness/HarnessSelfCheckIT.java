package dev.isolation.it.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks that a mode runs where it says it does: the user, container or host, what a privileged
 * container means, and that the test environment has what the integration tests rely on. Every check
 * applies to every mode (no assumptions: in CI a skip is a failure).
 */
class HarnessSelfCheckIT {
    private static Mode mode;

    @BeforeAll
    static void mode() {
        mode = Mode.current();
        assertThat(mode).as("ISOLATION_IT_MODE (run the integration tests with ./mvnw verify)").isNotNull();
    }

    @Test
    void runsAsTheModesUser() {
        int euid = ProcStatus.effectiveUid();
        if (mode.root()) {
            assertThat(euid).as("euid in " + mode).isZero();
        } else {
            assertThat(euid).as("euid in " + mode).isNotZero();
        }
        assertThat(Integer.toString(euid)).isEqualTo(System.getenv(Mode.ENV_EXPECTED_UID));
        assertThat(System.getProperty("user.name")).as("the user is in /etc/passwd").isNotBlank().isNotEqualTo("?");
    }

    @Test
    void runsInAContainerOrNotAsTheModeSays() throws IOException {
        assertThat(System.getenv(Mode.ENV_IN_VM)).isEqualTo(Boolean.toString(mode.vm()));
        String bootId = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
        if (mode.vm()) {
            // another kernel: the namespaces' numbers say nothing (initial namespaces have fixed ones), the boot id does
            assertThat(bootId).as("boot id in the VM vs the runner's").isNotEqualTo(System.getenv(Mode.ENV_RUNNER_BOOT_ID));
            assertThat(System.getenv(Mode.ENV_IN_CONTAINER)).isEqualTo("false");
            return;
        }
        assertThat(bootId).as("boot id vs the runner's (the same kernel)").isEqualTo(System.getenv(Mode.ENV_RUNNER_BOOT_ID));
        // the runner's mount, pid and uts namespaces: shared on the host, all different in a container
        String runner = System.getenv(Mode.ENV_RUNNER_NAMESPACES);
        assertThat(runner).as(Mode.ENV_RUNNER_NAMESPACES).isNotBlank();
        String mine = TestJvm.namespaces();
        List<String> runnerNs = List.of(runner.split(" "));
        List<String> myNs = List.of(mine.split(" "));
        assertThat(myNs).hasSize(3).noneMatch(ns -> ns.endsWith(":?"));
        for (int i = 0; i < 3; i++) {
            if (mode.container()) {
                assertThat(myNs.get(i)).as("namespace in " + mode + " vs the runner's").isNotEqualTo(runnerNs.get(i));
            } else {
                assertThat(myNs.get(i)).as("namespace in " + mode + " vs the runner's").isEqualTo(runnerNs.get(i));
            }
        }
        assertThat(System.getenv(Mode.ENV_IN_CONTAINER)).isEqualTo(Boolean.toString(mode.container()));
    }

    @Test
    void rootHoldsEveryCapabilityOfTheBoundingSetAndTheUserNone() {
        long effective = ProcStatus.capabilities("CapEff");
        long bounding = ProcStatus.capabilities("CapBnd");
        if (mode.root()) {
            assertThat(Long.toHexString(effective)).as("CapEff of root in " + mode).isEqualTo(Long.toHexString(bounding));
            assertThat(Capabilities.has(effective, Capabilities.SYS_ADMIN)).as("CAP_SYS_ADMIN").isTrue();
        } else {
            assertThat(effective).as("CapEff of the user in " + mode).isZero();
        }
        if (mode.container()) {
            // privileged, or the fallback: everything the host has (the runner passes it on as the container's bounding set)
            assertThat(Capabilities.missing(bounding)).as("capabilities missing from the container's bounding set")
                    .doesNotContain("SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "MKNOD", "SETUID", "SETGID", "SYS_CHROOT", "DAC_OVERRIDE");
        }
    }

    @Test
    void procIsNotMaskedAndCgroupsAreWritableInContainers() throws IOException {
        List<String> mountinfo = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        if (mode.container()) {
            // Docker masks /proc/kcore, /proc/sys, ... with bind mounts unless privileged or systempaths=unconfined
            assertThat(mountinfo.stream().map(HarnessSelfCheckIT::mountPoint).filter(p -> p.startsWith("/proc/")))
                    .as("mounts over /proc entries").isEmpty();
            List<String> cgroupOptions = mountinfo.stream()
                    .filter(line -> mountPoint(line).startsWith("/sys/fs/cgroup"))
                    .map(line -> line.split(" ")[5])
                    .toList();
            assertThat(cgroupOptions).as("cgroup mounts").isNotEmpty().allMatch(options -> options.startsWith("rw"));
        }
        assertThat(Files.readString(Path.of("/proc/self/status"))).contains("Uid:", "CapBnd:");
    }

    @Test
    void theEnvironmentHasWhatTheTestsNeed() throws IOException {
        Path busybox = Path.of("/bin/busybox");
        assertThat(Files.isExecutable(busybox)).as("/bin/busybox").isTrue();
        assertThat(Files.isExecutable(Path.of("/bin/sh"))).as("/bin/sh").isTrue();
        Path tmp = Files.createTempFile("self-check-", ".tmp");
        Files.delete(tmp);
        // the freshly built isolation-linux jar, with the native helper for this machine, is on the classpath
        String arch = switch (System.getProperty("os.arch").toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> System.getProperty("os.arch");
        };
        String helper = "dev/isolation/linux/internal/native/" + arch + "/isolation-helper";
        try (InputStream in = HarnessSelfCheckIT.class.getClassLoader().getResourceAsStream(helper)) {
            assertThat(in).as(helper + " on the classpath").isNotNull();
            assertThat(in.readNBytes(4)).as("ELF magic").containsExactly(0x7f, 'E', 'L', 'F');
        }
    }

    @Test
    void theUserHasSubordinateIdsWhereNewuidmapExists() throws IOException {
        if (mode.root() || !Files.isExecutable(Path.of("/usr/bin/newuidmap"))) {
            return;
        }
        String user = System.getProperty("user.name");
        if (!mode.container() && !user.equals(HostRunner.USER)) {
            return; // a developer's own account, not one the runner set up
        }
        for (String file : List.of("/etc/subuid", "/etc/subgid")) {
            assertThat(Files.readAllLines(Path.of(file))).as(file).anyMatch(line -> line.startsWith(user + ":"));
        }
        if (mode.container()) {
            assertThat(Files.getAttribute(Path.of("/usr/bin/newuidmap"), "unix:mode")).as("newuidmap is setuid")
                    .matches(m -> ((Integer) m & 04000) != 0);
        }
    }

    @Test
    void theVmHasOnlyCgroupV2AndTheCgroupTheModeSays() throws IOException {
        if (!mode.vm()) {
            return; // elsewhere the host decides; ResourceLimitsIT covers what the library does there
        }
        List<String> mountinfo = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        List<String> cgroupMounts = mountinfo.stream().filter(line -> line.contains(" - cgroup")).toList();
        assertThat(cgroupMounts).as("cgroup mounts in the VM").hasSize(1);
        assertThat(mountPoint(cgroupMounts.get(0))).isEqualTo("/sys/fs/cgroup");
        assertThat(cgroupMounts.get(0)).contains(" - cgroup2 ");
        List<String> membership = Files.readAllLines(Path.of("/proc/self/cgroup"));
        String expected = System.getenv(Mode.ENV_VM_CGROUP);
        assertThat(membership).as("/proc/self/cgroup: one cgroup v2 line").hasSize(1);
        // the library may have moved the JVM into a leaf below it (delegated cgroup v2)
        assertThat(membership.get(0)).as("/proc/self/cgroup").matches("0::" + java.util.regex.Pattern.quote(expected) + "(/.*)?");
        Path own = Path.of("/sys/fs/cgroup" + expected);
        assertThat(own.resolve("cgroup.kill")).as("cgroup.kill (Linux 5.14)").exists();
        if (!mode.root()) {
            // delegated as systemd's Delegate=yes would: the user may create cgroups and move its processes
            for (String file : List.of("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads")) {
                assertThat(Files.isWritable(file.isEmpty() ? own : own.resolve(file))).as("writable by the user: " + own.resolve(file)).isTrue();
            }
            assertThat(Files.readString(own.resolve("cgroup.controllers")).trim().split(" ")).as(own + "/cgroup.controllers")
                    .contains("memory", "pids", "cpu");
            assertThat(own.resolve("memory.peak")).as("memory.peak (Linux 5.19)").exists();
        }
    }

    private static String mountPoint(String mountinfoLine) {
        return mountinfoLine.split(" ")[4];
    }
}
