package dev.isolation.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.JoinSpec;
import dev.isolation.Namespace;
import dev.isolation.Redirect;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class JoinCommandTest {

    @Test
    void optionsBecomeAJoinSpec() {
        JoinCommand.Options options = JoinCommand.Options.parse(List.of("--pid", "1234", "--ns", "user,mnt,pid,net,uts,ipc,cgroup",
                "--uid", "0", "--gid", "5", "--workdir", "/tmp", "--env", "A=b", "--", "/bin/sh", "-c", "ps"));
        JoinSpec spec = options.builder.build();
        assertThat(options.pid).isEqualTo(1234);
        assertThat(spec.command()).containsExactly("/bin/sh", "-c", "ps");
        assertThat(spec.namespaces()).containsExactlyInAnyOrder(Namespace.USER, Namespace.MOUNT, Namespace.PID, Namespace.NET,
                Namespace.UTS, Namespace.IPC, Namespace.CGROUP);
        assertThat(spec.uid()).hasValue(0);
        assertThat(spec.gid()).hasValue(5);
        assertThat(spec.workingDirectory()).contains("/tmp");
        assertThat(spec.environment()).containsEntry("A", "b");
        assertThat(spec.stdin()).isEqualTo(Redirect.INHERIT);
    }

    @Test
    void withoutNsEveryNamespaceIsEntered() {
        JoinSpec spec = JoinCommand.Options.parse(List.of("--pid", "7", "--", "true")).builder.build();
        assertThat(spec.namespaces()).isEmpty(); // the library's "all that differ"
        assertThat(JoinCommand.Options.namespaces("mount, time")).containsExactlyInAnyOrder(Namespace.MOUNT, Namespace.TIME);
    }

    @Test
    void mistakesAreExplained() {
        assertThat(exit("join", "--", "true")).startsWith("125 ").contains("join needs --pid PID");
        assertThat(exit("join", "--pid", "x", "--", "true")).startsWith("125 ").contains("--pid takes a number");
        assertThat(exit("join", "--pid", "0", "--", "true")).startsWith("125 ").contains("--pid takes a process id");
        assertThat(exit("join", "--pid", "12", "--ns", "net,bogus", "--", "true")).startsWith("125 ").contains("got bogus");
        assertThat(exit("join", "--pid", "12")).startsWith("125 ").contains("give the command after --");
        assertThat(exit("join", "--pid", "12", "--frob", "1", "--", "true")).startsWith("125 ").contains("unknown option --frob");
        assertThatThrownBy(() -> JoinCommand.Options.parse(List.of("--pid"))).hasMessageContaining("--pid needs a value");
    }

    @Test
    void runAcceptsPrintPidAndInit() {
        RunCommand.Options options = RunCommand.Options.parse(List.of("--print-pid", "--init", "--", "sleep", "1"));
        assertThat(options.printPid).isTrue();
        assertThat(options.toSpec().init()).isTrue();
        assertThat(RunCommand.Options.parse(List.of("--", "true")).printPid).isFalse();
    }

    private static String exit(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(List.of(args), new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        return status + " " + err.toString(StandardCharsets.UTF_8);
    }
}
