package dev.isolation.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.isolation.IdMapping;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Mount;
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
import org.junit.jupiter.api.Test;

/** Several id ranges: written directly by root, through newuidmap/newgidmap otherwise. */
class IdMappingIT {
    private static Path rootfs;

    @BeforeAll
    static void makeRootfs() {
        rootfs = BusyboxRootfs.create();
    }

    @AfterAll
    static void deleteRootfs() {
        BusyboxRootfs.delete(rootfs);
    }

    /** The first host id of a subordinate range this caller may map: its /etc/subuid entry, or any for root. */
    private static long subordinateStart(String file) throws IOException {
        if (Host.isRoot()) {
            return 100000;
        }
        String user = System.getProperty("user.name");
        for (String line : Files.readAllLines(Path.of(file))) {
            String[] parts = line.split(":");
            if (parts.length == 3 && parts[0].equals(user) && Long.parseLong(parts[2]) >= 65536) {
                return Long.parseLong(parts[1]);
            }
        }
        throw new AssertionError(file + " grants " + user + " no range of 65536 ids; useradd normally adds one");
    }

    private static IsolatedProcessSpec.Builder withSeveralRanges(String script) throws IOException {
        return IsolatedProcessSpec.builder().command("/bin/sh", "-c", script).rootfs(rootfs)
                .addUidMappings(IdMapping.single(0, Host.uid()), IdMapping.of(1, subordinateStart("/etc/subuid"), 65536))
                .addGidMappings(IdMapping.single(0, Host.gid()), IdMapping.of(1, subordinateStart("/etc/subgid"), 65536));
    }

    @Test
    void severalRangesAreMappedAsAsked() throws IOException {
        Run run = Run.of(withSeveralRanges("id -u; id -g; cat /proc/self/uid_map; cat /proc/self/gid_map").build());
        assertThat(run.status().succeeded()).as(run.toString()).isTrue();
        List<String> lines = List.of(run.stdout().split("\n"));
        assertThat(lines.get(0)).isEqualTo("0");
        assertThat(lines.get(1)).isEqualTo("0");
        assertThat(lines.get(2).trim().split("\\s+")).containsExactly("0", Integer.toString(Host.uid()), "1");
        assertThat(lines.get(3).trim().split("\\s+")).containsExactly("1", Long.toString(subordinateStart("/etc/subuid")), "65536");
        assertThat(lines.get(5).trim().split("\\s+")).containsExactly("1", Long.toString(subordinateStart("/etc/subgid")), "65536");
    }

    @Test
    void aFileWrittenAsAnInsideIdBelongsToTheMappedHostId() throws IOException {
        Path out = Files.createTempDirectory("isolation-it-out-");
        try {
            Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwxrwxrwx"));
            Run run = Run.of(withSeveralRanges("touch /tmp/made-by-1000; id -u").uid(1000).gid(1000)
                    .addMounts(Mount.bind(out, "/tmp")).build());
            assertThat(run.status().succeeded()).as(run.toString()).isTrue();
            assertThat(run.stdout()).isEqualTo("1000\n");
            Path made = out.resolve("made-by-1000");
            assertThat((Integer) Files.getAttribute(made, "unix:uid")).isEqualTo((int) (subordinateStart("/etc/subuid") + 999));
            assertThat((Integer) Files.getAttribute(made, "unix:gid")).isEqualTo((int) (subordinateStart("/etc/subgid") + 999));
        } finally {
            BusyboxRootfs.delete(out);
        }
    }
}
