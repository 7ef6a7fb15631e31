package dev.isolation.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.isolation.IdMapping;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Namespace;
import dev.isolation.it.support.BusyboxRootfs;
import dev.isolation.it.support.Host;
import dev.isolation.it.support.Run;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The seeds' scenarios: each namespace isolates what it should, for root and unprivileged callers. */
class NamespacesIT {
    private static Path rootfs;

    @BeforeAll
    static void makeRootfs() {
        rootfs = BusyboxRootfs.create();
    }

    @AfterAll
    static void deleteRootfs() {
        BusyboxRootfs.delete(rootfs);
    }

    private static IsolatedProcessSpec.Builder inBusybox(String script) {
        return IsolatedProcessSpec.builder().command("/bin/sh", "-c", script).rootfs(rootfs);
    }

    @Test
    void commandIsPid1WithParent0AndPsSeesOnlyTheSandbox() {
        Run run = Run.of(inBusybox("echo pid=$$; grep PPid /proc/$$/status; ps -o pid,comm; true").build());
        assertThat(run.status().succeeded()).as(run.toString()).isTrue();
        assertThat(run.stdout()).contains("pid=1\n");
        assertThat(run.stdout()).containsPattern("PPid:\\s+0\\n");
        List<String> processes = Arrays.stream(run.stdout().split("\n"))
                .filter(line -> line.matches("\\s*\\d+\\s+\\S+.*")).map(String::trim).toList();
        // the shell (PID 1) and ps itself, nothing of the host
        assertThat(processes).hasSize(2);
        assertThat(processes.get(0)).isEqualTo("1 sh");
        assertThat(processes.get(1)).endsWith(" ps");
    }

    @Test
    void hostnameChangesStayInside() {
        String before = Host.hostname();
        // root inside (mapped to the caller) holds CAP_SYS_ADMIN over the sandbox's UTS namespace
        Run run = Run.of(inBusybox("hostname; hostname changed-inside; hostname").hostname("box")
                .addUidMappings(IdMapping.single(0, Host.uid())).addGidMappings(IdMapping.single(0, Host.gid())).build());
        assertThat(run.status().succeeded()).as(run.toString()).isTrue();
        assertThat(run.stdout()).isEqualTo("box\nchanged-inside\n");
        assertThat(Host.hostname()).isEqualTo(before);
    }

    @Test
    void newNetworkNamespaceHasOnlyLoopbackAndItIsUp() {
        Run run = Run.of(inBusybox("cat /proc/net/dev; ip -o link").build());
        assertThat(run.status().succeeded()).as(run.toString()).isTrue();
        List<String> devices = Arrays.stream(run.stdout().split("\n"))
                .filter(line -> line.contains(":") && !line.contains("|") && !line.contains("<"))
                .map(line -> line.trim().split(":")[0]).toList();
        assertThat(devices).containsExactly("lo");
        assertThat(run.stdout()).containsPattern("1: lo: <[^>]*\\bUP\\b");
    }

    @Test
    void namespacesDifferFromTheHost() {
        Run run = Run.of(inBusybox("for n in pid mnt net uts ipc user; do readlink /proc/self/ns/$n; done").build());
        assertThat(run.status().succeeded()).as(run.toString()).isTrue();
        List<String> inside = List.of(run.stdout().split("\n"));
        List<String> types = List.of("pid", "mnt", "net", "uts", "ipc", "user");
        for (int i = 0; i < types.size(); i++) {
            assertThat(inside.get(i)).as(types.get(i)).isNotEqualTo(Host.namespace(types.get(i)));
        }
    }

    @Test
    void sharedNamespacesAreTheHostsWhenNotAsked() {
        IsolatedProcessSpec.Builder spec = inBusybox("readlink /proc/self/ns/net; readlink /proc/self/ns/ipc")
                .namespaces(List.of(Namespace.USER, Namespace.MOUNT, Namespace.PID));
        Run run = Run.of(spec.build());
        assertThat(run.status().succeeded()).as(run.toString()).isTrue();
        assertThat(run.stdout()).isEqualTo(Host.namespace("net") + "\n" + Host.namespace("ipc") + "\n");
    }

    @Test
    void byDefaultTheCallerKeepsItsOwnIds() {
        Run run = Run.of(inBusybox("id -u; id -g").build());
        assertThat(run.status().succeeded()).as(run.toString()).isTrue();
        assertThat(run.stdout()).isEqualTo(Host.uid() + "\n" + Host.gid() + "\n");
    }

    @Test
    void mappingTheCallerToRootMakesItUid0Inside() {
        Run run = Run.of(inBusybox("id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map")
                .addUidMappings(IdMapping.single(0, Host.uid()))
                .addGidMappings(IdMapping.single(0, Host.gid())).build());
        assertThat(run.status().succeeded()).as(run.toString()).isTrue();
        String[] lines = run.stdout().split("\n");
        assertThat(lines[0]).isEqualTo("0");
        assertThat(lines[1]).isEqualTo("0");
        assertThat(lines[2].trim().split("\\s+")).containsExactly("0", Integer.toString(Host.uid()), "1");
        assertThat(lines[3].trim().split("\\s+")).containsExactly("0", Integer.toString(Host.gid()), "1");
    }
}
