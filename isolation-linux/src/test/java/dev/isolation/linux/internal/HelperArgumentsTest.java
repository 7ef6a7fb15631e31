package dev.isolation.linux.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.LaunchException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HelperArgumentsTest {
    @AfterEach
    void clearProperties() {
        System.clearProperty(HelperConnection.TRACE_PROPERTY);
        System.clearProperty(HelperConnection.PREPARE_PROPERTY);
    }

    @Test
    void byDefaultTheHelperPreparesSparesAndDoesNotTrace() {
        assertThat(HelperConnection.helperArguments()).containsExactly("isolation-helper");
    }

    @Test
    void prepareFalseTurnsSparesOff() {
        System.setProperty(HelperConnection.PREPARE_PROPERTY, "false");
        assertThat(HelperConnection.helperArguments()).containsExactly("isolation-helper", "--prepared=0");
    }

    @Test
    void aTraceFileIsCreatedAndPassedByItsAbsolutePath(@TempDir Path dir) {
        Path trace = dir.resolve("trace.txt");
        System.setProperty(HelperConnection.TRACE_PROPERTY, trace.toString());
        assertThat(HelperConnection.helperArguments()).containsExactly("isolation-helper", "--trace=" + trace.toAbsolutePath());
        assertThat(Files.isRegularFile(trace)).isTrue();
    }

    @Test
    void aTraceFileThatCannotBeWrittenIsRefusedNamingTheProperty(@TempDir Path dir) {
        Path trace = dir.resolve("missing-dir").resolve("trace.txt");
        System.setProperty(HelperConnection.TRACE_PROPERTY, trace.toString());
        assertThatThrownBy(HelperConnection::helperArguments).isInstanceOf(LaunchException.class)
                .hasMessageContaining("isolation.trace").hasMessageContaining(trace.toString());
    }
}
