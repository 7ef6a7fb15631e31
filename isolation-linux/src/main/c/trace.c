/*
 * Launch phase timestamps for diagnosing where a launch's time goes (--trace=PATH, which the
 * JVM passes when the system property isolation.trace names a file). Off by default: then
 * trace_event is a test of one int.
 *
 * One line per event, "LAUNCH_ID PHASE NANOSECONDS" (CLOCK_MONOTONIC, the clock of Java's
 * System.nanoTime on Linux), written with one write(2) to a file opened O_APPEND, so that
 * lines from the helper and its sandboxes never interleave. The sandbox side keeps the fd
 * until its execve (close-on-exec), so the command never sees it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "isolation.h"

int trace_fd = -1;
uint64_t trace_launch_id;

void trace_open(const char *path)
{
    trace_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (trace_fd < 0)
        fprintf(stderr, "isolation-helper: not tracing: open(%s): %s\n", path, strerror(errno));
}

void trace_event(uint64_t launch_id, const char *phase)
{
    if (trace_fd < 0)
        return;
    int saved = errno; /* callers report errno after this */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    char line[96];
    int n = snprintf(line, sizeof line, "%llu %s %lld\n", (unsigned long long)launch_id, phase,
                     (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
    if (n > 0 && (size_t)n < sizeof line)
        (void)!write(trace_fd, line, (size_t)n);
    errno = saved;
}
