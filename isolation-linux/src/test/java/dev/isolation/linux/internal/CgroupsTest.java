package dev.isolation.linux.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.isolation.IsolatedProcessSpec;
import dev.isolation.ResourceUsage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CgroupsTest {
    @TempDir
    Path tmp;

    private record Tlv(int tag, byte[] value) {
        ByteBuffer buffer() {
            return ByteBuffer.wrap(value).order(ByteOrder.nativeOrder());
        }
    }

    private static List<Tlv> decode(byte[] payload) {
        ByteBuffer in = ByteBuffer.wrap(payload).order(ByteOrder.nativeOrder());
        List<Tlv> records = new ArrayList<>();
        while (in.hasRemaining()) {
            int tag = in.getShort() & 0xffff;
            in.getShort();
            byte[] value = new byte[in.getInt()];
            in.get(value);
            records.add(new Tlv(tag, value));
        }
        return records;
    }

    @Test
    void encodesParentsAndLimits() {
        IsolatedProcessSpec spec = IsolatedProcessSpec.builder().command("/bin/true").memoryLimitBytes(64L << 20).pidsLimit(32)
                .cpuQuota(1.5).cpuWeight(200).build();
        List<Tlv> records = decode(Cgroups.encode(spec, List.of(new CgroupLayout.Parent("/sys/fs/cgroup/memory/isolation",
                CgroupLayout.MEMORY))));
        assertThat(records).extracting(Tlv::tag).containsExactly(Protocol.TLV_CG_PARENT, Protocol.TLV_CG_MEMORY_MAX,
                Protocol.TLV_CG_SWAP_MAX, Protocol.TLV_CG_PIDS_MAX, Protocol.TLV_CG_CPU_QUOTA, Protocol.TLV_CG_CPU_WEIGHT);
        ByteBuffer parent = records.get(0).buffer();
        assertThat(parent.getInt()).isEqualTo(CgroupLayout.MEMORY);
        assertThat(new String(records.get(0).value(), 4, records.get(0).value().length - 4, StandardCharsets.UTF_8))
                .isEqualTo("/sys/fs/cgroup/memory/isolation");
        assertThat(records.get(1).buffer().getLong()).isEqualTo(64L << 20);
        assertThat(records.get(2).buffer().getLong()).as("no swap beyond the limit by default").isZero();
        assertThat(records.get(3).buffer().getLong()).isEqualTo(32);
        ByteBuffer quota = records.get(4).buffer();
        assertThat(quota.getLong()).isEqualTo(150_000);
        assertThat(quota.getLong()).isEqualTo(100_000);
        assertThat(records.get(5).buffer().getLong()).isEqualTo(200);
    }

    @Test
    void swapAllowanceIsSentWithTheMemoryLimit() {
        IsolatedProcessSpec spec = IsolatedProcessSpec.builder().command("/bin/true").memoryLimitBytes(64L << 20)
                .swapLimitBytes(16L << 20).build();
        assertThat(decode(Cgroups.encode(spec, List.of())).get(1).buffer().getLong()).isEqualTo(16L << 20);
    }

    @Test
    void quotaInMicrosecondsPerPeriod() {
        assertThat(Cgroups.quotaMicros(0.5)).isEqualTo(50_000);
        assertThat(Cgroups.quotaMicros(0.01)).isEqualTo(1_000);
        assertThat(Cgroups.quotaMicros(0.001)).as("the kernel's minimum").isEqualTo(1_000);
        assertThat(Cgroups.quotaMicros(4096)).isEqualTo(409_600_000);
    }

    @Test
    void readsV1Figures() throws IOException {
        Path memory = Files.createDirectories(tmp.resolve("memory/isolation/1-1"));
        Files.writeString(memory.resolve("memory.usage_in_bytes"), "1048576\n");
        Files.writeString(memory.resolve("memory.max_usage_in_bytes"), "2097152\n");
        Path cpu = Files.createDirectories(tmp.resolve("cpuacct/isolation/1-1"));
        Files.writeString(cpu.resolve("cpuacct.usage"), "1500000000\n");
        Optional<ResourceUsage> usage = Cgroups.read(memory.toString(), cpu.toString());
        assertThat(usage).hasValueSatisfying(u -> {
            assertThat(u.memoryCurrentBytes()).hasValue(1 << 20);
            assertThat(u.memoryPeakBytes()).hasValue(2 << 20);
            assertThat(u.cpuTime()).isEqualTo(Duration.ofMillis(1500));
        });
    }

    @Test
    void readsV2Figures() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("isolation/1-1"));
        Files.writeString(dir.resolve("cgroup.controllers"), "memory pids\n");
        Files.writeString(dir.resolve("memory.current"), "4096\n");
        Files.writeString(dir.resolve("cpu.stat"), "usage_usec 250000\nuser_usec 200000\nsystem_usec 50000\n");
        // no memory.peak: Linux before 5.19
        Optional<ResourceUsage> usage = Cgroups.read(dir.toString(), dir.toString());
        assertThat(usage).hasValueSatisfying(u -> {
            assertThat(u.memoryCurrentBytes()).hasValue(4096);
            assertThat(u.memoryPeakBytes()).isEmpty();
            assertThat(u.cpuTime()).isEqualTo(Duration.ofMillis(250));
        });
    }

    @Test
    void noFiguresWithoutACgroupOrOnceItIsGone() {
        assertThat(Cgroups.read("", "")).isEmpty();
        assertThat(Cgroups.read(tmp.resolve("gone").toString(), tmp.resolve("gone").toString())).isEmpty();
    }
}
