package dev.isolation.it.harness;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test JVM directly on the host: as root (host-root), or as the unprivileged user
 * {@value #USER} (host-user), which is created when missing, with subordinate uid/gid ranges, and
 * switched to with setpriv. When the runner itself is not root, host-user runs as the runner's user.
 */
final class HostRunner {
    static final String USER = "isolation-it";
    private static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private final Settings settings;
    private final Set<Process> running = ConcurrentHashMap.newKeySet();

    HostRunner(Settings settings) {
        this.settings = settings;
        Runtime.getRuntime().addShutdownHook(new Thread(this::killAll, "kill test JVMs"));
    }

    /** When the runner is stopped (Ctrl-C, a CI timeout), the test JVMs it started go with it. */
    private void killAll() {
        for (Process process : running) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    /** Why the mode cannot run here, or null. */
    String unavailable(Mode mode) {
        int euid = ProcStatus.effectiveUid();
        if (mode == Mode.HOST_ROOT && euid != 0) {
            return "not root (euid " + euid + "): run the build as root for host-root";
        }
        if (mode == Mode.HOST_USER && euid == 0 && !Files.isExecutable(Path.of("/usr/bin/setpriv"))) {
            return "setpriv (util-linux) is missing, cannot switch to user " + USER;
        }
        return null;
    }

    Outcome run(Mode mode, Staging staging, LineSink sink) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Path out = staging.outDir(mode);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        boolean switchUser = mode == Mode.HOST_USER && ProcStatus.effectiveUid() == 0;
        int uid = ProcStatus.effectiveUid();
        List<String> command = new ArrayList<>();
        ProcessBuilder builder = new ProcessBuilder();
        if (switchUser) {
            int[] ids = ensureUser(sink);
            uid = ids[0];
            Files.setOwner(out, out.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(USER));
            command.addAll(List.of("/usr/bin/setpriv", "--reuid=" + ids[0], "--regid=" + ids[1], "--init-groups", "--"));
            Map<String, String> env = builder.environment();
            env.clear();
            env.put("PATH", PATH);
            env.put("HOME", home());
            env.put("USER", USER);
            env.put("LOGNAME", USER);
            env.put("SHELL", "/bin/sh");
        }
        command.addAll(TestJvm.command(java, mode, staging.classpath(staging.cpDir().toString()),
                staging.testClasses(staging.cpDir().toString()), out.toString(), settings.tests()));
        builder.environment().putAll(TestJvm.environment(mode, uid));
        builder.command(command).directory(out.toFile()).redirectErrorStream(true);
        sink.note("starting the test JVM as uid " + uid + (switchUser ? " (" + USER + ", via setpriv)" : ""));

        Process process = builder.start();
        running.add(process);
        int exit;
        String timedOut = null;
        try {
            Thread pump = pump(process.getInputStream(), sink);
            boolean finished = process.waitFor(settings.modeTimeoutSeconds(), TimeUnit.SECONDS);
            if (!finished) {
                timedOut = timeout(process, out, sink, settings.modeTimeoutSeconds());
            }
            exit = process.waitFor();
            pump.join(5000);
        } finally {
            running.remove(process);
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        return ModeRunner.collect(mode, out, exit, timedOut, millis);
    }

    /** SIGQUIT for a thread dump of the hung JVM, then SIGKILL for it and everything it started. */
    static String timeout(Process process, Path out, LineSink sink, long seconds) throws InterruptedException {
        String current = ModeRunner.currentTest(out);
        sink.note("timed out after " + seconds + " s" + (current == null ? "" : " in " + current) + "; thread dump follows");
        try {
            new ProcessBuilder("kill", "-QUIT", Long.toString(process.pid())).inheritIO().start().waitFor();
            Thread.sleep(3000);
        } catch (IOException e) {
            // no thread dump then
        }
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        return "timed out after " + seconds + " s" + (current == null ? "" : " in " + current);
    }

    static Thread pump(InputStream in, LineSink sink) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buffer)) > 0) {
                    sink.accept(new String(buffer, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                // process gone
            }
        }, "output pump");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** The uid and gid of {@value #USER}; creates the user, and its subordinate id ranges, when missing. */
    static int[] ensureUser(LineSink sink) throws IOException, InterruptedException {
        if (run("id", "-u", USER) == null) {
            String created = run("useradd", "--create-home", "--user-group", "--shell", "/bin/sh", USER);
            if (created == null) {
                throw new IllegalStateException("useradd " + USER + " failed");
            }
            sink.note("created user " + USER);
        }
        for (String file : List.of("/etc/subuid", "/etc/subgid")) {
            if (!hasRange(Path.of(file))) {
                long first = nextFreeRange();
                String flag = file.endsWith("uid") ? "--add-subuids" : "--add-subgids";
                if (run("usermod", flag, first + "-" + (first + 65535), USER) != null) {
                    sink.note("gave " + USER + " the range " + first + "+65536 in " + file);
                } else {
                    sink.note("could not add a range for " + USER + " to " + file + "; rootless mappings may fail");
                }
            }
        }
        return new int[] {Integer.parseInt(run("id", "-u", USER).trim()), Integer.parseInt(run("id", "-g", USER).trim())};
    }

    static String home() {
        try {
            String entry = run("getent", "passwd", USER);
            if (entry != null && entry.split(":").length > 5) {
                return entry.split(":")[5].trim();
            }
        } catch (IOException | InterruptedException e) {
            // fall through
        }
        return "/home/" + USER;
    }

    private static boolean hasRange(Path file) throws IOException {
        if (!Files.exists(file)) {
            return false;
        }
        return Files.readAllLines(file).stream().anyMatch(line -> line.startsWith(USER + ":"));
    }

    /** The first multiple of 65536 at or above 100000 after every range in /etc/subuid and /etc/subgid. */
    private static long nextFreeRange() throws IOException {
        long end = 100000;
        for (String file : List.of("/etc/subuid", "/etc/subgid")) {
            Path p = Path.of(file);
            if (!Files.exists(p)) {
                continue;
            }
            for (String line : Files.readAllLines(p)) {
                String[] f = line.split(":");
                if (f.length == 3) {
                    try {
                        end = Math.max(end, Long.parseLong(f[1].trim()) + Long.parseLong(f[2].trim()));
                    } catch (NumberFormatException e) {
                        // not a range
                    }
                }
            }
        }
        return (end + 65535) / 65536 * 65536;
    }

    /** Output of a command, or null when it fails. */
    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try (InputStream in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        return p.waitFor() == 0 ? output : null;
    }
}
