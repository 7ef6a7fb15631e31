package dev.isolation;

import java.util.Objects;

/**
 * An {@link IsolatedProcessSpec} broke a rule. Thrown by the builder's {@code build()} (and by
 * the value types it takes) before anything is created, so nothing needs cleaning up.
 *
 * <p>The message reads {@code "FIELD: RULE"}, e.g. {@code "hostname: must be at most 64 bytes,
 * got 70"}.
 */
public class InvalidSpecException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String field;
    private final String rule;

    /**
     * @param field the spec field at fault, as named by its builder method
     * @param rule the rule it broke, phrased so that the reader knows what to change
     */
    public InvalidSpecException(String field, String rule) {
        super(Objects.requireNonNull(field) + ": " + Objects.requireNonNull(rule));
        this.field = field;
        this.rule = rule;
    }

    /** The spec field at fault, e.g. {@code "uidMappings"}. */
    public String field() {
        return field;
    }

    /** The rule that was broken, without the field name. */
    public String rule() {
        return rule;
    }
}
