package dev.isolation.linux.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The helpers the build put into the jar: one per supported architecture, each a static
 * executable for that architecture. In CI (environment {@code CI=true}) the aarch64 helper
 * must be there too, since {@code .ci/run} installs its cross compiler; elsewhere its absence
 * skips that check with the reason.
 */
class HelperBinaryTest {
    private static final int EM_X86_64 = 62;
    private static final int EM_AARCH64 = 183;
    private static final int ET_EXEC = 2;
    private static final int PT_INTERP = 3;

    @Test
    void theX86_64HelperIsAStaticX86_64Executable() throws IOException {
        assertStaticExecutable("x86_64", EM_X86_64);
    }

    @Test
    void theAarch64HelperIsAStaticAarch64Executable() throws IOException {
        if (!"true".equals(System.getenv("CI")) && resource("aarch64") == null) {
            Assumptions.abort("the build had no aarch64-linux-gnu-gcc, so the jar has no aarch64 helper"
                    + " (install gcc-aarch64-linux-gnu; in CI this fails instead)");
        }
        assertStaticExecutable("aarch64", EM_AARCH64);
    }

    @Test
    void theResourceNameFollowsTheJvmsArchitecture() {
        String arch = System.getProperty("os.arch");
        String expected = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> null;
        };
        assertThat(HelperBinary.resourceName())
                .isEqualTo(java.util.Optional.ofNullable(expected)
                        .map(d -> "/dev/isolation/linux/internal/native/" + d + "/isolation-helper"));
    }

    private static InputStream resource(String arch) {
        return HelperBinary.class.getResourceAsStream("/dev/isolation/linux/internal/native/" + arch + "/isolation-helper");
    }

    private static void assertStaticExecutable(String arch, int machine) throws IOException {
        byte[] image;
        try (InputStream in = resource(arch)) {
            assertThat(in).as("the " + arch + " helper in the jar").isNotNull();
            image = in.readAllBytes();
        }
        ByteBuffer elf = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(image.length).as("size").isGreaterThan(64);
        assertThat(new byte[] {image[0], image[1], image[2], image[3]}).as("ELF magic").containsExactly(0x7f, 'E', 'L', 'F');
        assertThat(image[4]).as("ELFCLASS64").isEqualTo((byte) 2);
        assertThat(image[5]).as("little-endian").isEqualTo((byte) 1);
        assertThat(elf.getShort(16) & 0xffff).as("e_type (static, not position-independent)").isEqualTo(ET_EXEC);
        assertThat(elf.getShort(18) & 0xffff).as("e_machine").isEqualTo(machine);
        long programHeaders = elf.getLong(32);
        int entrySize = elf.getShort(54) & 0xffff;
        int entries = elf.getShort(56) & 0xffff;
        assertThat(entries).as("program headers").isPositive();
        for (int i = 0; i < entries; i++) {
            int type = elf.getInt((int) (programHeaders + (long) i * entrySize));
            assertThat(type).as("program header " + i + " is no PT_INTERP: the helper needs no dynamic loader").isNotEqualTo(PT_INTERP);
        }
    }
}
