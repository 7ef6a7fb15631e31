package dev.isolation.it.harness;

import java.util.ArrayList;
import java.util.List;

/** Linux capability numbers and names (linux/capability.h), to turn a CapBnd mask into docker CapAdd names. */
public final class Capabilities {
    /** Index = capability number. */
    static final List<String> NAMES = List.of(
            "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
            "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
            "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
            "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
            "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
            "CHECKPOINT_RESTORE");

    public static final int SYS_ADMIN = 21;

    private Capabilities() {
    }

    /** The names of the capabilities set in mask, lowest first; unnamed (future) bits are left out. */
    public static List<String> names(long mask) {
        List<String> names = new ArrayList<>();
        for (int bit = 0; bit < NAMES.size(); bit++) {
            if ((mask & (1L << bit)) != 0) {
                names.add(NAMES.get(bit));
            }
        }
        return names;
    }

    /** The names of the known capabilities NOT set in mask. */
    public static List<String> missing(long mask) {
        List<String> names = new ArrayList<>();
        for (int bit = 0; bit < NAMES.size(); bit++) {
            if ((mask & (1L << bit)) == 0) {
                names.add(NAMES.get(bit));
            }
        }
        return names;
    }

    public static boolean has(long mask, int bit) {
        return (mask & (1L << bit)) != 0;
    }
}
