package dev.isolation.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.IdMapping;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Mount;
import dev.isolation.Namespace;
import dev.isolation.Redirect;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunCommandTest {

    private static IsolatedProcessSpec parse(String... args) {
        return RunCommand.Options.parse(List.of(args)).toSpec();
    }

    @Test
    void optionsBecomeASpec() {
        IsolatedProcessSpec spec = parse("--rootfs", "/srv/root", "--hostname", "box", "--uid-map", "0:100000:65536",
                "--gid-map", "0:100000:65536", "--bind", "/tmp:/out", "--ro-bind", "/etc:/data", "--tmpfs", "/scratch",
                "--env", "A=b=c", "--workdir", "/work", "--", "/bin/sh", "-c", "echo hi");
        assertThat(spec.command()).containsExactly("/bin/sh", "-c", "echo hi");
        assertThat(spec.rootfs()).contains(Path.of("/srv/root"));
        assertThat(spec.hostname()).contains("box");
        assertThat(spec.uidMappings()).containsExactly(IdMapping.of(0, 100000, 65536));
        assertThat(spec.mounts()).containsExactly(Mount.bind(Path.of("/tmp"), "/out"),
                Mount.bindReadOnly(Path.of("/etc"), "/data"), Mount.tmpfs("/scratch"));
        assertThat(spec.environment()).containsEntry("A", "b=c");
        assertThat(spec.workingDirectory()).contains("/work");
        assertThat(spec.stdin()).isEqualTo(Redirect.INHERIT);
        assertThat(spec.effectiveNamespaces()).contains(Namespace.NET);
    }

    @Test
    void netHostDropsTheNetworkNamespace() {
        assertThat(parse("--net", "host", "--", "true").effectiveNamespaces()).doesNotContain(Namespace.NET).contains(Namespace.PID);
    }

    @Test
    void mapRootMapsTheCallerToZero() {
        IsolatedProcessSpec spec = parse("--map-root", "--", "id");
        assertThat(spec.uidMappings()).containsExactly(IdMapping.single(0, RunCommand.ProcessIds.uid()));
        assertThat(spec.gidMappings()).containsExactly(IdMapping.single(0, RunCommand.ProcessIds.gid()));
    }

    @Test
    void sizesAndDurations() {
        assertThat(Sizes.parseBytes("64m")).isEqualTo(64L << 20);
        assertThat(Sizes.parseBytes("1GiB")).isEqualTo(1L << 30);
        assertThat(Sizes.parseBytes("4096")).isEqualTo(4096);
        assertThat(Sizes.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Sizes.parseDuration("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(Sizes.parseDuration("PT3S")).isEqualTo(Duration.ofSeconds(3));
        assertThatThrownBy(() -> Sizes.parseBytes("lots")).hasMessageContaining("a size is a number");
    }

    @Test
    void resourceLimits() {
        IsolatedProcessSpec spec = parse("--memory", "64m", "--pids", "32", "--cpus", "1.5", "--", "true");
        assertThat(spec.memoryLimitBytes()).hasValue(64L << 20);
        assertThat(spec.pidsLimit()).hasValue(32);
        assertThat(spec.cpuQuota()).hasValue(1.5);
        assertThatThrownBy(() -> parse("--pids", "many", "--", "true")).hasMessageContaining("--pids takes a whole number");
        assertThatThrownBy(() -> parse("--cpus", "half", "--", "true")).hasMessageContaining("--cpus takes a number of CPUs");
        assertThat(exit("run", "--cpus", "0", "--", "true")).startsWith("125 ").contains("cpuQuota");
    }

    @Test
    void badCommandLinesExitWith125AndSayWhy() {
        assertThat(exit("run", "--net", "maybe", "--", "true")).startsWith("125 ").contains("--net takes none or host");
        assertThat(exit("run", "--hostname")).startsWith("125 ").contains("--hostname needs a value");
        assertThat(exit("run", "--hostname", "box")).startsWith("125 ").contains("give the command after --");
        assertThat(exit("run", "--", "")).startsWith("125 ").contains("command: the executable must not be an empty string");
        assertThat(exit("run", "--uid-map", "0:1", "--", "true")).startsWith("125 ").contains("INSIDE:OUTSIDE:COUNT");
        assertThat(exit("run", "--hostname", "x".repeat(70), "--", "true")).startsWith("125 ").contains("hostname: must be 1 to 64 bytes");
        assertThat(exit("frobnicate")).startsWith("125 ").contains("unknown command");
    }

    private static String exit(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(List.of(args), new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        return status + " " + err.toString(StandardCharsets.UTF_8);
    }
}
