package dev.isolation.it.support;

import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Isolation;
import dev.isolation.Redirect;
import dev.isolation.Signal;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A child JVM for LifecycleIT: kills the helper's closers (the children that close ended
 * sandboxes' mount namespaces; they are this JVM's grandchildren), then launches sandboxes
 * and checks that their mount namespaces are still released: by the helper itself, once it
 * finds no closer to pass them to. Prints {@code closers N} (how many it killed), then
 * {@code held N} (how many of those namespaces a process of the library still had open two
 * seconds after the last sandbox ended). Argument: {@code ROOTFS}.
 */
public final class TeardownWithoutClosers {
    private static final int SANDBOXES = 8;

    private TeardownWithoutClosers() {
    }

    public static void main(String[] args) throws Exception {
        Path rootfs = Path.of(args[0]);
        IsolatedProcessSpec sleeper = IsolatedProcessSpec.builder().command("/bin/sleep", "1000").rootfs(rootfs)
                .stdin(Redirect.DISCARD).stdout(Redirect.DISCARD).stderr(Redirect.DISCARD).build();
        // the helper starts its closers when it starts
        try (IsolatedProcess first = Isolation.launcher().launch(sleeper)) {
            first.kill(Signal.KILL);
            first.waitFor();
        }
        ProcessHandle helper = ProcessHandle.current().children().findFirst().orElseThrow();
        List<ProcessHandle> closers = helper.children().filter(p -> "isolation-close".equals(comm(p.pid()))).toList();
        closers.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle closer : closers) {
            closer.onExit().get();
        }
        System.out.println("closers " + closers.size());

        // all alive at once: a namespace's inode number is reused once it is released, so one
        // sandbox after another could show the same number twice
        Set<String> namespaces = new HashSet<>();
        List<IsolatedProcess> boxes = new ArrayList<>();
        try {
            for (int i = 0; i < SANDBOXES; i++) {
                IsolatedProcess box = Isolation.launcher().launch(sleeper);
                boxes.add(box);
                namespaces.add(Files.readSymbolicLink(Path.of("/proc", Long.toString(box.pid()), "ns", "mnt")).toString());
            }
        } finally {
            for (IsolatedProcess box : boxes) {
                box.kill(Signal.KILL);
                box.waitFor();
                box.close();
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        Set<String> held = heldBy(helper, namespaces);
        while (!held.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            held = heldBy(helper, namespaces);
        }
        System.out.println("namespaces " + namespaces.size());
        System.out.println("held " + held.size() + " " + held);
    }

    /** Which of the namespaces the helper or any process below it has open. */
    private static Set<String> heldBy(ProcessHandle helper, Set<String> namespaces) {
        Set<String> held = new HashSet<>();
        Stream.concat(Stream.of(helper), helper.descendants()).forEach(p -> {
            try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(p.pid()), "fd"))) {
                fds.forEach(fd -> {
                    try {
                        String target = Files.readSymbolicLink(fd).toString();
                        if (namespaces.contains(target)) {
                            held.add(target);
                        }
                    } catch (IOException e) {
                        // closed meanwhile
                    }
                });
            } catch (IOException e) {
                // ended meanwhile
            }
        });
        return held;
    }

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "comm")).trim();
        } catch (IOException e) {
            return "";
        }
    }
}
