package dev.isolation.examples;

import dev.isolation.ExitStatus;
import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Isolation;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;

/**
 * A test harness running a helper process in its own network namespace: the helper has a
 * loopback of its own, so it can listen on any port without clashing with the host or with
 * other helpers, and cannot reach the host's services.
 */
public final class TestHelperExample {
    private TestHelperExample() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(System.out));
    }

    static int run(PrintStream out) throws IOException, InterruptedException {
        try (ServerSocket hostService = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = hostService.getLocalPort();
            out.println("host: a service listens on 127.0.0.1:" + port);
            IsolatedProcessSpec helper = IsolatedProcessSpec.builder()
                    .command("/bin/sh", "-c", "cat /proc/net/dev | tail -n +3 | cut -d: -f1;"
                            + " busybox nc -w 1 127.0.0.1 " + port + " </dev/null && echo 'reached the host' || echo 'host service unreachable';"
                            + " busybox nc -l -p " + port + " -w 1 & sleep 0.2;"
                            + " echo hello | busybox nc -w 1 127.0.0.1 " + port + " && echo 'own listener on the same port works'; wait")
                    .build(); // the default namespaces include a new network namespace
            try (IsolatedProcess process = Isolation.launcher().launch(helper)) {
                out.print(new String(process.stdout().readAllBytes(), StandardCharsets.UTF_8));
                ExitStatus status = process.waitFor();
                out.println("helper " + status);
                return status.shellStatus();
            }
        }
    }
}
