package dev.isolation.it.support;

import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Isolation;
import dev.isolation.JoinSpec;
import dev.isolation.Namespace;
import dev.isolation.Redirect;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A child JVM for LifecycleIT: launches a few sandboxes (some with children, one that
 * double-forks into a new session, one without a PID namespace, one with an init, one joined
 * process), prints the host pid of every process of theirs as {@code pid N}, then
 * {@code READY}, and then, depending on its argument:
 * <ul>
 * <li>{@code wait}: sleeps until killed (the test kills this JVM with SIGKILL);</li>
 * <li>{@code exit}: returns from main without closing any handle (the JVM exits normally).</li>
 * </ul>
 * Arguments: {@code wait|exit ROOTFS}.
 */
public final class SandboxSpawner {
    private SandboxSpawner() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        Path rootfs = Path.of(args[1]);
        List<IsolatedProcess> handles = new ArrayList<>();
        Set<Namespace> noPid = EnumSet.of(Namespace.USER, Namespace.MOUNT, Namespace.UTS);
        List<IsolatedProcessSpec> specs = List.of(
                spec(rootfs, "sleep 1000").build(),
                spec(rootfs, "sleep 1000 & sleep 1000 & sleep 1000").build(),
                // leaves its session and double-forks: the shell in the middle exits at once
                spec(rootfs, "setsid sh -c 'sleep 1000 & sleep 1000 &'; sleep 1000").build(),
                spec(rootfs, "sleep 1000 & setsid sh -c 'sleep 1000 &'; sleep 1000").namespaces(noPid).build(),
                spec(rootfs, "sleep 1000 & sleep 1000").init(true).build());
        for (IsolatedProcessSpec spec : specs) {
            handles.add(Isolation.launcher().launch(spec));
        }
        // a joined process, which is the helper's child, not the sandbox's
        handles.add(handles.get(0).join(JoinSpec.builder().command("/bin/sh", "-c", "sleep 1000 & sleep 1000")
                .stdin(Redirect.DISCARD).stdout(Redirect.DISCARD).stderr(Redirect.DISCARD).build()));

        // give the shells time to start their children (until the count holds still for a
        // while), then report every descendant
        long helper = ProcessHandle.current().children().findFirst().orElseThrow().pid();
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<ProcessHandle> all = List.of();
        int steady = 0;
        while (steady < 6 && System.nanoTime() < deadline) {
            Thread.sleep(50);
            List<ProcessHandle> now = ProcessHandle.current().descendants().filter(p -> p.pid() != helper).toList();
            steady = now.size() == all.size() ? steady + 1 : 0;
            all = now;
        }
        System.out.println("helper " + helper);
        for (ProcessHandle p : all) {
            System.out.println("pid " + p.pid());
        }
        System.out.println("READY");
        System.out.flush();
        if (mode.equals("wait")) {
            Thread.sleep(Long.MAX_VALUE);
        }
        // "exit": return without closing any handle
    }

    private static IsolatedProcessSpec.Builder spec(Path rootfs, String script) {
        return IsolatedProcessSpec.builder().command("/bin/sh", "-c", script).rootfs(rootfs)
                .stdin(Redirect.DISCARD).stdout(Redirect.DISCARD).stderr(Redirect.DISCARD);
    }
}
