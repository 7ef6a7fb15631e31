package dev.isolation.it.support;

import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Isolation;
import dev.isolation.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A child JVM for LifecycleIT, started with {@code -Disolation.trace=FILE}: launches
 * {@code true} several times one after another (the first is cloned directly, later ones come
 * from spares), then one sandbox that lists its own open descriptors, printed as
 * {@code fds LIST}, and finally {@code DONE}. Arguments: {@code ROOTFS COUNT}.
 */
public final class TracedLaunches {
    private TracedLaunches() {
    }

    public static void main(String[] args) throws Exception {
        Path rootfs = Path.of(args[0]);
        int count = Integer.parseInt(args[1]);
        IsolatedProcessSpec plain = IsolatedProcessSpec.builder().command("/bin/true").rootfs(rootfs)
                .stdin(Redirect.DISCARD).stdout(Redirect.DISCARD).stderr(Redirect.DISCARD).build();
        for (int i = 0; i < count; i++) {
            try (IsolatedProcess process = Isolation.launcher().launch(plain)) {
                if (!process.waitFor().succeeded()) {
                    throw new IllegalStateException("launch " + i + ": " + process.waitFor());
                }
            }
            Thread.sleep(20); // time for a spare to be made and its root built
        }
        IsolatedProcessSpec listing = IsolatedProcessSpec.builder().command("/bin/ls", "/proc/self/fd").rootfs(rootfs)
                .stdin(Redirect.DISCARD).stdout(Redirect.PIPE).stderr(Redirect.DISCARD).build();
        try (IsolatedProcess process = Isolation.launcher().launch(listing)) {
            String fds = new String(process.stdout().readAllBytes(), StandardCharsets.UTF_8).trim().replaceAll("\\s+", " ");
            System.out.println("fds " + fds + " exit " + process.waitFor());
        }
        System.out.println("DONE");
    }
}
