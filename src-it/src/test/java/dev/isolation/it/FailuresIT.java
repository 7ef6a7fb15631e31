package dev.isolation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.CommandNotExecutableException;
import dev.isolation.CommandNotFoundException;
import dev.isolation.IdMapping;
import dev.isolation.InvalidSpecException;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Isolation;
import dev.isolation.LaunchException;
import dev.isolation.Mount;
import dev.isolation.Redirect;
import dev.isolation.it.support.BusyboxRootfs;
import dev.isolation.it.support.Host;
import dev.isolation.it.support.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingConsumer;

/** Every failure names its step, path and errno, and leaves no process, mount or fd behind. */
class FailuresIT {
    private static Path rootfs;
    private List<String> fdsBefore;
    private List<String> mountsBefore;

    @BeforeAll
    static void makeRootfs() throws IOException {
        rootfs = BusyboxRootfs.create();
        Path notExecutable = rootfs.resolve("bin/not-executable");
        Files.writeString(notExecutable, "#!/bin/sh\necho never\n");
        Files.setPosixFilePermissions(notExecutable, PosixFilePermissions.fromString("rw-r--r--"));
        // warm up: the helper and its reader thread exist before the baseline is taken
        Run.of(IsolatedProcessSpec.builder().command("/bin/true").rootfs(rootfs).build());
    }

    @AfterAll
    static void deleteRootfs() {
        BusyboxRootfs.delete(rootfs);
    }

    @BeforeEach
    void baseline() {
        fdsBefore = Host.openFdTargets();
        mountsBefore = Host.mounts();
    }

    private void assertFailsLeavingNothing(IsolatedProcessSpec spec, Class<? extends LaunchException> type,
            ThrowingConsumer<LaunchException> check) {
        assertThatThrownBy(() -> Isolation.launcher().launch(spec)).isInstanceOfSatisfying(type, e -> {
            try {
                check.accept(e);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        });
        assertThat(Host.remainingGrandchildren()).as("processes left").isEmpty();
        assertThat(Host.openFdTargets()).as("open fds").isEqualTo(fdsBefore);
        assertThat(Host.mounts()).as("host mounts").isEqualTo(mountsBefore);
    }

    private static IsolatedProcessSpec.Builder inBusybox(String... command) {
        return IsolatedProcessSpec.builder().command(command).rootfs(rootfs);
    }

    @Test
    void missingCommand() {
        assertFailsLeavingNothing(inBusybox("/bin/no-such-command").build(), CommandNotFoundException.class, e -> {
            assertThat(e.step()).isEqualTo("execve");
            assertThat(e.path()).contains("/bin/no-such-command");
            assertThat(e.errnoName()).contains("ENOENT");
            assertThat(e).hasMessageStartingWith("execve(/bin/no-such-command): ENOENT (No such file or directory)");
        });
    }

    @Test
    void missingCommandOnThePath() {
        assertFailsLeavingNothing(inBusybox("no-such-command").build(), CommandNotFoundException.class,
                e -> assertThat(e.errnoName()).contains("ENOENT"));
    }

    @Test
    void commandThatIsNotExecutable() {
        assertFailsLeavingNothing(inBusybox("/bin/not-executable").build(), CommandNotExecutableException.class, e -> {
            assertThat(e.errnoName()).contains("EACCES");
            assertThat(e).hasMessageContaining("execve(/bin/not-executable): EACCES");
        });
    }

    @Test
    void rootfsThatDoesNotExist() {
        assertFailsLeavingNothing(IsolatedProcessSpec.builder().command("/bin/true").rootfs(Path.of("/no/such/rootfs")).build(),
                LaunchException.class, e -> {
                    assertThat(e.step()).isEqualTo("bind root");
                    assertThat(e.path()).contains("/no/such/rootfs");
                    assertThat(e.errnoName()).contains("ENOENT");
                });
    }

    @Test
    void bindSourceThatDoesNotExist() {
        assertFailsLeavingNothing(inBusybox("/bin/true").addMounts(Mount.bind(Path.of("/no/such/dir"), "/data")).build(),
                LaunchException.class, e -> {
                    assertThat(e.path()).hasValueSatisfying(p -> assertThat(p).contains("/no/such/dir"));
                    assertThat(e.errnoName()).contains("ENOENT");
                });
    }

    @Test
    void mountPointMissingInAReadOnlyRoot() {
        assertFailsLeavingNothing(inBusybox("/bin/true").addMounts(Mount.tmpfs("/not-there")).build(), LaunchException.class, e -> {
            assertThat(e.step()).isEqualTo("create mount point");
            assertThat(e.path()).contains("/not-there");
            assertThat(e.errnoName()).contains("EROFS");
        });
    }

    @Test
    void workingDirectoryThatDoesNotExist() {
        assertFailsLeavingNothing(inBusybox("/bin/true").workingDirectory("/nowhere").build(), LaunchException.class, e -> {
            assertThat(e.step()).isEqualTo("chdir");
            assertThat(e.path()).contains("/nowhere");
            assertThat(e.errnoName()).contains("ENOENT");
        });
    }

    @Test
    void outputFileThatCannotBeOpened() {
        assertFailsLeavingNothing(inBusybox("/bin/true").stdout(Redirect.to(Path.of("/no/such/dir/out"))).build(),
                LaunchException.class, e -> {
                    assertThat(e.step()).isEqualTo("open stdout");
                    assertThat(e.path()).contains("/no/such/dir/out");
                    assertThat(e.errnoName()).contains("ENOENT");
                });
    }

    @Test
    void theNextLaunchAfterFailuresStillWorks() {
        assertThatThrownBy(() -> Isolation.launcher().launch(inBusybox("/bin/nope").build())).isInstanceOf(CommandNotFoundException.class);
        assertThat(Run.of(inBusybox("/bin/sh", "-c", "echo fine").build()).stdout()).isEqualTo("fine\n");
    }

    @Test
    void anUnprivilegedCallerCannotMapForeignIdsItWasNotGranted() {
        if (Host.isRoot()) {
            // root may write any map; the rule is about unprivileged callers
            assertThat(inBusybox("/bin/true").addUidMappings(IdMapping.of(0, 4_000_000_000L, 10)).build()).isNotNull();
            return;
        }
        assertThatThrownBy(() -> inBusybox("/bin/true").addUidMappings(IdMapping.of(0, 4_000_000_000L, 10)).build())
                .isInstanceOfSatisfying(InvalidSpecException.class, e -> assertThat(e.field()).isEqualTo("uidMappings"));
    }
}
