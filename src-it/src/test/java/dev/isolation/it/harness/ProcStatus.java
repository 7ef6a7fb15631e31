package dev.isolation.it.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Fields of /proc/self/status: ids and capability sets of this JVM. */
public final class ProcStatus {
    private ProcStatus() {
    }

    public static int effectiveUid() {
        return Integer.parseInt(field("Uid:").split("\\s+")[1]);
    }

    public static int effectiveGid() {
        return Integer.parseInt(field("Gid:").split("\\s+")[1]);
    }

    /** A capability set (CapEff, CapBnd, ...) as a bit mask. */
    public static long capabilities(String set) {
        return Long.parseUnsignedLong(field(set + ":"), 16);
    }

    static String field(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    return line.substring(key.length()).trim();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException(key + " missing from /proc/self/status");
    }
}
