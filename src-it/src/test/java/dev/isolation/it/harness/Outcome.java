package dev.isolation.it.harness;

/**
 * How one mode went. RAN: the test JVM reported its results. UNAVAILABLE: the mode could not run here
 * (no Docker, not root): a skip with a reason locally, a failure in CI. ERROR: the mode was tried and
 * broke (container did not start, JVM died, timeout): always a failure. NOT_SELECTED: left out with
 * -Disolation.it.modes.
 */
record Outcome(Mode mode, Status status, ModeResult result, String note, long millis) {
    enum Status { RAN, UNAVAILABLE, ERROR, NOT_SELECTED }

    static Outcome ran(Mode mode, ModeResult result, String note, long millis) {
        return new Outcome(mode, Status.RAN, result, note, millis);
    }

    static Outcome unavailable(Mode mode, String reason) {
        return new Outcome(mode, Status.UNAVAILABLE, null, reason, 0);
    }

    static Outcome error(Mode mode, ModeResult partial, String reason, long millis) {
        return new Outcome(mode, Status.ERROR, partial, reason, millis);
    }

    static Outcome notSelected(Mode mode) {
        return notSelected(mode, "not selected (-Disolation.it.modes)");
    }

    static Outcome notSelected(Mode mode, String note) {
        return new Outcome(mode, Status.NOT_SELECTED, null, note, 0);
    }
}
