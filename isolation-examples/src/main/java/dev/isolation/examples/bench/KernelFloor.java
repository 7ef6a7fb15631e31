package dev.isolation.examples.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The throughput row {@value #NAME}: the isolated row's kernel work with no launcher at all,
 * {@code kernel-floor.c} (a resource of this jar, built here with {@code cc -O2}) looping in C
 * with no JVM, helper, messages or spares. It is a ceiling for every launcher of that shape on
 * this machine, not a peer: it does less than the library or bwrap (see the source).
 */
final class KernelFloor {
    static final String NAME = "kernel-floor";
    private static final String SOURCE = "kernel-floor.c";
    private static final String DESCRIPTION = "C loop, no launcher: clone into user,pid,mount,uts,ipc namespaces, maps,"
            + " rootfs bind, /proc, /dev tmpfs with 6 nodes, pivot_root, exec ROOTFS/bin/true (" + SOURCE + ", built with cc)";
    private static final Pattern COUNT = Pattern.compile("(?m)^launches (\\d+) seconds ([0-9.]+)$");

    private KernelFloor() {
    }

    /** The row, or an unavailable one when the program cannot be built here (no {@code cc}). */
    static Subject subject(Path rootfs) {
        Path binary;
        try {
            binary = build();
        } catch (IOException e) {
            return Subject.unavailable(NAME, DESCRIPTION, "not built: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Subject.unavailable(NAME, DESCRIPTION, "not built: interrupted");
        }
        return Subject.ofBursts(NAME, DESCRIPTION, (workers, seconds) -> run(binary, rootfs, workers, seconds));
    }

    private static Path build() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("isolation-bench-floor");
        dir.toFile().deleteOnExit();
        Path source = dir.resolve(SOURCE);
        Path binary = dir.resolve("kernel-floor");
        try (InputStream in = KernelFloor.class.getResourceAsStream(SOURCE)) {
            if (in == null) {
                throw new IOException(SOURCE + " is not in the jar");
            }
            Files.copy(in, source, StandardCopyOption.REPLACE_EXISTING);
        }
        source.toFile().deleteOnExit();
        binary.toFile().deleteOnExit();
        Process cc;
        try {
            cc = new ProcessBuilder("cc", "-O2", "-o", binary.toString(), source.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cc is not on PATH (" + e.getMessage() + ")", e);
        }
        String output = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (cc.waitFor() != 0) {
            throw new IOException("cc failed: " + output);
        }
        return binary;
    }

    private static ThroughputBench.Burst run(Path binary, Path rootfs, int workers, double seconds) throws IOException, InterruptedException {
        List<String> command = List.of(binary.toString(), rootfs.toString(), String.format(Locale.ROOT, "%.3f", seconds),
                Integer.toString(workers));
        Process floor = new ProcessBuilder(command).redirectErrorStream(true).start();
        // its output ends when it does
        String output = new String(floor.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (floor.waitFor() != 0) {
            throw new IOException(NAME + " failed: " + output.trim());
        }
        return count(output);
    }

    /** The launches and nanoseconds in the program's output line {@code launches N seconds S}. */
    static ThroughputBench.Burst count(String output) throws IOException {
        Matcher count = COUNT.matcher(output);
        if (!count.find()) {
            throw new IOException(NAME + " printed no count: " + output.trim());
        }
        return new ThroughputBench.Burst(Long.parseLong(count.group(1)), Math.round(Double.parseDouble(count.group(2)) * 1e9));
    }
}
