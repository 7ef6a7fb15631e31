package dev.isolation.linux.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ErrnoTest {
    @Test
    void namesAndDescribesTheNumbersTheHelperReports() {
        assertThat(Errno.name(Errno.EINVAL)).isEqualTo("EINVAL");
        assertThat(Errno.text(Errno.EINVAL)).isEqualTo("Invalid argument");
        assertThat(Errno.name(71)).isEqualTo("EPROTO");
        assertThat(Errno.text(71)).isEqualTo("Protocol error");
        assertThat(Errno.name(75)).isEqualTo("EOVERFLOW");
        assertThat(Errno.name(95)).isEqualTo("EOPNOTSUPP");
        assertThat(Errno.name(133)).isEqualTo("EHWPOISON");
    }

    @Test
    void numbersLinuxDoesNotDefineKeepTheirNumber() {
        assertThat(Errno.name(41)).isEqualTo("errno 41");
        assertThat(Errno.text(41)).isEqualTo("Unknown error 41");
        assertThat(Errno.name(0)).isEqualTo("errno 0");
        assertThat(Errno.name(-1)).isEqualTo("errno -1");
        assertThat(Errno.name(4095)).isEqualTo("errno 4095");
    }
}
