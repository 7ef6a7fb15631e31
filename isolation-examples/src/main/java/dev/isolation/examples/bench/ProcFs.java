package dev.isolation.examples.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** What {@code /proc} tells about processes' memory and descriptors. Linux only. */
final class ProcFs {
    private ProcFs() {
    }

    /**
     * A process's proportional set size in KiB (shared pages divided among their sharers),
     * from {@code /proc/PID/smaps_rollup}; 0 when the process is gone.
     */
    static long pssKib(long pid) {
        try {
            return field(Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup")), "Pss:");
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/" + pid + "/smaps_rollup", e);
        }
    }

    /** The sum of {@link #pssKib} over {@code pids}. */
    static long pssKib(List<Long> pids) {
        return pids.stream().mapToLong(ProcFs::pssKib).sum();
    }

    /**
     * The JVM's descendants that belong to the library rather than to a sandbox: every
     * descendant that is neither one of {@code sandboxPids} nor below one.
     */
    static List<Long> libraryProcesses(Set<Long> sandboxPids) {
        long self = ProcessHandle.current().pid();
        return ProcessHandle.current().descendants()
                .filter(process -> !underSandbox(process, sandboxPids, self))
                .map(ProcessHandle::pid)
                .sorted()
                .toList();
    }

    private static boolean underSandbox(ProcessHandle process, Set<Long> sandboxPids, long jvm) {
        for (ProcessHandle p = process; p.pid() != jvm; p = p.parent().orElse(ProcessHandle.current())) {
            if (sandboxPids.contains(p.pid())) {
                return true;
            }
        }
        return false;
    }

    /** How many descriptors the JVM holds open. */
    static int openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list /proc/self/fd", e);
        }
    }

    /** The kernel's own memory in KiB, system-wide: slab, kernel stacks and page tables. */
    static long kernelKib() {
        try {
            List<String> meminfo = Files.readAllLines(Path.of("/proc/meminfo"));
            return field(meminfo, "Slab:") + field(meminfo, "KernelStack:") + field(meminfo, "PageTables:");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/meminfo", e);
        }
    }

    /** The number (in kB) on the line starting with {@code key}, e.g. {@code "Pss:    123 kB"}. */
    private static long field(List<String> lines, String key) {
        for (String line : lines) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
            }
        }
        throw new IllegalStateException("no " + key + " line");
    }
}
