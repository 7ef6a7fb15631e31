package dev.isolation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.IdMapping;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.LaunchException;
import dev.isolation.Mount;
import dev.isolation.it.support.BusyboxRootfs;
import dev.isolation.it.support.Host;
import dev.isolation.it.support.MountAttrProbe;
import dev.isolation.it.support.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The root filesystem entered with pivot_root, the host-root default, and extra mounts. */
class FilesystemIT {
    private Path rootfs;
    private Path hostDir;

    @BeforeEach
    void setUp() throws IOException {
        rootfs = BusyboxRootfs.create();
        hostDir = Files.createTempDirectory("isolation-it-host-");
        Files.setPosixFilePermissions(hostDir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.writeString(hostDir.resolve("from-host"), "hello from the host\n");
    }

    @AfterEach
    void tearDown() {
        BusyboxRootfs.delete(rootfs);
        BusyboxRootfs.delete(hostDir);
    }

    private IsolatedProcessSpec.Builder inBusybox(String script) {
        return IsolatedProcessSpec.builder().command("/bin/sh", "-c", script).rootfs(rootfs);
    }

    @Test
    void busyboxRootIsEnteredAndTheHostsFilesAreInvisible() {
        Run run = Run.of(inBusybox("ls /; cat /etc/marker; ls /etc; test -e /usr && echo host-usr-visible; "
                + "cat /proc/self/mountinfo | wc -l; cat /proc/1/mountinfo").build());
        assertThat(run.status().succeeded()).as(run.toString()).isTrue();
        List<String> lines = List.of(run.stdout().split("\n"));
        assertThat(lines.subList(0, 6)).containsExactly("bin", "dev", "etc", "proc", "sys", "tmp");
        assertThat(run.stdout()).contains("busybox-rootfs").doesNotContain("host-usr-visible");
        // root, /proc, /dev and its nodes, /dev/pts, /dev/shm: nothing of the host's mount table
        int mountCount = Integer.parseInt(lines.get(8).trim());
        assertThat(mountCount).isLessThan(14);
        assertThat(run.stdout()).doesNotContain(" /oldroot").doesNotContain(" /newroot");
    }

    @Test
    void rootIsReadOnlyUnlessAskedWritable() throws IOException {
        Run readOnly = Run.of(inBusybox("touch /etc/new 2>&1; echo status=$?").build());
        assertThat(readOnly.stdout()).contains("Read-only file system").contains("status=1");
        assertThat(rootfs.resolve("etc/new")).doesNotExist();

        Run writable = Run.of(inBusybox("echo written > /etc/new && echo ok").writableRoot(true).build());
        assertThat(writable.stdout()).as(writable.toString()).isEqualTo("ok\n");
        assertThat(Files.readString(rootfs.resolve("etc/new"))).isEqualTo("written\n");
    }

    @Test
    void rootInsideCannotMakeTheRootOrAReadOnlyBindWritable() throws IOException {
        // root inside holds every capability of the sandbox's user namespace, in which its mounts were made
        Run run = Run.of(asRootInside(inBusybox("mount -o remount,rw,bind /tmp 2>/dev/null || echo bind-refused; "
                + "mount -o remount,rw,bind / 2>/dev/null || echo root-refused; mount -o remount,rw / 2>/dev/null || echo root-fs-refused; "
                + "mount --bind /tmp /sys && { mount -o remount,rw,bind /sys 2>/dev/null || echo second-bind-refused; }; "
                + "echo changed > /tmp/from-host; echo changed > /sys/from-host; touch /new; true"))
                .addMounts(Mount.bindReadOnly(hostDir, "/tmp")).build());
        assertThat(run.status().succeeded()).as(run.toString()).isTrue();
        assertThat(run.stdout()).as(run.toString()).isEqualTo("bind-refused\nroot-refused\nroot-fs-refused\nsecond-bind-refused\n");
        assertThat(Files.readString(hostDir.resolve("from-host"))).isEqualTo("hello from the host\n");
        assertThat(rootfs.resolve("new")).doesNotExist();
    }

    @Test
    void rootInsideCanStillMountAndMakeMountsReadOnly() {
        Run run = Run.of(asRootInside(inBusybox("mount -t tmpfs none /tmp && echo mounted; mount -o remount,ro,bind /tmp && echo made-read-only; "
                + "touch /tmp/x 2>/dev/null || echo now-read-only; mount -t proc proc /proc && echo proc-mounted")).build());
        assertThat(run.stdout()).as(run.toString()).isEqualTo("mounted\nmade-read-only\nnow-read-only\nproc-mounted\n");
    }

    @Test
    void rootInsideIsToldTheMountApiThatCouldClearReadOnlyIsAbsent() {
        // mount_setattr and open_tree_attr take their flags in a struct the filter cannot read: they are refused
        // as absent (ENOSYS), so that mount(8) falls back to mount(2), whose flags the filter checks
        String classpath = System.getProperty("java.class.path");
        List<Mount> classpathBinds = Stream.of(classpath.split(java.io.File.pathSeparator)).map(Path::of)
                .filter(Files::exists).map(p -> Mount.bindReadOnly(p, p.toAbsolutePath().toString())).toList();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        IsolatedProcessSpec.Builder spec = asRootInside(IsolatedProcessSpec.builder()
                .command(java, "-cp", classpath, MountAttrProbe.class.getName(), "/ro"))
                .addMounts(Mount.bindReadOnly(hostDir, "/ro")).addAllMounts(classpathBinds);
        Run run = Run.of(spec.build());
        assertThat(run.status().succeeded()).as(run.toString()).isTrue();
        assertThat(run.stdout()).as(run.toString()).isEqualTo("mount_setattr errno 38\nopen_tree_attr errno 38\n");
    }

    private static IsolatedProcessSpec.Builder asRootInside(IsolatedProcessSpec.Builder spec) {
        return spec.addUidMappings(IdMapping.single(0, Host.uid())).addGidMappings(IdMapping.single(0, Host.gid()));
    }

    @Test
    void devHoldsAMinimalSetOfNodes() {
        Run run = Run.of(inBusybox("ls /dev; echo x > /dev/null && echo null-ok; head -c 4 /dev/zero | wc -c").build());
        assertThat(run.status().succeeded()).as(run.toString()).isTrue();
        assertThat(run.stdout()).contains("null\n", "zero\n", "full\n", "random\n", "urandom\n", "tty\n", "pts\n", "shm\n", "ptmx\n")
                .contains("null-ok\n").contains("4\n").doesNotContain("sda").doesNotContain("kmsg");
    }

    @Test
    void bindMountsAndTmpfsAreAppliedInOrder() throws IOException {
        Run run = Run.of(inBusybox("cat /data/from-host; touch /data/x 2>/dev/null || echo data-read-only; "
                + "echo out > /out/result; echo scratch > /scratch/f && cat /scratch/f")
                .addMounts(Mount.bindReadOnly(hostDir, "/data"), Mount.bind(hostDir, "/out"), Mount.tmpfs("/scratch", 1 << 20))
                .writableRoot(true).build());
        assertThat(run.status().succeeded()).as(run.toString()).isTrue();
        assertThat(run.stdout()).isEqualTo("hello from the host\ndata-read-only\nscratch\n");
        assertThat(Files.readString(hostDir.resolve("result"))).isEqualTo("out\n");
        assertThat(hostDir.resolve("x")).doesNotExist();
    }

    @Test
    void withoutARootfsTheHostRootIsReadOnlyWithAPrivateTmp() throws IOException {
        Path marker = Files.createTempFile("isolation-it-host-tmp-", ".marker");
        try {
            Run run = Run.of(IsolatedProcessSpec.builder().command("/bin/sh", "-c",
                    "ls -A /tmp | wc -l; echo hi > /tmp/mine && cat /tmp/mine; touch /usr/x 2>/dev/null || echo usr-read-only; "
                            + "test -x /bin/sh && echo host-root; ls /dev | wc -l").build());
            assertThat(run.status().succeeded()).as(run.toString()).isTrue();
            List<String> lines = List.of(run.stdout().split("\n"));
            assertThat(lines.get(0).trim()).isEqualTo("0");
            assertThat(lines.subList(1, 4)).containsExactly("hi", "usr-read-only", "host-root");
            assertThat(Integer.parseInt(lines.get(4).trim())).isLessThan(20);
            assertThat(Path.of("/tmp/mine")).doesNotExist();
        } finally {
            Files.deleteIfExists(marker);
        }
    }

    @Test
    void inTheHostRootNewTopLevelMountPointsLeaveNoTraceOnTheHost() throws IOException {
        String name = "/isolation-it-" + ProcessHandle.current().pid();
        Run run = Run.of(IsolatedProcessSpec.builder().command("/bin/sh", "-c", "cat " + name + "/from-host; echo made > " + name + "/made")
                .addMounts(Mount.bind(hostDir, name)).build());
        assertThat(run.status().succeeded()).as(run.toString()).isTrue();
        assertThat(run.stdout()).isEqualTo("hello from the host\n");
        assertThat(Files.readString(hostDir.resolve("made"))).isEqualTo("made\n");
        assertThat(Path.of(name)).doesNotExist();
    }

    @Test
    void inTheHostRootMountPointsInsideHostDirectoriesAreRefused() {
        assertThatThrownBy(() -> Run.of(IsolatedProcessSpec.builder().command("/bin/true")
                .addMounts(Mount.tmpfs("/usr/isolation-it-new")).build()))
                .isInstanceOfSatisfying(LaunchException.class, e -> {
                    assertThat(e.step()).isEqualTo("create mount point");
                    assertThat(e.errnoName()).contains("EROFS");
                });
        assertThat(Path.of("/usr/isolation-it-new")).doesNotExist();
    }

    @Test
    void anAbsoluteSymlinkInTheRootfsCannotPutMountPointsOnTheHost() throws IOException {
        // an untrusted rootfs pointing a mount point's parent at a host directory
        Files.createSymbolicLink(rootfs.resolve("escape"), hostDir);
        assertThatThrownBy(() -> Run.of(inBusybox("true").writableRoot(true)
                .addMounts(Mount.tmpfs("/escape/made-by-sandbox")).build()))
                .isInstanceOfSatisfying(LaunchException.class, e -> {
                    assertThat(e.step()).isEqualTo("create mount point");
                    assertThat(e.errnoName()).contains("ENOENT");
                });
        assertThat(hostDir.resolve("made-by-sandbox")).doesNotExist();
    }

    @Test
    void workingDirectoryAndEnvironmentAreAsGiven() {
        Run run = Run.of(inBusybox("pwd; env | sort").workingDirectory("/etc").putEnvironment("GREETING", "hi").build());
        assertThat(run.status().succeeded()).as(run.toString()).isTrue();
        assertThat(run.stdout()).startsWith("/etc\n").contains("GREETING=hi\n").contains("PATH=" + IsolatedProcessSpec.DEFAULT_PATH)
                .doesNotContain("HOME=").doesNotContain("JAVA_HOME");
    }

    // ---- roots built ahead -----------------------------------------------------------------
    // After a launch, the helper builds the root of the next launch of the same spec ahead of
    // time. A launch must still see the host as it is when the launch starts. Each test below
    // launches once, changes the host, gives the next root time to be built, and launches again.

    private static final long ROOT_BUILT_AHEAD_MILLIS = 300;

    @Test
    void aRootfsReplacedSinceTheLastLaunchIsTheOneEntered() throws Exception {
        IsolatedProcessSpec spec = inBusybox("cat /etc/marker").build();
        assertThat(Run.of(spec).stdout()).isEqualTo("busybox-rootfs\n");
        Thread.sleep(ROOT_BUILT_AHEAD_MILLIS);

        Path replaced = rootfs.resolveSibling(rootfs.getFileName() + "-replaced");
        Path fresh = BusyboxRootfs.create();
        try {
            Files.move(rootfs, replaced);
            Files.move(fresh, rootfs);
            Files.writeString(rootfs.resolve("etc/marker"), "the new rootfs\n");
            Run second = Run.of(spec);
            assertThat(second.stdout()).as(second.toString()).isEqualTo("the new rootfs\n");
        } finally {
            BusyboxRootfs.delete(replaced);
            if (Files.exists(fresh)) {
                BusyboxRootfs.delete(fresh);
            }
        }
    }

    @Test
    void aBindSourceReplacedSinceTheLastLaunchIsTheOneMounted() throws Exception {
        Files.createDirectory(rootfs.resolve("data"));
        IsolatedProcessSpec spec = inBusybox("cat /data/from-host").addMounts(Mount.bindReadOnly(hostDir, "/data")).build();
        assertThat(Run.of(spec).stdout()).isEqualTo("hello from the host\n");
        Thread.sleep(ROOT_BUILT_AHEAD_MILLIS);

        Path replaced = hostDir.resolveSibling(hostDir.getFileName() + "-replaced");
        try {
            Files.move(hostDir, replaced);
            Files.createDirectory(hostDir);
            Files.writeString(hostDir.resolve("from-host"), "the new source\n");
            Run second = Run.of(spec);
            assertThat(second.stdout()).as(second.toString()).isEqualTo("the new source\n");
        } finally {
            BusyboxRootfs.delete(replaced);
        }
    }

    @Test
    void aMountPointRemovedOnTheHostSinceTheLastLaunchIsMadeAgain() throws Exception {
        // removing the directory detaches what is mounted on it in every other mount namespace
        IsolatedProcessSpec spec = inBusybox("grep -c ' /scratch ' /proc/self/mountinfo").writableRoot(true)
                .addMounts(Mount.tmpfs("/scratch")).build();
        assertThat(Run.of(spec).stdout()).isEqualTo("1\n");
        Thread.sleep(ROOT_BUILT_AHEAD_MILLIS);

        Files.delete(rootfs.resolve("scratch"));
        Run second = Run.of(spec);
        assertThat(second.stdout()).as(second.toString()).isEqualTo("1\n");
    }

    @Test
    void aHostMountMadeInsideTheRootfsSinceTheLastLaunchIsSeen() throws Exception {
        IsolatedProcessSpec spec = inBusybox("cat /opt/mounted 2>/dev/null || echo nothing").build();
        Files.createDirectories(rootfs.resolve("opt"));
        assertThat(Run.of(spec).stdout()).isEqualTo("nothing\n");
        Thread.sleep(ROOT_BUILT_AHEAD_MILLIS);

        if (Host.isRoot()) {
            // a mount in the host's own mount namespace
            mountHere("tmpfs", rootfs.resolve("opt"));
            try {
                Files.writeString(rootfs.resolve("opt/mounted"), "host mount\n");
                Run second = Run.of(spec);
                assertThat(second.stdout()).as(second.toString()).isEqualTo("host mount\n");
            } finally {
                unmountHere(rootfs.resolve("opt"));
            }
        } else {
            // an unprivileged JVM cannot mount on the host; a plain change inside the rootfs
            // is seen all the same, since the rootfs is mounted, not copied
            Files.writeString(rootfs.resolve("opt/mounted"), "plain file\n");
            Run second = Run.of(spec);
            assertThat(second.stdout()).as(second.toString()).isEqualTo("plain file\n");
        }
    }

    private static void mountHere(String type, Path target) throws Exception {
        run("mount", "-t", type, type, target.toString());
    }

    private static void unmountHere(Path target) throws Exception {
        run("umount", target.toString());
    }

    private static void run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor()).as(String.join(" ", command) + ": " + output).isZero();
    }
}
