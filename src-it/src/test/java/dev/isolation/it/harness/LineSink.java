package dev.isolation.it.harness;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a test JVM's output goes: each line to the console prefixed with the mode, so interleaved
 * logs stay readable in CI, and unprefixed to a log file in the results directory.
 */
final class LineSink implements Closeable {
    private final String prefix;
    private final PrintStream console;
    private final BufferedWriter file;
    private final StringBuilder partial = new StringBuilder();
    private final StringBuilder partialErr = new StringBuilder();

    LineSink(String mode, PrintStream console, Path logFile) throws IOException {
        this.prefix = "[" + mode + "] ";
        this.console = console;
        Files.createDirectories(logFile.getParent());
        this.file = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8);
    }

    /** Takes output in arbitrary chunks; prints whole lines. */
    synchronized void accept(String chunk) {
        accept(chunk, partial);
    }

    /** The same for a second stream (stderr when it is not merged), whose partial lines are kept apart. */
    synchronized void acceptErr(String chunk) {
        accept(chunk, partialErr);
    }

    private void accept(String chunk, StringBuilder buffer) {
        for (int i = 0; i < chunk.length(); i++) {
            char c = chunk.charAt(i);
            if (c == '\n') {
                emit(buffer);
            } else if (c != '\r') {
                buffer.append(c);
            }
        }
    }

    /** A line of the harness's own about this mode. */
    synchronized void note(String line) {
        if (partial.length() > 0) {
            emit(partial);
        }
        partial.append("harness: ").append(line);
        emit(partial);
    }

    private void emit(StringBuilder buffer) {
        String line = buffer.toString();
        buffer.setLength(0);
        console.println(prefix + line);
        try {
            file.write(line);
            file.newLine();
        } catch (IOException e) {
            // the console has it
        }
    }

    @Override
    public synchronized void close() throws IOException {
        for (StringBuilder buffer : new StringBuilder[] {partial, partialErr}) {
            if (buffer.length() > 0) {
                emit(buffer);
            }
        }
        file.close();
        console.flush();
    }
}
