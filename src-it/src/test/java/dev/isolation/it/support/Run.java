package dev.isolation.it.support;

import dev.isolation.ExitStatus;
import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Isolation;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** Runs a spec to completion and captures its output. */
public record Run(ExitStatus status, String stdout, String stderr, long pid) {

    public static Run of(IsolatedProcessSpec spec) {
        try (IsolatedProcess process = Isolation.launcher().launch(spec)) {
            process.stdin().close();
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(process.stderr()));
            String out = drain(process.stdout());
            ExitStatus status = process.waitFor(Duration.ofSeconds(60))
                    .orElseThrow(() -> new AssertionError("sandbox still runs after 60 s: " + spec.command()));
            return new Run(status, out, err.join(), process.pid());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static String drain(InputStream in) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return status + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
}
