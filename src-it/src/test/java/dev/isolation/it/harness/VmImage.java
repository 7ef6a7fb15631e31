package dev.isolation.it.harness;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the vm-* modes boot: a kernel of the host's /boot with its modules in /lib/modules, and an
 * initramfs built here, at test time, as a cpio archive: the host's static busybox, the stage 1 and
 * stage 2 scripts of src-it/vm, a configuration file, and the kernel modules that the 9p mounts need
 * (virtio PCI, 9p over virtio, and what they depend on, from modules.dep, in load order).
 */
final class VmImage {
    /** The modules the VM needs; their dependencies come from modules.dep. */
    static final List<String> NEEDED_MODULES = List.of("virtio_pci", "9pnet_virtio", "9p");

    private VmImage() {
    }

    /** A kernel image with its release (the /lib/modules directory name). */
    record Kernel(Path image, String release, Path modules) {
    }

    /**
     * The kernel to boot: the configured image (its release from the file name vmlinuz-RELEASE), or the
     * newest /boot/vmlinuz-* whose /lib/modules/RELEASE/modules.dep exists. Throws with what is
     * missing, in words that fit a skipped mode.
     */
    static Kernel findKernel(String configured, Path boot, Path libModules) throws IOException {
        if (configured != null && !configured.isBlank()) {
            Path image = Path.of(configured);
            String name = image.getFileName().toString();
            if (!name.startsWith("vmlinuz-")) {
                throw new IllegalStateException("-Disolation.it.vmKernel=" + configured + ": the file name must be vmlinuz-RELEASE");
            }
            String release = name.substring("vmlinuz-".length());
            return check(new Kernel(image, release, libModules.resolve(release)));
        }
        List<Kernel> candidates = new ArrayList<>();
        if (Files.isDirectory(boot)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(boot, "vmlinuz-*")) {
                for (Path image : files) {
                    String release = image.getFileName().toString().substring("vmlinuz-".length());
                    if (Files.isRegularFile(libModules.resolve(release).resolve("modules.dep"))) {
                        candidates.add(new Kernel(image, release, libModules.resolve(release)));
                    }
                }
            }
        }
        if (candidates.isEmpty()) {
            throw new IllegalStateException("no kernel: no " + boot + "/vmlinuz-RELEASE with " + libModules
                    + "/RELEASE/modules.dep (apt-get install linux-image-amd64)");
        }
        candidates.sort(Comparator.comparing(Kernel::release, VmImage::compareVersions));
        return check(candidates.get(candidates.size() - 1));
    }

    private static Kernel check(Kernel kernel) {
        if (!Files.isRegularFile(kernel.image())) {
            throw new IllegalStateException("no kernel image " + kernel.image());
        }
        if (!Files.isReadable(kernel.image())) {
            throw new IllegalStateException("the kernel image " + kernel.image() + " is not readable by uid " + ProcStatus.effectiveUid());
        }
        if (!Files.isRegularFile(kernel.modules().resolve("modules.dep"))) {
            throw new IllegalStateException("no " + kernel.modules() + "/modules.dep for the kernel " + kernel.image());
        }
        return kernel;
    }

    /** Compares kernel releases number by number ("6.1.0-56-amd64" after "6.1.0-9-amd64"). */
    static int compareVersions(String a, String b) {
        String[] x = a.split("[.\\-+~_]");
        String[] y = b.split("[.\\-+~_]");
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            int c;
            if (x[i].matches("\\d{1,9}") && y[i].matches("\\d{1,9}")) {
                c = Integer.compare(Integer.parseInt(x[i]), Integer.parseInt(y[i]));
            } else {
                c = x[i].compareTo(y[i]);
            }
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(x.length, y.length);
    }

    /** "9pnet_virtio" for kernel/net/9p/9pnet_virtio.ko(.xz); '-' and '_' are the same to the kernel. */
    static String moduleName(String path) {
        String name = path.substring(path.lastIndexOf('/') + 1);
        int ko = name.indexOf(".ko");
        return (ko < 0 ? name : name.substring(0, ko)).replace('-', '_');
    }

    /**
     * The module files (paths relative to the modules directory) to load, in order, for the wanted
     * modules: each module's dependencies before it, as modprobe would, with modules.dep. Modules
     * built into the kernel (modules.builtin) need nothing. Throws when a wanted module is neither.
     */
    static List<String> loadOrder(String modulesDep, String modulesBuiltin, List<String> wanted) {
        Map<String, String> files = new HashMap<>();
        Map<String, List<String>> deps = new HashMap<>();
        for (String line : modulesDep.split("\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String file = line.substring(0, colon).trim();
            String name = moduleName(file);
            files.put(name, file);
            List<String> list = new ArrayList<>();
            for (String dep : line.substring(colon + 1).trim().split("\\s+")) {
                if (!dep.isBlank()) {
                    list.add(moduleName(dep));
                }
            }
            deps.put(name, list);
        }
        Set<String> builtin = new HashSet<>();
        for (String line : modulesBuiltin.split("\n")) {
            if (!line.isBlank()) {
                builtin.add(moduleName(line.trim()));
            }
        }
        LinkedHashSet<String> order = new LinkedHashSet<>();
        for (String module : wanted) {
            String name = moduleName(module);
            if (!files.containsKey(name) && !builtin.contains(name)) {
                throw new IllegalStateException("the kernel has no module " + name + " (neither in modules.dep nor in modules.builtin)");
            }
            add(name, files, deps, order, new HashSet<>());
        }
        return List.copyOf(order);
    }

    private static void add(String name, Map<String, String> files, Map<String, List<String>> deps, LinkedHashSet<String> order,
            Set<String> visiting) {
        String file = files.get(name);
        if (file == null || order.contains(file) || !visiting.add(name)) {
            return; // built in, already there, or a cycle (modules.dep has none)
        }
        List<String> list = deps.getOrDefault(name, List.of());
        // modules.dep names the deepest dependency last, and modprobe loads from the end
        for (int i = list.size() - 1; i >= 0; i--) {
            add(list.get(i), files, deps, order, visiting);
        }
        order.add(file);
    }

    /**
     * The initramfs, uncompressed: /bin/busybox, /init, /stage2.sh, /vm.conf, /modules/FILE for each
     * module to load and /modules/order naming them in load order.
     */
    static byte[] initramfs(Path busybox, Path init, Path stage2, String conf, Kernel kernel) throws IOException {
        List<String> modules = loadOrder(Files.readString(kernel.modules().resolve("modules.dep")),
                readIfExists(kernel.modules().resolve("modules.builtin")), NEEDED_MODULES);
        Cpio cpio = new Cpio();
        cpio.directory("bin", 0755);
        cpio.file("bin/busybox", 0755, Files.readAllBytes(busybox));
        cpio.file("init", 0755, Files.readAllBytes(init));
        cpio.file("stage2.sh", 0755, Files.readAllBytes(stage2));
        cpio.file("vm.conf", 0644, conf.getBytes(StandardCharsets.UTF_8));
        cpio.directory("modules", 0755);
        StringBuilder order = new StringBuilder();
        Set<String> names = new HashSet<>();
        for (String module : modules) {
            String name = module.substring(module.lastIndexOf('/') + 1);
            if (!names.add(name)) {
                throw new IllegalStateException("two modules named " + name + " in " + modules);
            }
            cpio.file("modules/" + name, 0644, Files.readAllBytes(kernel.modules().resolve(module)));
            order.append(name).append('\n');
        }
        cpio.file("modules/order", 0644, order.toString().getBytes(StandardCharsets.UTF_8));
        return cpio.finish();
    }

    private static String readIfExists(Path file) throws IOException {
        return Files.isRegularFile(file) ? Files.readString(file) : "";
    }

    /**
     * A cpio archive in the "newc" format, the one the kernel unpacks into its initial root file system:
     * per entry a header of "070701" and thirteen 8-digit hex fields, the name with a NUL, padding to 4
     * bytes, the data, padding to 4 bytes; "TRAILER!!!" ends it. Owners are root, times 0.
     */
    static final class Cpio {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private int inode = 1;

        void directory(String name, int mode) {
            entry(name, 0040000 | mode, 2, new byte[0]);
        }

        void file(String name, int mode, byte[] data) {
            entry(name, 0100000 | mode, 1, data);
        }

        byte[] finish() {
            entry("TRAILER!!!", 0, 1, new byte[0]);
            return out.toByteArray();
        }

        private void entry(String name, int mode, int links, byte[] data) {
            byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
            StringBuilder header = new StringBuilder("070701");
            long[] fields = {name.equals("TRAILER!!!") ? 0 : inode++, mode, 0, 0, links, 0, data.length, 0, 0, 0, 0, nameBytes.length + 1, 0};
            for (long field : fields) {
                header.append(String.format("%08x", field));
            }
            out.writeBytes(header.toString().getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(nameBytes);
            out.write(0);
            pad();
            out.writeBytes(data);
            pad();
        }

        private void pad() {
            while (out.size() % 4 != 0) {
                out.write(0);
            }
        }
    }
}
