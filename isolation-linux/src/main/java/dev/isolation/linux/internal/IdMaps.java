package dev.isolation.linux.internal;

import dev.isolation.IdMapping;
import dev.isolation.InvalidSpecException;
import dev.isolation.IsolatedProcessSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The uid and gid maps a launch writes, and how: directly into {@code /proc/PID/uid_map}
 * (root may write any map; anyone may map just their own id), or through the setuid
 * {@code newuidmap}/{@code newgidmap} tools, which check {@code /etc/subuid} and
 * {@code /etc/subgid}.
 */
final class IdMaps {
    private static final List<String> TOOL_DIRS = List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin");

    /** One of the two maps of a launch. */
    record Plan(List<IdMapping> mappings, Optional<String> tool) {
        String mapText() {
            StringBuilder text = new StringBuilder();
            for (IdMapping m : mappings) {
                text.append(m.inside()).append(' ').append(m.outside()).append(' ').append(m.count()).append('\n');
            }
            return text.toString();
        }

        /** The inside id the process runs as by default: its own id if mapped, else the first mapped id. */
        long defaultInsideId(long callerId) {
            for (IdMapping m : mappings) {
                if (m.containsOutside(callerId)) {
                    return m.inside() + (callerId - m.outside());
                }
            }
            return mappings.get(0).inside();
        }
    }

    private IdMaps() {
    }

    static Plan uidPlan(IsolatedProcessSpec spec) {
        return plan("uidMappings", spec.uidMappings(), LibC.geteuid(), "newuidmap", "/etc/subuid");
    }

    static Plan gidPlan(IsolatedProcessSpec spec) {
        return plan("gidMappings", spec.gidMappings(), LibC.getegid(), "newgidmap", "/etc/subgid");
    }

    private static Plan plan(String field, List<IdMapping> requested, int callerId, String toolName, String subordinateFile) {
        long caller = Integer.toUnsignedLong(callerId);
        List<IdMapping> mappings = requested.isEmpty() ? List.of(IdMapping.single(caller, caller)) : requested;
        boolean privileged = LibC.geteuid() == 0;
        boolean ownIdOnly = mappings.size() == 1 && mappings.get(0).count() == 1 && mappings.get(0).outside() == caller;
        if (privileged || ownIdOnly) {
            return new Plan(mappings, Optional.empty());
        }
        String tool = findTool(toolName).orElseThrow(() -> new InvalidSpecException(field,
                "an unprivileged caller (id " + caller + ") can map only its own id unless " + toolName
                        + " is installed (Debian/Ubuntu package uidmap); asked for " + mappings));
        List<long[]> granted = subordinateRanges(subordinateFile, caller);
        for (IdMapping m : mappings) {
            boolean own = m.count() == 1 && m.outside() == caller;
            if (!own && granted.stream().noneMatch(r -> m.outside() >= r[0] && m.outside() + m.count() <= r[0] + r[1])) {
                throw new InvalidSpecException(field, "host ids " + m.outside() + ".." + (m.outside() + m.count() - 1)
                        + " are not granted to user " + System.getProperty("user.name") + " in " + subordinateFile
                        + " (an unprivileged caller may map only its own id and its subordinate ids)");
            }
        }
        return new Plan(mappings, Optional.of(tool));
    }

    private static Optional<String> findTool(String name) {
        return TOOL_DIRS.stream().map(dir -> Path.of(dir, name)).filter(Files::isExecutable).map(Path::toString).findFirst();
    }

    /** The {@code start,count} ranges of the subordinate-id file for this user, by name or id. */
    private static List<long[]> subordinateRanges(String file, long callerId) {
        List<long[]> ranges = new ArrayList<>();
        String user = System.getProperty("user.name");
        try {
            for (String line : Files.readAllLines(Path.of(file))) {
                String[] parts = line.trim().split(":");
                if (parts.length == 3 && (parts[0].equals(user) || parts[0].equals(Long.toString(callerId)))) {
                    try {
                        ranges.add(new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])});
                    } catch (NumberFormatException ignored) {
                        // newuidmap ignores malformed lines too
                    }
                }
            }
        } catch (IOException e) {
            // No file: no subordinate ids.
        }
        return ranges;
    }
}
