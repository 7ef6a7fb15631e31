package dev.isolation.it.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unit tests of the harness's own logic; these run in Surefire, unlike the *IT classes. */
class HarnessTest {

    @Test
    void capabilityNamesFollowTheKernelNumbering() {
        assertThat(Capabilities.NAMES.get(21)).isEqualTo("SYS_ADMIN");
        assertThat(Capabilities.NAMES.get(24)).isEqualTo("SYS_RESOURCE");
        assertThat(Capabilities.NAMES.get(40)).isEqualTo("CHECKPOINT_RESTORE");
        long vmBounding = 0x1fffeffffffL; // everything up to CHECKPOINT_RESTORE but SYS_RESOURCE
        assertThat(Capabilities.names(vmBounding)).hasSize(40).doesNotContain("SYS_RESOURCE").contains("SYS_ADMIN", "BPF");
        assertThat(Capabilities.missing(vmBounding)).containsExactly("SYS_RESOURCE");
    }

    @Test
    void unknownCapabilitiesAreRecognisedInDaemonErrors() {
        assertThat(Privileges.unknownCapability("Status 500: {\"message\":\"invalid CapAdd: unknown capability: \\\"CAP_BPF\\\"\"}"))
                .isEqualTo("BPF");
        assertThat(Privileges.unknownCapability("invalid CapAdd: unknown capability: \"CAP_PERFMON\"")).isEqualTo("PERFMON");
        assertThat(Privileges.unknownCapability("unable to apply caps: operation not permitted")).isNull();
    }

    @Test
    void theUnmaskedHostConfigKeepsWhatWasConfigured() {
        var host = new com.github.dockerjava.api.model.HostConfig()
                .withBinds(com.github.dockerjava.api.model.Bind.parse("/a:/b:ro"))
                .withCgroupnsMode("host")
                .withSecurityOpts(List.of("seccomp=unconfined"));
        Privileges.UnmaskedHostConfig copy = Privileges.UnmaskedHostConfig.copyOf(host);
        assertThat(copy.getBinds()).containsExactly(host.getBinds());
        assertThat(copy.getCgroupnsMode()).isEqualTo("host");
        assertThat(copy.getSecurityOpts()).containsExactly("seccomp=unconfined");
        assertThat(copy.maskedPaths()).isEmpty();
        assertThat(copy.readonlyPaths()).isEmpty();
    }

    @Test
    void modesParseAndKeepTheirOrder() {
        assertThat(Mode.parseList("container-user, host-root")).containsExactly(Mode.HOST_ROOT, Mode.CONTAINER_USER);
        assertThat(Mode.parseList("")).containsExactly(Mode.values());
        assertThat(Mode.parseList("vm-cgroup2-user,vm-cgroup2,host-user")).containsExactly(Mode.HOST_USER, Mode.VM_CGROUP2, Mode.VM_CGROUP2_USER);
        assertThat(Mode.VM_CGROUP2.vm()).isTrue();
        assertThat(Mode.VM_CGROUP2_USER.root()).isFalse();
        assertThat(Mode.CONTAINER_ROOT.vm()).isFalse();
    }

