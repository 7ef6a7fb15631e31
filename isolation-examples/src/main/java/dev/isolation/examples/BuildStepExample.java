package dev.isolation.examples;

import dev.isolation.ExitStatus;
import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Isolation;
import dev.isolation.Mount;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A build tool sandboxing an untrusted build step: the host root read-only, no network, one
 * writable output directory. The step can read its inputs and write its artifact, and nothing
 * else on the host.
 */
public final class BuildStepExample {
    private BuildStepExample() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(System.out));
    }

    static int run(PrintStream out) throws IOException, InterruptedException {
        Path output = Files.createTempDirectory("isolation-build-out-");
        Files.setPosixFilePermissions(output, PosixFilePermissions.fromString("rwxr-xr-x"));
        try {
            IsolatedProcessSpec step = IsolatedProcessSpec.builder()
                    .command("/bin/sh", "-c", "uname -sr > /out/artifact.txt && echo built;"
                            + " touch /usr/evil 2>/dev/null || echo 'cannot write /usr';"
                            + " touch $HOME_DIR/evil 2>/dev/null || echo 'cannot write the home directory'")
                    .putEnvironment("HOME_DIR", System.getProperty("user.home"))
                    .addMounts(Mount.bind(output, "/out"))
                    .build(); // default namespaces: no network; default root: the host's, read-only
            try (IsolatedProcess process = Isolation.launcher().launch(step)) {
                out.print(new String(process.stdout().readAllBytes(), StandardCharsets.UTF_8));
                ExitStatus status = process.waitFor();
                out.println("build step " + status + "; artifact: " + Files.readString(output.resolve("artifact.txt")).trim());
                return status.shellStatus();
            }
        } finally {
            BusyboxRootfs.delete(output);
        }
    }
}
