package dev.isolation.examples.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The run's circumstances, printed above the tables: figures from different machines differ. */
final class Environment {
    private Environment() {
    }

    static String describe(Path rootfs) {
        long uid = new com.sun.security.auth.module.UnixSystem().getUid();
        String mechanism = System.getProperty("jdk.lang.Process.launchMechanism", "POSIX_SPAWN (default)");
        return String.format(Locale.ROOT, "isolation bench: %s %s, %d CPUs, uid %d%s; %s %s; ProcessBuilder launchMechanism=%s%n"
                + "rootfs %s (static busybox); the host has %d mounts (a new mount namespace copies them all)%n%n",
                System.getProperty("os.name"), System.getProperty("os.version"), Runtime.getRuntime().availableProcessors(), uid,
                uid == 0 ? " (root)" : " (unprivileged)", System.getProperty("java.vm.name"), System.getProperty("java.version"),
                mechanism, rootfs, mountCount());
    }

    private static int mountCount() {
        try {
            List<String> mounts = Files.readAllLines(Path.of("/proc/self/mountinfo"));
            return mounts.size();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self/mountinfo", e);
        }
    }
}
