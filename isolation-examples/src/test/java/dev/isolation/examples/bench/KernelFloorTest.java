package dev.isolation.examples.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KernelFloorTest {
    @Test
    void theCountComesFromTheLastLineTheProgramPrints() throws IOException {
        String output = "sandbox shape: 1465 launches/s with 2 workers; busy CPU 1.119 ms/launch, idle 16%\n"
                + "launches 5861 seconds 4.000512\n";
        assertThat(KernelFloor.count(output)).isEqualTo(new ThroughputBench.Burst(5861, 4_000_512_000L));
    }

    @Test
    void outputWithoutACountIsAFailureNamingTheRow() {
        assertThatThrownBy(() -> KernelFloor.count("kernel-floor: clone: Operation not permitted\n"))
                .isInstanceOf(IOException.class).hasMessageContaining("kernel-floor printed no count")
                .hasMessageContaining("clone: Operation not permitted");
    }

    @Test
    void theSourceTheBenchBuildsIsInTheJarAndPrintsTheCountLine() throws IOException {
        try (InputStream in = KernelFloor.class.getResourceAsStream("kernel-floor.c")) {
            assertThat(in).as("kernel-floor.c next to the bench's classes").isNotNull();
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).contains("\"launches %ld seconds %.6f\\n\"");
        }
    }
}
