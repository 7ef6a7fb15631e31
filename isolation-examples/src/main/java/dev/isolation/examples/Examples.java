package dev.isolation.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;

/** {@code isolation example NAME}: runs one of the example programs. */
final class Examples {
    private Examples() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) {
        String name = args.isEmpty() ? "mini-container" : args.get(0);
        try {
            return switch (name) {
                case "mini-container" -> MiniContainerExample.run(out);
                case "build-step" -> BuildStepExample.run(out);
                case "test-helper" -> TestHelperExample.run(out);
                default -> {
                    err.println("isolation: no example " + name + "; try mini-container, build-step or test-helper");
                    yield Main.SETUP_FAILED;
                }
            };
        } catch (IOException | RuntimeException e) {
            err.println("isolation: example " + name + " failed: " + e.getMessage());
            return Main.SETUP_FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.SETUP_FAILED;
        }
    }
}
