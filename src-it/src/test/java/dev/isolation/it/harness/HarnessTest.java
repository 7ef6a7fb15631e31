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
}
