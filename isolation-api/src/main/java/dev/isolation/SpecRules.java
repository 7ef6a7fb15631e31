package dev.isolation;

import java.util.List;
import java.util.Map;

/** The rules {@link IsolatedProcessSpec} and {@link JoinSpec} share, each failing with the field's name. */
final class SpecRules {
    private SpecRules() {
    }

    static void checkCommand(List<String> command) {
        if (command.isEmpty()) {
            throw new InvalidSpecException("command", "must name an executable");
        }
        if (command.get(0).isEmpty()) {
            throw new InvalidSpecException("command", "the executable must not be an empty string");
        }
        for (String argument : command) {
            if (argument.indexOf('\0') >= 0) {
                throw new InvalidSpecException("command", "arguments must not contain NUL characters");
            }
        }
    }

    static void checkEnvironment(Map<String, String> environment) {
        environment.forEach((name, value) -> {
            if (name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
                throw new InvalidSpecException("environment", "a variable name must be non-empty and contain neither '=' nor NUL, got \"" + name + "\"");
            }
            if (value.indexOf('\0') >= 0) {
                throw new InvalidSpecException("environment", "the value of " + name + " must not contain NUL characters");
            }
        });
    }

    static void checkInsidePath(String field, String path) {
        if (!path.startsWith("/")) {
            throw new InvalidSpecException(field, "must be an absolute path inside the sandbox, got \"" + path + "\"");
        }
        if (path.indexOf('\0') >= 0) {
            throw new InvalidSpecException(field, "must not contain NUL characters");
        }
        for (String segment : path.split("/")) {
            if (segment.equals("..") || segment.equals(".")) {
                throw new InvalidSpecException(field, "must not contain . or .. segments, got \"" + path + "\"");
            }
        }
    }

    static void checkRedirects(Redirect stdin, Redirect stdout, Redirect stderr) {
        if (stdin.kind() == Redirect.Kind.WRITE_FILE || stdin.kind() == Redirect.Kind.APPEND_FILE) {
            throw new InvalidSpecException("stdin", "must be read from a file (Redirect.from), got " + stdin);
        }
        if (stdout.kind() == Redirect.Kind.READ_FILE) {
            throw new InvalidSpecException("stdout", "cannot read from a file; use Redirect.to or Redirect.appendTo");
        }
        if (stderr.kind() == Redirect.Kind.READ_FILE) {
            throw new InvalidSpecException("stderr", "cannot read from a file; use Redirect.to or Redirect.appendTo");
        }
    }
}
