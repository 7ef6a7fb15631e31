package dev.isolation.it.harness;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs a test JVM in a qemu virtual machine that boots the host's Debian kernel on pure cgroup v2
 * (cgroup_no_v1=all), so the library's cgroup code meets a real cgroup v2 kernel on a host that
 * has hybrid cgroups. The modes:
 * <ul>
 * <li>{@code vm-cgroup2}: as root, in the leaf cgroup /{@value #ROOT_CGROUP}, with no controller
 * enabled anywhere;</li>
 * <li>{@code vm-cgroup2-user}: as {@value HostRunner#USER} (the build's own user when the build
 * is not root), in /{@value #USER_CGROUP}, a cgroup delegated to that user as systemd's
 * Delegate=yes would: memory, pids and cpu enabled in the root's subtree_control, the directory and
 * its cgroup.procs, cgroup.subtree_control and cgroup.threads owned by the user, and the JVM alone in it.</li>
 * </ul>
 *
 * <h2>How</h2>
 * qemu ({@code -accel tcg,thread=single} unless -Disolation.it.vmAccel says otherwise; CPU model qemu64, as
 * JIT-compiled code on TCG's emulated AVX2 of "max" crashed once; 2 vCPUs, 2 GiB) boots
 * /boot/vmlinuz-RELEASE with an initramfs built here ({@link VmImage}). The host's root file system
 * is shared read-only over 9p (tag "host"), the mode's output directory read-write (tag "out").
 * src-it/vm/init.sh mounts them, with tmpfs on /tmp, /var/tmp, /run, /root and the user's home,
 * the staging directory kept visible at its own path, and cgroup2 on /sys/fs/cgroup, then
 * switch_roots into the host root; src-it/vm/stage2.sh prepares the cgroup and runs {@code job.sh},
 * written here: the same JDK, the same staged classpath, {@link ModeMain} with the VM's test
 * selection. Results come back in the output directory (results.properties, as in every mode; and
 * vm-booted, vm-exit, vm-facts.properties), the console over the serial port on qemu's stdout.
 * The VM powers itself off; on a timeout the runner kills qemu by its pid.
 *
 * <p>Why one TCG thread: with qemu 7.2's default multi-threaded TCG (a host thread per vCPU), the
 * test JVM in the VM died of SIGSEGV in 3 of 20 starts (ProcessIT in both VM modes, ten times):
 * twice at the verified entry of a freshly C1-compiled method with a faulting address unrelated to
 * the stack, once jumping into the Java heap. That is what executing stale translations of the
 * JIT's rewritten code cache looks like; with {@code thread=single} (both vCPUs on one host
 * thread) 0 of 20 crashed, and so did 0 of 8 with one vCPU. Both take about twice as long.
 *
 * <h2>When it cannot run</h2>
 * No qemu, no kernel, no static busybox, a VM that does not boot: a skipped mode with the reason,
 * locally; a failed mode with CI=true.
 */
final class VmRunner {
    static final String ROOT_CGROUP = "isolation-it";
    static final String USER_CGROUP = "isolation-user";
    static final String BOOTED_FILE = "vm-booted";
    static final String EXIT_FILE = "vm-exit";
    static final String FACTS_FILE = "vm-facts.properties";
    static final String FAILURE_FILE = "vm-failure";
    static final String JOB_FILE = "job.sh";
    private static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final String BUSYBOX = "/bin/busybox";
    /** Where the VM has a tmpfs instead of the host's directory (init.sh), besides the test user's home. */
    private static final List<String> COVERED = List.of("/tmp", "/var/tmp", "/run", "/root");
    private static final String KERNEL_ARGS = "console=ttyS0 quiet loglevel=4 panic=-1 systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all";

    private final Settings settings;
    private final Settings.Vm vm;
    private final PrintStream console;
    private final Set<Process> running = ConcurrentHashMap.newKeySet();
    private boolean checked;
    private String unavailable;
    private String qemu;
    private VmImage.Kernel kernel;

    VmRunner(Settings settings, PrintStream console) {
        this.settings = settings;
        this.vm = settings.vm();
        this.console = console;
        Runtime.getRuntime().addShutdownHook(new Thread(this::killAll, "kill VMs"));
    }

    private void killAll() {
        for (Process process : running) {
            process.destroyForcibly();
        }
    }

    // ---- which tests ----

    /** The VM's tests: the classes of the list that exist and match the runner's -Disolation.it.tests, as one regex. */
    record Selection(List<String> classes, List<String> missing, List<String> filtered, String regex) {
        boolean isEmpty() {
            return classes.isEmpty();
        }

        String describe() {
            StringBuilder sb = new StringBuilder(classes.isEmpty() ? "no test classes" : String.join(", ", simpleNames(classes)));
            if (!missing.isEmpty()) {
                sb.append("; not present (yet): ").append(String.join(", ", missing));
            }
            if (!filtered.isEmpty()) {
                sb.append("; left out by -Disolation.it.tests: ").append(String.join(", ", filtered));
            }
            return sb.toString();
        }

        private static List<String> simpleNames(List<String> classes) {
            return classes.stream().map(c -> c.substring(c.lastIndexOf('.') + 1)).toList();
        }
    }

    /**
     * Resolves the names of -Disolation.it.vmTests (simple names like ProcessIT, or fully qualified) against
     * the compiled test classes: a name whose class file does not exist is left out and listed as missing, so
     * a test class another change adds (ResourceLimitsIT) is picked up as soon as it is compiled.
     */
    static Selection select(List<String> names, String testsRegex, Path testClasses) throws IOException {
        Map<String, String> bySimpleName = new LinkedHashMap<>();
        if (Files.isDirectory(testClasses)) {
            try (Stream<Path> walk = Files.walk(testClasses)) {
                for (Path file : (Iterable<Path>) walk::iterator) {
                    String relative = testClasses.relativize(file).toString();
                    if (relative.endsWith(".class") && !relative.contains("$")) {
                        String fqcn = relative.substring(0, relative.length() - ".class".length()).replace('/', '.');
                        bySimpleName.putIfAbsent(fqcn.substring(fqcn.lastIndexOf('.') + 1), fqcn);
                        bySimpleName.putIfAbsent(fqcn, fqcn);
                    }
                }
            }
        }
        Pattern filter = Pattern.compile(testsRegex);
        List<String> classes = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        List<String> filtered = new ArrayList<>();
        for (String name : names) {
            String wanted = name.trim();
            if (wanted.isEmpty()) {
                continue;
            }
            String fqcn = bySimpleName.get(wanted);
            if (fqcn == null) {
                missing.add(wanted);
            } else if (!filter.matcher(fqcn).matches()) {
                filtered.add(wanted);
            } else if (!classes.contains(fqcn)) {
                classes.add(fqcn);
            }
        }
        String regex = classes.isEmpty() ? "(?!)" : String.join("|", classes.stream().map(Pattern::quote).toList());
        return new Selection(List.copyOf(classes), List.copyOf(missing), List.copyOf(filtered), regex);
    }

    // ---- can it run ----

    /** Why the VM modes cannot run here, or null. Throws when the harness itself is incomplete. */
    synchronized String unavailable(Mode mode) {
        Path init = vm.scripts().resolve("init.sh");
        Path stage2 = vm.scripts().resolve("stage2.sh");
        if (!Files.isRegularFile(init) || !Files.isRegularFile(stage2)) {
            throw new IllegalStateException("the VM scripts are missing: " + init + ", " + stage2 + " (-Disolation.it.vmScripts)");
        }
        if (!checked) {
            checked = true;
            unavailable = check();
        }
        if (unavailable == null && !mode.root() && ProcStatus.effectiveUid() == 0 && !Files.isExecutable(Path.of("/usr/bin/setpriv"))) {
            return "setpriv (util-linux) is missing, cannot switch to user " + HostRunner.USER + " in the VM";
        }
        return unavailable;
    }

    private String check() {
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        if (!arch.equals("amd64") && !arch.equals("x86_64")) {
            return "the VM modes boot an x86_64 kernel with qemu-system-x86_64; this JVM runs on " + arch;
        }
        qemu = findExecutable(vm.qemu());
        if (qemu == null) {
            return vm.qemu() + " is not installed (apt-get install qemu-system-x86)";
        }
        if (vm.accel().startsWith("kvm") && !Files.isWritable(Path.of("/dev/kvm"))) {
            return "-Disolation.it.vmAccel=" + vm.accel() + " but /dev/kvm is not usable";
        }
        try {
            kernel = VmImage.findKernel(vm.kernel(), Path.of("/boot"), Path.of("/lib/modules"));
        } catch (IllegalStateException | IOException e) {
            return e.getMessage();
        }
        Path busybox = Path.of(BUSYBOX);
        if (!Files.isExecutable(busybox)) {
            return "no " + BUSYBOX + " (apt-get install busybox-static)";
        }
        try {
            if (isDynamic(busybox)) {
                return BUSYBOX + " is dynamically linked and cannot run in the initramfs (apt-get install busybox-static)";
            }
        } catch (IOException e) {
            return "cannot read " + BUSYBOX + ": " + e.getMessage();
        }
        return null;
    }

    /** An executable named on PATH (or a path). */
    static String findExecutable(String name) {
        if (name.contains("/")) {
            return Files.isExecutable(Path.of(name)) ? name : null;
        }
        String path = System.getenv().getOrDefault("PATH", "") + ":" + PATH;
        for (String dir : path.split(":")) {
            if (!dir.isBlank() && Files.isExecutable(Path.of(dir, name))) {
                return Path.of(dir, name).toString();
            }
        }
        return null;
    }

    /** Whether an x86_64 ELF executable asks for a program interpreter (PT_INTERP): a dynamic one. */
    static boolean isDynamic(Path elf) throws IOException {
        try (FileChannel channel = FileChannel.open(elf, StandardOpenOption.READ)) {
            ByteBuffer header = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(header, 0);
            if (header.get(0) != 0x7f || header.get(1) != 'E' || header.get(2) != 'L' || header.get(3) != 'F' || header.get(4) != 2) {
                throw new IOException(elf + " is not a 64-bit ELF file");
            }
            long phoff = header.getLong(0x20);
            int phentsize = Short.toUnsignedInt(header.getShort(0x36));
            int phnum = Short.toUnsignedInt(header.getShort(0x38));
            ByteBuffer entry = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < phnum; i++) {
                entry.clear();
                channel.read(entry, phoff + (long) i * phentsize);
                if (entry.getInt(0) == 3) {
                    return true;
                }
            }
            return false;
        }
    }

    // ---- a run ----

    /** The user the test JVM runs as in the VM. */
    record User(int uid, int gid, String name, String home) {
    }

    private User user(Mode mode, LineSink sink) throws IOException, InterruptedException {
        if (mode.root()) {
            return new User(0, 0, "root", "/root");
        }
        if (ProcStatus.effectiveUid() == 0) {
            int[] ids = HostRunner.ensureUser(sink);
            return new User(ids[0], ids[1], HostRunner.USER, HostRunner.home());
        }
        return new User(ProcStatus.effectiveUid(), ProcStatus.effectiveGid(), System.getProperty("user.name"), System.getProperty("user.home"));
    }

    Outcome run(Mode mode, Staging staging, Selection selection, LineSink sink) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Path out = staging.outDir(mode);
        for (String stale : List.of(BOOTED_FILE, EXIT_FILE, FACTS_FILE, FAILURE_FILE, ModeMain.RESULTS_FILE, ModeMain.CURRENT_TEST_FILE)) {
            Files.deleteIfExists(out.resolve(stale));
        }
        User user = user(mode, sink);
        String cgroup = mode.root() ? ROOT_CGROUP : USER_CGROUP;
        sink.note("kernel " + kernel.image() + " (" + kernel.release() + "), tests: " + selection.describe());

        // the job: the test JVM's environment and command line, run by stage2.sh
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = staging.cpDir().toString();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", PATH);
        env.put("HOME", user.home());
        env.put("USER", user.name());
        env.put("LOGNAME", user.name());
        env.put("SHELL", "/bin/sh");
        env.putAll(TestJvm.environment(mode, user.uid()));
        env.put(Mode.ENV_VM_CGROUP, "/" + cgroup);
        List<String> command = TestJvm.command(java, mode, staging.classpath(cp), staging.testClasses(cp), out.toString(), selection.regex(),
                vm.jvmOptions());
        Files.writeString(out.resolve(JOB_FILE), jobScript(mode, out, env, command), StandardCharsets.UTF_8);

        // the initramfs, with this run's configuration
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("MODE", mode.id());
        conf.put("STAGING", staging.root().toString());
        conf.put("OUT", out.toString());
        conf.put("JOB", out.resolve(JOB_FILE).toString());
        conf.put("TEST_UID", Integer.toString(user.uid()));
        conf.put("TEST_GID", Integer.toString(user.gid()));
        conf.put("TEST_HOME", user.uid() == 0 ? "" : user.home());
        conf.put("CGROUP", cgroup);
        conf.put("DELEGATE", mode.root() ? "no" : "yes");
        conf.put("KEEP", keep(user));
        for (String value : conf.values()) {
            if (value.matches(".*[\\s'\"$`\\\\].*")) {
                throw new IllegalStateException("the VM's configuration cannot hold paths with blanks or quotes: " + conf);
            }
        }
        long t0 = System.nanoTime();
        byte[] initramfs = VmImage.initramfs(Path.of(BUSYBOX), vm.scripts().resolve("init.sh"), vm.scripts().resolve("stage2.sh"),
                configuration(conf), kernel);
        Path vmDir = Files.createDirectories(staging.root().resolve("vm").resolve(mode.id()));
        Path initrd = vmDir.resolve("initramfs.cpio");
        Files.write(initrd, initramfs);
        sink.note(String.format("initramfs of %.1f MB built in %d ms", initramfs.length / 1e6, (System.nanoTime() - t0) / 1_000_000));

        List<String> qemuCommand = qemuCommand(initrd, out);
        sink.note("starting " + String.join(" ", qemuCommand));
        long bootStart = System.nanoTime();
        Process process = new ProcessBuilder(qemuCommand).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        running.add(process);
        ConsoleTail tail = new ConsoleTail();
        Thread pump = pump(process.getInputStream(), sink, tail);
        String timedOut = null;
        String bootFailure = null;
        long bootedAfter = -1;
        try {
            long bootDeadline = bootStart + vm.bootTimeoutSeconds() * 1_000_000_000L;
            long deadline = bootStart + settings.modeTimeoutSeconds() * 1_000_000_000L;
            while (process.isAlive()) {
                process.waitFor(200, TimeUnit.MILLISECONDS);
                long now = System.nanoTime();
                if (bootedAfter < 0 && Files.exists(out.resolve(BOOTED_FILE))) {
                    bootedAfter = (now - bootStart) / 1_000_000;
                    sink.note(String.format("the VM booted; the test JVM starts %.1f s after qemu did", bootedAfter / 1000.0));
                }
                if (!process.isAlive()) {
                    break;
                }
                if (bootedAfter < 0 && now > bootDeadline) {
                    bootFailure = "the VM did not reach its test JVM within " + vm.bootTimeoutSeconds() + " s (-Disolation.it.vmBootTimeout)";
                    sink.note(bootFailure + "; killing qemu (pid " + process.pid() + ")");
                    process.destroyForcibly();
                } else if (now > deadline) {
                    String current = ModeRunner.currentTest(out);
                    timedOut = "timed out after " + settings.modeTimeoutSeconds() + " s" + (current == null ? "" : " in " + current);
                    sink.note(timedOut + "; killing qemu (pid " + process.pid() + ")");
                    process.destroyForcibly();
                }
            }
            process.waitFor();
            pump.join(5000);
        } finally {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
            running.remove(process);
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        int qemuExit = process.exitValue();
        sink.note(String.format("qemu exited with code %d after %.1f s (%.1f s for the whole mode)", qemuExit, (System.nanoTime() - bootStart) / 1e9,
                millis / 1000.0));

        Properties facts = readFacts(out.resolve(FACTS_FILE));
        if (bootedAfter < 0 && !Files.exists(out.resolve(BOOTED_FILE))) {
            String why = bootFailure != null ? bootFailure : whyNotBooted(out, tail, qemuExit);
            return notBooted(mode, why, millis);
        }
        int exit = readExit(out);
        if (timedOut == null && !Files.exists(out.resolve(EXIT_FILE))) {
            // qemu ended (killed, crashed, a kernel panic) while the test JVM ran: stage 2 never wrote its exit code
            String panic = tail.last("Kernel panic");
            timedOut = "the VM ended before the test JVM did (qemu exited with code " + qemuExit + ")"
                    + (panic == null ? "" : ": " + panic.substring(panic.indexOf("Kernel panic")));
        }
        Outcome outcome = ModeRunner.collect(mode, out, exit, timedOut, millis);
        if (outcome.status() == Outcome.Status.RAN) {
            return Outcome.ran(mode, outcome.result(), note(facts), millis);
        }
        return outcome;
    }

    /** A VM that did not boot: locally a skipped mode with the reason, with CI=true a failed one. */
    private Outcome notBooted(Mode mode, String why, long millis) {
        String reason = "the VM did not boot: " + why;
        console.println("harness: " + mode + ": " + reason);
        return settings.ci() ? Outcome.error(mode, null, reason + " (CI=true)", millis) : Outcome.unavailable(mode, reason);
    }

    /** What went wrong before the test JVM: stage 2's or stage 1's own words, a kernel panic, or qemu's end. */
    static String whyNotBooted(Path out, ConsoleTail tail, int qemuExit) {
        try {
            Path failure = out.resolve(FAILURE_FILE);
            if (Files.isRegularFile(failure)) {
                return Files.readString(failure).trim();
            }
        } catch (IOException e) {
            // the console then
        }
        String failed = tail.last("isolation-vm: FAILED: ");
        if (failed != null) {
            return failed.substring(failed.indexOf("FAILED: ") + "FAILED: ".length());
        }
        String panic = tail.last("Kernel panic");
        if (panic != null) {
            return panic.substring(panic.indexOf("Kernel panic"));
        }
        String lastLine = tail.lastNonBlank();
        return "qemu exited with code " + qemuExit + " before the test JVM started"
                + (lastLine == null ? " and printed nothing" : "; last console line: " + lastLine);
    }

    /** The note of the table's row: where it ran, the kernel, and what its cgroup v2 offers. */
    static String note(Properties facts) {
        if (facts.isEmpty()) {
            return "in qemu VM";
        }
        return "in qemu VM: kernel " + facts.getProperty("kernel", "?") + ", " + facts.getProperty("cgroup.fs", "?")
                + ", memory.peak " + facts.getProperty("memory.peak", "?") + ", cgroup.kill " + facts.getProperty("cgroup.kill", "?");
    }

    private List<String> qemuCommand(Path initrd, Path out) {
        List<String> command = new ArrayList<>(List.of(qemu, "-accel", vm.accel(), "-cpu", vm.cpu(),
                "-m", vm.memory(), "-smp", Integer.toString(vm.cpus()),
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
                "-kernel", kernel.image().toString(), "-initrd", initrd.toString(),
                "-append", (KERNEL_ARGS + " " + vm.kernelArgs()).trim(),
                "-virtfs", "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap",
                "-virtfs", "local,path=" + out.toString().replace(",", ",,") + ",mount_tag=out,security_model=none,multidevs=remap"));
        return command;
    }

    /** The JDK, when it lies where the VM has a tmpfs (init.sh binds it aside and back). */
    private static String keep(User user) {
        String home = System.getProperty("java.home");
        List<String> covered = new ArrayList<>(COVERED);
        if (user.uid() != 0) {
            covered.add(user.home());
        }
        for (String dir : covered) {
            if (home.equals(dir) || home.startsWith(dir + "/")) {
                return home;
            }
        }
        return "";
    }

    static String configuration(Map<String, String> conf) {
        StringBuilder sb = new StringBuilder("# written by dev.isolation.it.harness.VmRunner, read by init.sh and stage2.sh\n");
        conf.forEach((key, value) -> sb.append(key).append("='").append(value).append("'\n"));
        return sb.toString();
    }

    static String jobScript(Mode mode, Path out, Map<String, String> env, List<String> command) {
        StringBuilder sb = new StringBuilder("#!/bin/sh\n");
        sb.append("# The test JVM of mode ").append(mode).append(", written by dev.isolation.it.harness.VmRunner, run by stage2.sh in the VM.\n");
        sb.append("cd ").append(quote(out.toString())).append(" || exit 125\n");
        sb.append("exec /usr/bin/env -i");
        env.forEach((key, value) -> sb.append(" \\\n    ").append(quote(key + "=" + value)));
        for (String arg : command) {
            sb.append(" \\\n    ").append(quote(arg));
        }
        sb.append('\n');
        return sb.toString();
    }

    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static int readExit(Path out) {
        try {
            return Integer.parseInt(Files.readString(out.resolve(EXIT_FILE)).trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    static Properties readFacts(Path file) {
        Properties facts = new Properties();
        if (Files.isRegularFile(file)) {
            try (var reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                facts.load(reader);
            } catch (IOException e) {
                // no facts then
            }
        }
        return facts;
    }

    private static Thread pump(InputStream in, LineSink sink, ConsoleTail tail) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buffer)) > 0) {
                    String text = new String(buffer, 0, n, StandardCharsets.UTF_8);
                    tail.add(text);
                    sink.accept(text);
                }
            } catch (IOException e) {
                // qemu gone
            }
        }, "VM console");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** The last few kilobytes of the VM's console, to tell why it did not boot. */
    static final class ConsoleTail {
        private static final int KEEP = 16384;
        private final StringBuilder text = new StringBuilder();

        synchronized void add(String chunk) {
            text.append(chunk);
            if (text.length() > KEEP) {
                text.delete(0, text.length() - KEEP);
            }
        }

        /** The last line containing marker, trimmed, or null. */
        synchronized String last(String marker) {
            String found = null;
            for (String line : text.toString().split("\r?\n")) {
                if (line.contains(marker)) {
                    found = line.trim();
                }
            }
            return found;
        }

        synchronized String lastNonBlank() {
            String found = null;
            for (String line : text.toString().split("\r?\n")) {
                if (!line.isBlank()) {
                    found = line.trim();
                }
            }
            return found;
        }
    }
}
