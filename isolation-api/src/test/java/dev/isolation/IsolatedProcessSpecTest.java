package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class IsolatedProcessSpecTest {

    private static IsolatedProcessSpec.Builder sh() {
        return IsolatedProcessSpec.builder().command("/bin/sh", "-c", "true");
    }

    @Test
    void defaultsAreFullyIsolatedWithOnlyPath() {
        IsolatedProcessSpec spec = sh().build();
        assertThat(spec.effectiveNamespaces()).containsExactlyInAnyOrderElementsOf(IsolatedProcessSpec.DEFAULT_NAMESPACES);
        assertThat(spec.effectiveEnvironment()).containsOnlyKeys("PATH");
        assertThat(spec.stdin()).isEqualTo(Redirect.PIPE);
        assertThat(spec.stdout()).isEqualTo(Redirect.PIPE);
        assertThat(spec.writableRoot()).isFalse();
        assertThat(spec.rootfs()).isEmpty();
    }

    @Test
    void explicitNamespacesReplaceTheDefaults() {
        IsolatedProcessSpec spec = sh().addNamespaces(Namespace.PID, Namespace.MOUNT).build();
        assertThat(spec.effectiveNamespaces()).containsExactlyInAnyOrder(Namespace.PID, Namespace.MOUNT);
    }

    @Test
    void environmentOverridesPathAndInheritsOnlyWhenAsked() {
        IsolatedProcessSpec spec = sh().putEnvironment("PATH", "/x").putEnvironment("A", "1").build();
        assertThat(spec.effectiveEnvironment()).containsEntry("PATH", "/x").containsEntry("A", "1").hasSize(2);
        IsolatedProcessSpec inherited = sh().inheritEnvironment(true).build();
        assertThat(inherited.effectiveEnvironment()).containsAllEntriesOf(System.getenv());
    }

    @Test
    void specIsImmutableAndReusable() {
        IsolatedProcessSpec spec = sh().hostname("box").build();
        IsolatedProcessSpec changed = spec.toBuilder().hostname("other").build();
        assertThat(spec.hostname()).contains("box");
        assertThat(changed.hostname()).contains("other");
        assertThatThrownBy(() -> spec.command().add("x")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void refusesAnEmptyCommand() {
        assertRefused(IsolatedProcessSpec.builder(), "command", "must name an executable");
        assertRefused(IsolatedProcessSpec.builder().command(""), "command", "empty string");
        assertRefused(IsolatedProcessSpec.builder().command("a\0b"), "command", "NUL");
    }

    @Test
    void refusesBadEnvironmentNames() {
        assertRefused(sh().putEnvironment("A=B", "x"), "environment", "'='");
        assertRefused(sh().putEnvironment("", "x"), "environment", "non-empty");
    }

    @Test
    void refusesMappingsWithoutAUserNamespace() {
        assertRefused(sh().addNamespaces(Namespace.PID).addUidMappings(IdMapping.of(0, 1000, 1)),
                "uidMappings", "needs Namespace.USER");
    }

    @Test
    void refusesOverlappingRanges() {
        assertRefused(sh().addUidMappings(IdMapping.of(0, 100000, 10), IdMapping.of(5, 200000, 10)),
                "uidMappings", "overlap inside");
        assertRefused(sh().addGidMappings(IdMapping.of(0, 100000, 10), IdMapping.of(50, 100005, 10)),
                "gidMappings", "overlap on the host");
    }

    @Test
    void refusesEmptyOrNegativeRanges() {
        assertThatThrownBy(() -> IdMapping.of(0, 1000, 0)).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("count must be at least 1");
        assertThatThrownBy(() -> IdMapping.of(-1, 1000, 1)).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("negative");
        assertThatThrownBy(() -> IdMapping.of(IdMapping.MAX_ID, 0, 2)).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("must end at or below");
    }

    @Test
    void refusesRelativePaths() {
        assertRefused(sh().rootfs(Path.of("relative/root")), "rootfs", "absolute");
        assertRefused(sh().addMounts(Mount.bind(Path.of("/tmp"), "out")), "mounts", "absolute");
        assertRefused(sh().addMounts(Mount.bind(Path.of("rel"), "/out")), "mounts", "absolute host path");
        assertRefused(sh().addMounts(Mount.tmpfs("/a/../b")), "mounts", "..");
        assertRefused(sh().workingDirectory("work"), "workingDirectory", "absolute");
    }

    @Test
    void refusesARootfsWithoutAMountNamespace() {
        assertRefused(sh().addNamespaces(Namespace.USER, Namespace.PID).rootfs(Path.of("/srv/root")), "rootfs", "Namespace.MOUNT");
        assertRefused(sh().addNamespaces(Namespace.USER).addMounts(Mount.tmpfs("/x")), "mounts", "Namespace.MOUNT");
    }

    @Test
    void refusesAWritableHostRoot() {
        assertRefused(sh().writableRoot(true), "writableRoot", "always read-only");
    }

    @Test
    void refusesHostnamesTheKernelRefuses() {
        assertRefused(sh().hostname("x".repeat(65)), "hostname", "1 to 64 bytes, got 65");
        assertRefused(sh().hostname(""), "hostname", "got 0");
        assertRefused(sh().hostname("a b"), "hostname", "spaces");
        assertRefused(sh().addNamespaces(Namespace.USER).hostname("box"), "hostname", "Namespace.UTS");
        assertThat(sh().hostname("x".repeat(64)).build().hostname()).isPresent();
    }

    @Test
    void refusesRunAsIdsOutsideTheMappings() {
        assertRefused(sh().addUidMappings(IdMapping.of(0, 100000, 10)).uid(20), "uid", "not mapped");
    }

    @Test
    void refusesRedirectsInTheWrongDirection() {
        assertRefused(sh().stdin(Redirect.to(Path.of("/tmp/x"))), "stdin", "read from a file");
        assertRefused(sh().stdout(Redirect.from(Path.of("/tmp/x"))), "stdout", "cannot read");
    }

    @Test
    void refusesLimitsOutOfRange() {
        assertRefused(sh().memoryLimitBytes(0), "memoryLimitBytes", "must be at least 1048576 bytes, got 0");
        assertRefused(sh().swapLimitBytes(1), "swapLimitBytes", "needs memoryLimitBytes");
        assertRefused(sh().cpuQuota(0), "cpuQuota", "between 0.01 and 4096");
        assertRefused(sh().cpuWeight(0), "cpuWeight", "between 1 and 10000");
        assertRefused(sh().pidsLimit(0), "pidsLimit", "at least 1");
        assertRefused(sh().addNamespaces(Namespace.USER, Namespace.MOUNT).init(true), "init", "Namespace.PID");
        assertRefused(sh().timeout(java.time.Duration.ZERO), "timeout", "positive");
    }

    private static void assertRefused(IsolatedProcessSpec.Builder builder, String field, String rule) {
        assertThatThrownBy(builder::build)
                .isInstanceOfSatisfying(InvalidSpecException.class, e -> {
                    assertThat(e.field()).isEqualTo(field);
                    assertThat(e.rule()).contains(rule);
                    assertThat(e.getMessage()).startsWith(field + ": ");
                });
    }
}
