package dev.isolation.it.harness;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** What one test JVM reports: counts, and the names and messages of failures and skips. */
public record ModeResult(int passed, int failed, int skipped, long millis, List<Entry> failures, List<Entry> skips) {

    /** A failed or skipped test (or class): its name, message and, for failures, the stack trace. */
    public record Entry(String name, String message, String trace) {
    }

    public int total() {
        return passed + failed + skipped;
    }

    void write(Path file) throws IOException {
        Properties p = new Properties();
        p.setProperty("passed", Integer.toString(passed));
        p.setProperty("failed", Integer.toString(failed));
        p.setProperty("skipped", Integer.toString(skipped));
        p.setProperty("millis", Long.toString(millis));
        putEntries(p, "failure", failures);
        putEntries(p, "skip", skips);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            p.store(w, "isolation integration test results");
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    static ModeResult read(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        return new ModeResult(Integer.parseInt(p.getProperty("passed", "0")), Integer.parseInt(p.getProperty("failed", "0")),
                Integer.parseInt(p.getProperty("skipped", "0")), Long.parseLong(p.getProperty("millis", "0")),
                entries(p, "failure"), entries(p, "skip"));
    }

    private static void putEntries(Properties p, String prefix, List<Entry> entries) {
        p.setProperty(prefix + ".count", Integer.toString(entries.size()));
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            p.setProperty(prefix + "." + i + ".name", e.name());
            p.setProperty(prefix + "." + i + ".message", e.message());
            p.setProperty(prefix + "." + i + ".trace", e.trace());
        }
    }

    private static List<Entry> entries(Properties p, String prefix) {
        int count = Integer.parseInt(p.getProperty(prefix + ".count", "0"));
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            entries.add(new Entry(p.getProperty(prefix + "." + i + ".name", "?"), p.getProperty(prefix + "." + i + ".message", ""),
                    p.getProperty(prefix + "." + i + ".trace", "")));
        }
        return entries;
    }
}
