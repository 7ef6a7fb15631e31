package dev.isolation.it.harness;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A copy of the test classpath (test classes, classes, every dependency jar including isolation-linux's
 * with the native helper inside) in a fresh world-readable directory under /tmp. The unprivileged user
 * could not read the originals where they live under /root/.m2 or a root-only checkout, and the
 * containers get this same copy by a read-only bind mount, so every mode runs exactly the same bytes.
 */
final class Staging {
    private final Path root;
    private final List<String> entries;
    private final String testClasses;

    private Staging(Path root, List<String> entries, String testClasses) {
        this.root = root;
        this.entries = entries;
        this.testClasses = testClasses;
    }

    static Staging create(String classpath, Path testClasses) throws IOException {
        Path root = Files.createTempDirectory("isolation-it-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path cp = Files.createDirectory(root.resolve("cp"));
        List<String> entries = new ArrayList<>();
        String testClassesEntry = null;
        int index = 0;
        for (String element : classpath.split(File.pathSeparator)) {
            if (element.isBlank()) {
                continue;
            }
            Path source = Path.of(element).toAbsolutePath().normalize();
            if (!Files.exists(source)) {
                continue; // e.g. target/classes of a module without main sources
            }
            String name = String.format("%03d-%s", index++, source.getFileName());
            copy(source, cp.resolve(name));
            entries.add(name);
            boolean isTestClasses = testClasses != null ? source.equals(testClasses.normalize())
                    : Files.isDirectory(source) && source.getFileName().toString().equals("test-classes");
            if (isTestClasses && testClassesEntry == null) {
                testClassesEntry = name;
            }
        }
        if (testClassesEntry == null) {
            throw new IllegalStateException("the test classes (" + (testClasses == null ? "target/test-classes" : testClasses)
                    + ") are not on the classpath: " + classpath);
        }
        makeReadable(root);
        return new Staging(root, entries, testClassesEntry);
    }

    Path root() {
        return root;
    }

    Path cpDir() {
        return root.resolve("cp");
    }

    /** The classpath, with the staged entries under base (the staging directory itself or a mount point). */
    String classpath(String base) {
        List<String> paths = new ArrayList<>();
        for (String entry : entries) {
            paths.add(base + "/" + entry);
        }
        return String.join(File.pathSeparator, paths);
    }

    String testClasses(String base) {
        return base + "/" + testClasses;
    }

    int size() {
        return entries.size();
    }

    /** A new directory for one mode's results and log; writable by everyone, as the test user must write it. */
    Path outDir(Mode mode) throws IOException {
        Path dir = root.resolve("out").resolve(mode.id());
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(root.resolve("out"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        return dir;
    }

    void delete() {
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // files a test left behind as another user; /tmp is cleaned eventually
                }
            });
        } catch (IOException e) {
            // nothing to clean
        }
    }

    private static void copy(Path source, Path target) throws IOException {
        if (!Files.isDirectory(source)) {
            Files.copy(source, target);
            return;
        }
        try (Stream<Path> walk = Files.walk(source)) {
            walk.forEach(p -> {
                try {
                    Path t = target.resolve(source.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(t);
                    } else {
                        Files.copy(p, t);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    private static void makeReadable(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                boolean dir = Files.isDirectory(p);
                boolean exec = dir || Files.isExecutable(p);
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(exec ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }
}
