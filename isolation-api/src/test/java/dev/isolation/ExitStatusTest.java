package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ExitStatusTest {
    @Test
    void tellsAnExitFromADeathBySignal() {
        ExitStatus exited = ExitStatus.exited(3);
        assertThat(exited.exited()).isTrue();
        assertThat(exited.killedBySignal()).isFalse();
        assertThat(exited.exitCode()).hasValue(3);
        assertThat(exited.signal()).isEmpty();
        assertThat(exited.shellStatus()).isEqualTo(3);

        ExitStatus killed = ExitStatus.killed(9, false);
        assertThat(killed.exited()).isFalse();
        assertThat(killed.signal()).hasValue(9);
        assertThat(killed.exitCode()).isEmpty();
        assertThat(killed.shellStatus()).isEqualTo(137);
        assertThat(killed).hasToString("killed(SIGKILL)");
    }

    @Test
    void launchExceptionNamesStepPathAndErrno() {
        LaunchException e = new LaunchException("pivot_root", "/srv/root", 22, "EINVAL", "Invalid argument", null);
        assertThat(e).hasMessage("pivot_root(/srv/root): EINVAL (Invalid argument)");
        assertThat(e.errno()).hasValue(22);
        assertThat(e.path()).contains("/srv/root");
    }
}
