package dev.isolation;

/**
 * One range of a uid or gid map: {@code count} consecutive ids starting at {@code inside} in
 * the sandbox's user namespace stand for the ids starting at {@code outside} on the host. The
 * same as one line of {@code /proc/PID/uid_map}.
 *
 * <p>Immutable and thread-safe.
 *
 * @param inside first id inside the sandbox
 * @param outside first id on the host (in the caller's user namespace)
 * @param count how many ids, at least 1
 */
public record IdMapping(long inside, long outside, long count) {

    /** The largest valid id: {@code (uid_t) -1} is reserved by the kernel. */
    public static final long MAX_ID = 0xFFFF_FFFEL;

    /**
     * Validates the range.
     *
     * @throws InvalidSpecException if an id is negative, the count is not positive, or the
     *     range runs past {@link #MAX_ID}
     */
    public IdMapping {
        if (inside < 0 || outside < 0) {
            throw new InvalidSpecException("idMapping", "ids must not be negative, got " + describe(inside, outside, count));
        }
        if (count < 1) {
            throw new InvalidSpecException("idMapping", "the count must be at least 1, got " + describe(inside, outside, count));
        }
        if (inside + count - 1 > MAX_ID || outside + count - 1 > MAX_ID) {
            throw new InvalidSpecException("idMapping", "the range must end at or below " + MAX_ID + ", got " + describe(inside, outside, count));
        }
    }

    /** A mapping of {@code count} ids; see the class comment. */
    public static IdMapping of(long inside, long outside, long count) {
        return new IdMapping(inside, outside, count);
    }

    /** A mapping of one id. */
    public static IdMapping single(long inside, long outside) {
        return new IdMapping(inside, outside, 1);
    }

    /** Whether {@code id} (an inside id) lies in this range. */
    public boolean containsInside(long id) {
        return id >= inside && id < inside + count;
    }

    /** Whether {@code id} (a host id) lies in this range. */
    public boolean containsOutside(long id) {
        return id >= outside && id < outside + count;
    }

    boolean overlapsInside(IdMapping other) {
        return inside < other.inside + other.count && other.inside < inside + count;
    }

    boolean overlapsOutside(IdMapping other) {
        return outside < other.outside + other.count && other.outside < outside + count;
    }

    @Override
    public String toString() {
        return describe(inside, outside, count);
    }

    private static String describe(long inside, long outside, long count) {
        return inside + ":" + outside + ":" + count;
    }
}
