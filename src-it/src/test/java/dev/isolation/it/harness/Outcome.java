package dev.isolation.it.harness;

/**
 * How one mode went. RAN: the test JVM reported its results. UNAVAILABLE: the mode could not run here
 * (no Docker, not root): a skip with a reason locally, a failure in CI. ERROR: the mode was tried and
 * broke (container did not start, JVM died, timeout): always a failure. NOT_SELECTED: left out with
 * -Disolation.it.modes.
 *
 * <p>{@code crash} says how the test JVM died when a signal ended it before it reported anything;
 * {@code earlierCrash} is that of a first attempt, when this outcome is the mode's rerun.
 */
record Outcome(Mode mode, Status status, ModeResult result, String note, long millis, String crash, String earlierCrash) {
    enum Status { RAN, UNAVAILABLE, ERROR, NOT_SELECTED }

    static Outcome ran(Mode mode, ModeResult result, String note, long millis) {
        return new Outcome(mode, Status.RAN, result, note, millis, null, null);
    }

    static Outcome unavailable(Mode mode, String reason) {
        return new Outcome(mode, Status.UNAVAILABLE, null, reason, 0, null, null);
    }

    static Outcome error(Mode mode, ModeResult partial, String reason, long millis) {
        return new Outcome(mode, Status.ERROR, partial, reason, millis, null, null);
    }

    /** The test JVM died of a signal before reporting: {@code crash} describes it (see JvmCrash). */
    static Outcome crashed(Mode mode, String reason, String crash, long millis) {
        return new Outcome(mode, Status.ERROR, null, reason, millis, crash, null);
    }

    static Outcome notSelected(Mode mode) {
        return notSelected(mode, "not selected (-Disolation.it.modes)");
    }

    static Outcome notSelected(Mode mode, String note) {
        return new Outcome(mode, Status.NOT_SELECTED, null, note, 0, null, null);
    }

    /** This outcome, a rerun, remembering how the first attempt crashed; the time is that of both. */
    Outcome after(Outcome crashedAttempt) {
        return new Outcome(mode, status, result, note, millis + crashedAttempt.millis(), crash, crashedAttempt.note());
    }
}
