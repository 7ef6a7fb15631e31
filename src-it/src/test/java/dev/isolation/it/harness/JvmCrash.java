package dev.isolation.it.harness;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a test JVM that died before reporting left behind: the test it was in, and the heart of its
 * fatal-error log. CI shows only the tail of a run, so this goes into the mode's one-line note
 * rather than staying in a file that is deleted with the mode's scratch directory.
 */
final class JvmCrash {
    /** Where {@link TestJvm#command} tells HotSpot to write its fatal-error log ({@code %p}: the pid). */
    static final String ERROR_FILE_PATTERN = "hs_err_pid%p.log";

    private static final int FRAMES = 8;

    private JvmCrash() {
    }

    /**
     * A sentence on why the JVM that wrote to {@code out} ended with {@code exit}: the running test,
     * the signal behind an exit above 128, and, when HotSpot wrote a fatal-error log, its error line,
     * problematic frame, thread, signal details (code and faulting address), stack pointer and first
     * frames. Empty when there is nothing to add.
     */
    static String describe(Path out, int exit) {
        List<String> parts = new ArrayList<>();
        String current = ModeRunner.currentTest(out);
        if (current != null) {
            parts.add("during " + current);
        }
        if (exit > 128) {
            parts.add("signal " + (exit - 128) + signalName(exit - 128));
        }
        Path log = errorLog(out);
        if (log == null) {
            if (exit == 134) {
                parts.add("no HotSpot error log, so an abort() outside the JVM's own checks (glibc, native code) or a SIGABRT from outside");
            }
        } else {
            parts.add(summary(log));
        }
        return String.join("; ", parts);
    }

    private static String signalName(int signal) {
        return switch (signal) {
            case 6 -> " (SIGABRT)";
            case 9 -> " (SIGKILL)";
            case 11 -> " (SIGSEGV)";
            case 15 -> " (SIGTERM)";
            default -> "";
        };
    }

    private static Path errorLog(Path out) {
        try (Stream<Path> files = Files.list(out)) {
            return files.filter(p -> p.getFileName().toString().matches("hs_err_pid\\d+\\.log")).findFirst().orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    /** The lines of a HotSpot error log that say what failed and where, joined with " | ". */
    static String summary(Path log) {
        List<String> lines;
        try {
            lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "HotSpot error log " + log + " unreadable: " + e.getMessage();
        }
        List<String> picked = new ArrayList<>();
        boolean framesTaken = false; // the first section of frames only; siginfo and registers follow them
        boolean stackPointerTaken = false;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.startsWith("#  SIG") || line.startsWith("#  Internal Error") || line.startsWith("#  Error:")
                    || line.startsWith("#  Out of Memory") || line.startsWith("# Native memory allocation")
                    || line.startsWith("#  fatal error") || line.startsWith("#  guarantee") || line.startsWith("#  assert")) {
                picked.add(line.substring(1).trim());
            } else if (line.startsWith("# Problematic frame:") && i + 1 < lines.size()) {
                picked.add("frame " + lines.get(i + 1).substring(1).trim());
            } else if (line.startsWith("Current thread") || line.startsWith("siginfo:")) {
                picked.add(line);
            } else if (line.startsWith("RSP=") && !stackPointerTaken) {
                // the faulting address against the stack pointer tells a stack bang from a wild access
                // (the first one is the register dump's; "Register to memory mapping" repeats it)
                picked.add(line.split(",")[0]);
                stackPointerTaken = true;
            } else if ((line.startsWith("Native frames:") || line.startsWith("Java frames:")) && !framesTaken) {
                int taken = 0;
                for (int j = i + 1; j < lines.size() && taken < FRAMES && !lines.get(j).isBlank(); j++) {
                    picked.add(lines.get(j).trim());
                    taken++;
                }
                framesTaken = true;
            }
        }
        return "HotSpot error log: " + (picked.isEmpty() ? "(no summary found)" : String.join(" | ", picked));
    }
}
