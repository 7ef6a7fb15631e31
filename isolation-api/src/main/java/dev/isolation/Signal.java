package dev.isolation;

import java.util.Optional;

/**
 * The signals a caller commonly sends to a sandbox, with their numbers on Linux (the same on
 * x86-64 and aarch64).
 */
public enum Signal {
    HUP(1), INT(2), QUIT(3), ABRT(6), KILL(9), USR1(10), SEGV(11), USR2(12), PIPE(13), ALRM(14),
    TERM(15), CHLD(17), CONT(18), STOP(19), TSTP(20);

    private final int number;

    Signal(int number) {
        this.number = number;
    }

    /** The signal's number on Linux. */
    public int number() {
        return number;
    }

    /** The signal with this number, if it is one of this enum's. */
    public static Optional<Signal> ofNumber(int number) {
        for (Signal signal : values()) {
            if (signal.number == number) {
                return Optional.of(signal);
            }
        }
        return Optional.empty();
    }
}
