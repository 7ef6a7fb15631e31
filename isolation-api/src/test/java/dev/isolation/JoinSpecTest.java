package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class JoinSpecTest {
    @Test
    void defaultsToPipesAndOnlyAPath() {
        JoinSpec spec = JoinSpec.builder().command("ps").build();
        assertThat(spec.effectiveEnvironment()).containsOnlyKeys("PATH");
        assertThat(spec.namespaces()).isEmpty();
        assertThat(spec.stdout()).isEqualTo(Redirect.PIPE);
    }

    @Test
    void sharesTheLaunchRules() {
        assertThatThrownBy(() -> JoinSpec.builder().build()).isInstanceOfSatisfying(InvalidSpecException.class,
                e -> assertThat(e.field()).isEqualTo("command"));
        assertThatThrownBy(() -> JoinSpec.builder().command("ps").workingDirectory("tmp").build())
                .hasMessageStartingWith("workingDirectory: must be an absolute path");
        assertThatThrownBy(() -> JoinSpec.builder().command("ps").putEnvironment("A=B", "c").build())
                .hasMessageStartingWith("environment: ");
        assertThatThrownBy(() -> JoinSpec.builder().command("ps").stdout(Redirect.from(Path.of("/x"))).build())
                .hasMessageStartingWith("stdout: cannot read from a file");
    }
}
