package dev.isolation.examples;

import dev.isolation.ExitStatus;
import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Isolation;
import dev.isolation.Namespace;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The seeds' "mini container": a busybox root filesystem entered with pivot_root, its own
 * hostname, and the shell as PID 1 seeing only its own processes, while the host sees it under
 * an ordinary pid.
 */
public final class MiniContainerExample {
    private MiniContainerExample() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(System.out));
    }

    static int run(PrintStream out) throws IOException, InterruptedException {
        // Without busybox-static installed, the host's root (read-only) stands in for the image.
        Path rootfs = Files.isExecutable(BusyboxRootfs.BUSYBOX) ? BusyboxRootfs.create() : null;
        try {
            IsolatedProcessSpec.Builder spec = IsolatedProcessSpec.builder()
                    .command("/bin/sh", "-c", "echo \"inside: I am PID $$ on $(hostname)\"; sleep 5 & sleep 0.1; ps -o pid,user,comm; ls /; cat /proc/net/dev | tail -n +3")
                    .addNamespaces(Namespace.USER, Namespace.PID, Namespace.MOUNT, Namespace.UTS, Namespace.IPC, Namespace.NET)
                    .hostname("mini-container");
            if (rootfs != null) {
                spec.rootfs(rootfs);
            } else {
                out.println("host: /bin/busybox is missing (apt-get install busybox-static), so the root is the host's, read-only");
            }
            try (IsolatedProcess container = Isolation.launcher().launch(spec.build())) {
                out.println("host: the container runs as host pid " + container.pid() + ", root " + (rootfs == null ? "/" : rootfs));
                out.print(new String(container.stdout().readAllBytes(), StandardCharsets.UTF_8));
                String errors = new String(container.stderr().readAllBytes(), StandardCharsets.UTF_8);
                if (!errors.isEmpty()) {
                    out.print("stderr: " + errors);
                }
                ExitStatus status = container.waitFor();
                out.println("host: the container " + status);
                return status.shellStatus();
            }
        } finally {
            BusyboxRootfs.delete(rootfs);
        }
    }
}