    @Test
    void theVmLoadsModulesAfterTheirDependenciesAndSkipsBuiltInOnes() {
        String dep = """
                kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko
                kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
                kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
                kernel/drivers/virtio/virtio_pci_legacy_dev.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
                kernel/drivers/virtio/virtio_pci_modern_dev.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
                kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
                kernel/drivers/virtio/virtio_ring.ko:
                kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko
                kernel/fs/netfs/netfs.ko:
                kernel/net/9p/9pnet.ko:
                """;
        assertThat(VmImage.loadOrder(dep, "", VmImage.NEEDED_MODULES).stream().map(VmImage::moduleName).toList()).containsExactly(
                "virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci", "9pnet", "9pnet_virtio",
                "netfs", "fscache", "9p");
        // a kernel with virtio built in, and compressed modules
        String compressed = """
                kernel/fs/9p/9p.ko.xz: kernel/net/9p/9pnet.ko.xz
                kernel/net/9p/9pnet_virtio.ko.xz: kernel/net/9p/9pnet.ko.xz
                kernel/net/9p/9pnet.ko.xz:
                """;
        String builtin = "kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_ring.ko\nkernel/drivers/virtio/virtio_pci.ko\n";
        assertThat(VmImage.loadOrder(compressed, builtin, VmImage.NEEDED_MODULES))
                .containsExactly("kernel/net/9p/9pnet.ko.xz", "kernel/net/9p/9pnet_virtio.ko.xz", "kernel/fs/9p/9p.ko.xz");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> VmImage.loadOrder(compressed, "", VmImage.NEEDED_MODULES))
                .hasMessageContaining("virtio_pci");
    }

    @Test
    void kernelReleasesCompareNumberByNumber() {
        assertThat(VmImage.compareVersions("6.1.0-56-amd64", "6.1.0-9-amd64")).isPositive();
        assertThat(VmImage.compareVersions("6.12.1-amd64", "6.1.0-56-amd64")).isPositive();
        assertThat(VmImage.compareVersions("6.1.0-56-amd64", "6.1.0-56-amd64")).isZero();
    }

    @Test
    void theKernelIsTheNewestWithModules(@TempDir Path dir) throws Exception {
        Path boot = Files.createDirectories(dir.resolve("boot"));
        Path modules = Files.createDirectories(dir.resolve("lib/modules"));
        for (String release : List.of("6.1.0-9-amd64", "6.1.0-56-amd64", "6.12.0-1-amd64")) {
            Files.writeString(boot.resolve("vmlinuz-" + release), "kernel");
        }
        for (String release : List.of("6.1.0-9-amd64", "6.1.0-56-amd64")) {
            Files.createDirectories(modules.resolve(release));
            Files.writeString(modules.resolve(release).resolve("modules.dep"), "");
        }
        assertThat(VmImage.findKernel("", boot, modules).release()).isEqualTo("6.1.0-56-amd64");
        assertThat(VmImage.findKernel(boot.resolve("vmlinuz-6.1.0-9-amd64").toString(), boot, modules).release()).isEqualTo("6.1.0-9-amd64");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> VmImage.findKernel("", dir.resolve("none"), modules))
                .hasMessageContaining("linux-image-amd64");
    }

    @Test
    void theInitramfsIsANewcCpioArchive() {
        VmImage.Cpio cpio = new VmImage.Cpio();
        cpio.directory("bin", 0755);
        cpio.file("init", 0755, "#!/bin/sh\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        byte[] archive = cpio.finish();
        String text = new String(archive, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(archive.length % 4).isZero();
        assertThat(text).startsWith("070701").contains("bin\u0000\u0000\u0000070701", "init\0\0#!/bin/sh\n", "TRAILER!!!\0");
        // the header of "init": inode 2, mode 100755, size 10, name size 5
        int init = text.indexOf("070701", 6);
        assertThat(text.substring(init + 6, init + 6 + 8 * 2)).isEqualTo("00000002000081ed");
        assertThat(text.substring(init + 6 + 8 * 6, init + 6 + 8 * 7)).isEqualTo("0000000a");
        assertThat(text.substring(init + 6 + 8 * 11, init + 6 + 8 * 12)).isEqualTo("00000005");
    }

    @Test
    void theVmRunsTheListedTestsThatExistAndMatch(@TempDir Path dir) throws Exception {
        Path classes = Files.createDirectories(dir.resolve("dev/isolation/it/harness"));
        Files.writeString(dir.resolve("dev/isolation/it/ProcessIT.class"), "");
        Files.writeString(dir.resolve("dev/isolation/it/ProcessIT$Nested.class"), "");
        Files.writeString(dir.resolve("dev/isolation/it/NamespacesIT.class"), "");
        Files.writeString(classes.resolve("HarnessSelfCheckIT.class"), "");
        VmRunner.Selection all = VmRunner.select(List.of("ResourceLimitsIT", "NamespacesIT", "ProcessIT", "HarnessSelfCheckIT"), ".*IT", dir);
        assertThat(all.classes()).containsExactly("dev.isolation.it.NamespacesIT", "dev.isolation.it.ProcessIT",
                "dev.isolation.it.harness.HarnessSelfCheckIT");
        assertThat(all.missing()).containsExactly("ResourceLimitsIT");
        assertThat(java.util.regex.Pattern.matches(ModeMain.classPattern(all.regex()), "dev.isolation.it.ProcessIT$Nested")).isTrue();
        assertThat(java.util.regex.Pattern.matches(ModeMain.classPattern(all.regex()), "dev.isolation.it.FilesystemIT")).isFalse();
        VmRunner.Selection some = VmRunner.select(List.of("NamespacesIT", "ProcessIT"), ".*\\.ProcessIT", dir);
        assertThat(some.classes()).containsExactly("dev.isolation.it.ProcessIT");
        assertThat(some.filtered()).containsExactly("NamespacesIT");
        assertThat(VmRunner.select(List.of("NoSuchIT"), ".*IT", dir).isEmpty()).isTrue();
    }

    @Test
    void theJobScriptQuotesEverything() {
        String job = VmRunner.jobScript(Mode.VM_CGROUP2, Path.of("/tmp/out"), new java.util.LinkedHashMap<>(java.util.Map.of("A", "it's")),
                List.of("/usr/bin/java", "-Dx=a b"));
        assertThat(job).contains("cd '/tmp/out' || exit 125", "'A=it'\\''s'", "'-Dx=a b'").startsWith("#!/bin/sh\n");
    }

    @Test
    void busyboxMustBeStatic() throws Exception {
        Path busybox = Path.of("/bin/busybox");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(busybox), "no /bin/busybox here");
        assertThat(VmRunner.isDynamic(busybox)).as("/bin/busybox (busybox-static)").isFalse();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        assertThat(VmRunner.isDynamic(java)).as(java.toString()).isTrue();
    }

    @Test
    void theReportEndsWithTheTotalsAndFailsOnSkipsOnlyInCi() {
        ModeResult ok = new ModeResult(5, 0, 1, 1000, List.of(), List.of(new ModeResult.Entry("AIT > b()", "not here", "")));
        List<Outcome> outcomes = List.of(
                Outcome.ran(Mode.HOST_ROOT, ok, null, 1000),
                Outcome.unavailable(Mode.HOST_USER, "not root"),
                Outcome.error(Mode.CONTAINER_ROOT, null, "container failed", 10),
                Outcome.notSelected(Mode.CONTAINER_USER));
        Report local = new Report(outcomes.subList(0, 2), 6, false, "", 1);
        assertThat(local.exitCode()).isZero();
        assertThat(local.render()).endsWith("integration: 5 passed, 0 failed, 7 skipped\n").contains("SKIPPED  host-user (whole mode): not root");
        assertThat(new Report(outcomes.subList(0, 2), 6, true, "", 1).exitCode()).isEqualTo(1);
        Report broken = new Report(outcomes, 6, false, "", 1);
        assertThat(broken.exitCode()).isEqualTo(1);
        assertThat(broken.render()).endsWith("integration: 5 passed, 6 failed, 7 skipped\n").contains("BROKEN   container-root: container failed");
    }

    @Test
    void theVmModesCountTheirOwnSubsetAndSayWhereTheyRan() {
        ModeResult ok = new ModeResult(3, 0, 0, 1000, List.of(), List.of());
        java.util.Properties facts = new java.util.Properties();
        facts.setProperty("kernel", "6.1.0-56-amd64");
        facts.setProperty("cgroup.fs", "cgroup2");
        facts.setProperty("memory.peak", "yes");
        facts.setProperty("cgroup.kill", "yes");
        List<Outcome> outcomes = List.of(
                Outcome.ran(Mode.HOST_ROOT, new ModeResult(40, 0, 0, 1000, List.of(), List.of()), null, 1000),
                Outcome.ran(Mode.VM_CGROUP2, ok, VmRunner.note(facts), 90_000),
                Outcome.unavailable(Mode.VM_CGROUP2_USER, "the VM did not boot: no kernel"));
        Report report = new Report(outcomes, mode -> mode.vm() ? 3 : 40, false, "", 1);
        assertThat(report.render())
                .contains("in qemu VM: kernel 6.1.0-56-amd64, cgroup2, memory.peak yes, cgroup.kill yes")
                .contains("SKIPPED  vm-cgroup2-user (whole mode): the VM did not boot: no kernel")
                .endsWith("integration: 43 passed, 0 failed, 3 skipped\n");
    }

    @Test
    void resultsSurviveTheTripThroughTheFile(@TempDir Path dir) throws Exception {
        ModeResult result = new ModeResult(1, 1, 0, 42, List.of(new ModeResult.Entry("X > y()", "boom\nsecond line", "trace\n\tat z")), List.of());
        result.write(dir.resolve("r.properties"));
        assertThat(ModeResult.read(dir.resolve("r.properties"))).isEqualTo(result);
    }

    @Test
    void theRootfsMirrorsHostLinksAndKeepsSetuidBits(@TempDir Path dir) throws Exception {
        Path real = Files.createDirectories(dir.resolve("usr/bin"));
        Files.writeString(real.resolve("tool"), "#!/bin/sh\n");
        Files.setAttribute(real.resolve("tool"), "unix:mode", 04755);
        Files.createSymbolicLink(dir.resolve("bin"), Path.of("usr/bin"));
        RootfsTree tree = new RootfsTree();
        String resolved = tree.addHost(dir.resolve("bin/tool").toString());
        assertThat(resolved).isEqualTo(dir.resolve("usr/bin/tool").toString());
        assertThat(tree.resolveInImage(dir.resolve("bin").toString())).isEqualTo(real.toString());
        tree.file("/etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644);
        tree.dir("/tmp", 01777, 0, 0);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        tree.writeTar(bytes);
        String before = tree.digest("v");
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            TarArchiveEntry e;
            boolean sawLink = false;
            boolean sawSetuid = false;
            boolean sawTmp = false;
            while ((e = tar.getNextEntry()) != null) {
                String name = "/" + e.getName();
                if (name.equals(dir.resolve("bin").toString())) {
                    sawLink = e.isSymbolicLink() && e.getLinkName().equals("usr/bin");
                }
                if (name.equals(real.resolve("tool").toString())) {
                    sawSetuid = (e.getMode() & 07777) == 04755;
                }
                if (name.equals("/tmp/")) {
                    sawTmp = (e.getMode() & 07777) == 01777;
                }
            }
            assertThat(sawLink).as("bin -> usr/bin").isTrue();
            assertThat(sawSetuid).as("setuid kept").isTrue();
            assertThat(sawTmp).as("/tmp 1777").isTrue();
        }
        tree.file("/etc/group", "root:x:0:\n", 0644);
        assertThat(tree.digest("v")).isNotEqualTo(before);
        assertThat(RootfsTree.normalize("/a/../../b")).isEqualTo("/b");
    }

    @Test
    void aCrashedTestJvmIsDescribedByItsTestAndItsHotSpotErrorLog(@TempDir Path out) throws Exception {
        Files.writeString(out.resolve(ModeMain.CURRENT_TEST_FILE), "LifecycleIT > initReapsOrphans()\n");
        assertThat(JvmCrash.describe(out, 134)).isEqualTo("during LifecycleIT > initReapsOrphans(); signal 6 (SIGABRT); no HotSpot error log, "
                + "so an abort() outside the JVM's own checks (glibc, native code) or a SIGABRT from outside");
        // The parts of a real log (OpenJDK 17, Unsafe.putAddress(8, 1)) that the summary reads, with filler between them.
        Files.writeString(out.resolve("hs_err_pid504.log"), String.join("\n",
                "#", "# A fatal error has been detected by the Java Runtime Environment:", "#",
                "#  SIGSEGV (0xb) at pc=0x00007f0c83ed2f94, pid=504, tid=505", "#",
                "# JRE version: OpenJDK Runtime Environment (17.0.15+6)", "# Problematic frame:",
                "# V  [libjvm.so+0xed2f94]  Unsafe_PutLong+0x124", "#", "---------------  T H R E A D  ---------------", "",
                "Current thread (0x00007f0c7c0180c0):  JavaThread \"main\" [_thread_in_vm, id=505]", "",
                "Native frames: (J=compiled Java code, j=interpreted, Vv=VM code, C=native code)",
                "V  [libjvm.so+0xed2f94]  Unsafe_PutLong+0x124",
                "j  jdk.internal.misc.Unsafe.putLong(Ljava/lang/Object;JJ)V+0 java.base", "", "Java frames: (J=compiled Java code)",
                "j  Crash.main([Ljava/lang/String;)V+0", "",
                "siginfo: si_signo: 11 (SIGSEGV), si_code: 1 (SEGV_MAPERR), si_addr: 0x0000000000000008", "",
                "Registers:", "RAX=0x0000000000000001, RBX=0x00007f0c7c0180c0, RCX=0x0000000000000008, RDX=0x0000000000000001",
                "RSP=0x00007f0c8290e7e0, RBP=0x00007f0c8290e830, RSI=0x0000000000000008, RDI=0x00007f0c7c0180c0", "",
                "Register to memory mapping:", "", "RSP=0x00007f0c8290e7e0 is pointing into the stack for thread: 0x00007f0c7c0180c0", ""));
        assertThat(JvmCrash.describe(out, 134)).isEqualTo("during LifecycleIT > initReapsOrphans(); signal 6 (SIGABRT); HotSpot error log: "
                + "SIGSEGV (0xb) at pc=0x00007f0c83ed2f94, pid=504, tid=505 | frame V  [libjvm.so+0xed2f94]  Unsafe_PutLong+0x124"
                + " | Current thread (0x00007f0c7c0180c0):  JavaThread \"main\" [_thread_in_vm, id=505]"
                + " | V  [libjvm.so+0xed2f94]  Unsafe_PutLong+0x124 | j  jdk.internal.misc.Unsafe.putLong(Ljava/lang/Object;JJ)V+0 java.base"
                + " | siginfo: si_signo: 11 (SIGSEGV), si_code: 1 (SEGV_MAPERR), si_addr: 0x0000000000000008 | RSP=0x00007f0c8290e7e0");
        Outcome crashed = ModeRunner.collect(Mode.HOST_ROOT, out, 134, null, 1);
        assertThat(crashed.note()).startsWith("the test JVM exited with code 134 before reporting results (its output is above): during LifecycleIT");
        assertThat(crashed.crash()).startsWith("during LifecycleIT > initReapsOrphans(); signal 6 (SIGABRT); HotSpot error log: SIGSEGV");
        // a JVM that exits by itself before reporting (System.exit, a failed start) is broken, not crashed: no rerun
        assertThat(ModeRunner.collect(Mode.HOST_ROOT, out, 3, null, 1).crash()).isNull();
    }

    @Test
    void aRerunAfterACrashShowsBothAttemptsAndCountsOnlyTheRerun() {
        ModeResult ok = new ModeResult(5, 0, 0, 1000, List.of(), List.of());
        Outcome first = Outcome.crashed(Mode.HOST_ROOT, "the test JVM exited with code 134 before reporting results", "signal 6 (SIGABRT)", 300);
        Report rerunPassed = new Report(List.of(Outcome.ran(Mode.HOST_ROOT, ok, null, 1000).after(first)), 5, true, "", 1);
        assertThat(rerunPassed.exitCode()).isZero();
        assertThat(rerunPassed.render())
                .contains("CRASHED  host-root (first attempt; the mode ran again): the test JVM exited with code 134 before reporting results")
                .contains("1.3s  on host; RERUN after the test JVM crashed (see CRASHED above)")
                .endsWith("integration: 5 passed, 0 failed, 0 skipped\n");
        Outcome second = Outcome.crashed(Mode.HOST_ROOT, "the test JVM exited with code 139 before reporting results", "signal 11 (SIGSEGV)", 200);
        Report rerunCrashed = new Report(List.of(second.after(first)), 5, true, "", 1);
        assertThat(rerunCrashed.exitCode()).isEqualTo(1);
        assertThat(rerunCrashed.render()).contains("CRASHED  host-root").contains("BROKEN   host-root: the test JVM exited with code 139");
    }
}
