package dev.isolation.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.isolation.ExitStatus;
import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Isolation;
import dev.isolation.Redirect;
import dev.isolation.Signal;
import dev.isolation.it.support.BusyboxRootfs;
import dev.isolation.it.support.Host;
import dev.isolation.it.support.Run;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The handle: exit statuses, signals, streams, and the host's view of the sandbox. */
class ProcessIT {
    private static Path rootfs;

    @BeforeAll
    static void makeRootfs() {
        rootfs = BusyboxRootfs.create();
    }

    @AfterAll
    static void deleteRootfs() {
        BusyboxRootfs.delete(rootfs);
    }

    private static IsolatedProcessSpec.Builder inBusybox(String... command) {
        return IsolatedProcessSpec.builder().command(command).rootfs(rootfs);
    }

    @Test
    void exitCodeIsReported() {
        assertThat(Run.of(inBusybox("/bin/sh", "-c", "exit 7").build()).status()).isEqualTo(ExitStatus.exited(7));
    }

    @Test
    void hostSeesTheSandboxUnderItsHostPidAndCanKillIt() throws Exception {
        try (IsolatedProcess process = Isolation.launcher().launch(inBusybox("/bin/sleep", "100").build())) {
            ProcessHandle handle = ProcessHandle.of(process.pid()).orElseThrow();
            assertThat(Files.readString(Path.of("/proc/" + process.pid() + "/cmdline"))).isEqualTo("/bin/sleep\0" + "100\0");
            assertThat(Files.readString(Path.of("/proc/" + process.pid() + "/status"))).containsPattern("NSpid:\\s+\\d+\\s+1\\n");
            assertThat(handle.destroyForcibly()).isTrue();
            assertThat(process.waitFor(Duration.ofSeconds(10))).contains(ExitStatus.killed(9, false));
            assertThat(process.isAlive()).isFalse();
        }
    }

    @Test
    void killSendsTheSignal() throws Exception {
        IsolatedProcessSpec spec = inBusybox("/bin/sh", "-c", "trap 'exit 42' TERM; echo ready; sleep 100 & wait").build();
        try (IsolatedProcess process = Isolation.launcher().launch(spec)) {
            assertThat(process.stdout().read()).isEqualTo('r'); // the trap is installed
            assertThat(process.isAlive()).isTrue();
            // As PID 1 of its namespace, the shell gets only signals it handles (and SIGKILL).
            process.kill(Signal.TERM);
            assertThat(process.onExit().get(10, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(42));
            assertThat(process.exitStatus()).contains(ExitStatus.exited(42));
        }
    }

    @Test
    void killWithSigkillEndsPid1() throws Exception {
        try (IsolatedProcess process = Isolation.launcher().launch(inBusybox("/bin/sleep", "100").build())) {
            assertThat(process.waitFor(Duration.ofMillis(50))).isEmpty();
            process.kill(Signal.KILL);
            assertThat(process.onExit().get(10, TimeUnit.SECONDS)).isEqualTo(ExitStatus.killed(9, false));
        }
    }

    @Test
    void stdinStdoutAndStderrArePipes() throws Exception {
        try (IsolatedProcess process = Isolation.launcher().launch(inBusybox("/bin/sh", "-c", "cat; echo oops >&2").build())) {
            process.stdin().write("round trip\n".getBytes(StandardCharsets.UTF_8));
            process.stdin().close();
            assertThat(new String(process.stdout().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("round trip\n");
            assertThat(new String(process.stderr().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("oops\n");
            assertThat(process.waitFor()).isEqualTo(ExitStatus.exited(0));
        }
    }

    @Test
    void streamsCanGoToFilesOrNowhere() throws Exception {
        Path dir = Files.createTempDirectory("isolation-it-redirect-");
        try {
            Path in = Files.writeString(dir.resolve("in"), "from a file\n");
            Path out = dir.resolve("out");
            IsolatedProcessSpec spec = inBusybox("/bin/sh", "-c", "cat; echo to-stderr >&2")
                    .stdin(Redirect.from(in)).stdout(Redirect.to(out)).stderr(Redirect.DISCARD).build();
            try (IsolatedProcess process = Isolation.launcher().launch(spec)) {
                assertThat(process.waitFor()).isEqualTo(ExitStatus.exited(0));
                assertThat(process.stdout().read()).isEqualTo(-1);
                assertThat(process.stderr().read()).isEqualTo(-1);
            }
            assertThat(Files.readString(out)).isEqualTo("from a file\n");
            Run.of(inBusybox("/bin/sh", "-c", "echo again").stdout(Redirect.appendTo(out)).build());
            assertThat(Files.readString(out)).isEqualTo("from a file\nagain\n");
        } finally {
            BusyboxRootfs.delete(dir);
        }
    }

    @Test
    void closeKillsWhatStillRunsAndLeavesNothing() throws Exception {
        IsolatedProcess process = Isolation.launcher().launch(inBusybox("/bin/sh", "-c", "sleep 100 & sleep 100").build());
        long pid = process.pid();
        process.close();
        assertThat(process.exitStatus()).contains(ExitStatus.killed(9, false));
        assertThat(ProcessHandle.of(pid)).isEmpty();
        assertThat(Host.remainingGrandchildren()).isEmpty();
        process.close(); // idempotent
    }

    @Test
    void manyThreadsLaunchAtOnceWithoutLosingAnExitStatus() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<ExitStatus>> results = new ArrayList<>();
            for (int i = 0; i < 80; i++) {
                int code = i % 50;
                results.add(pool.submit(() -> Run.of(inBusybox("/bin/sh", "-c", "exit " + code).build()).status()));
            }
            for (int i = 0; i < results.size(); i++) {
                assertThat(results.get(i).get(60, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(i % 50));
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(Host.remainingGrandchildren()).isEmpty();
    }

    @Test
    void stdinOfADiscardedStreamIsEmpty() throws IOException {
        Run run = Run.of(inBusybox("/bin/sh", "-c", "cat; echo done").stdin(Redirect.DISCARD).build());
        assertThat(run.stdout()).isEqualTo("done\n");
    }
}
