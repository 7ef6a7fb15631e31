/*
 * Mount namespace teardown off the exit path. When the last process of a mount namespace
 * exits, the kernel unmounts its whole tree (root, /proc, /dev and its nodes, ...) inside that
 * exit, waiting for an RCU grace period, before the parent is told: a tenth of a millisecond
 * or more between the sandbox's end and its exit status. So the helper holds each sandbox's
 * mount namespace (an nsfs fd the child sends as soon as it has made it) and, once the exit
 * has been reported, passes it to small children of its own that only close what they are
 * given; the unmounting then happens there, beside the next launch. Without them (they could not
 * be started, or died, or are a full socket buffer behind) the helper closes the fd itself, as
 * the kernel would have anyway.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compat.h"
#include "isolation.h"

#define CLOSER_LAG_MS 20
#define TEARDOWN_CLOSERS 3

static int closers[TEARDOWN_CLOSERS]; /* our ends of the sockets to the closing children */
static int closer_count;
static unsigned next_closer;

/*
 * A closer holds the namespace it was last given until the next message reaches it, or until
 * it has been idle for CLOSER_LAG_MS. The helper closes its own copy right after sending, so a
 * later message proves that copy gone and the closer's close is the last, the one that pays
 * for the unmounting. Closing at once lost that race often enough for the helper to pay.
 */
static _Noreturn void closer_main(int channel)
{
    /* nothing the helper had open is ours (0-2 stay: its /dev/null or the JVM's stderr) */
    close_fds_except(channel, channel);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, "isolation-close", 0, 0, 0);
    if (getppid() == 1)
        _exit(0);
    int held = -1;
    for (;;) {
        struct pollfd p = {.fd = channel, .events = POLLIN};
        int ready = poll(&p, 1, held >= 0 ? CLOSER_LAG_MS : -1);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0) {
            close(held);
            held = -1;
            continue;
        }
        char byte;
        int fd, nfds;
        ssize_t n = recv_with_fds(channel, &byte, 1, 0, &fd, 1, &nfds);
        if (n <= 0)
            _exit(0); /* the helper is gone: exiting closes everything anyway */
        if (held >= 0)
            close(held);
        held = nfds > 0 ? fd : -1;
    }
}

void teardown_start(void)
{
    /* Several closers, each taking one namespace at a time: every teardown waits for an
     * expedited RCU grace period, and waits that overlap share one. A single closer, one grace
     * period after another, fell behind sustained launching. Each has a socket of its own:
     * closers polling one shared socket were all woken by every message (three wake-ups per
     * launch, two of them for nothing). A stream, not datagrams: a datagram queue holds only
     * net.unix.max_dgram_qlen (10 by default) messages, and a burst of exits overflowed it. */
    for (int i = 0; i < TEARDOWN_CLOSERS; i++) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
            break;
        /* fork-like raw clone, as for sandboxes: the helper is single-threaded */
        long pid = syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0);
        if (pid == 0)
            closer_main(pair[1]); /* closes the other closers' sockets, pair[0] too */
        close(pair[1]);
        if (pid > 0)
            closers[closer_count++] = pair[0];
        else
            close(pair[0]);
    }
}

int teardown_hold(pid_t pid)
{
    char path[48];
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)pid);
    return open(path, O_RDONLY | O_CLOEXEC); /* -1 if it has ended already: nothing to hold */
}

void teardown_release(int fd)
{
    if (fd < 0)
        return;
    /* Round robin; never block the event loop: a closer whose queue is full is skipped, a dead
     * one dropped, and with none left the helper closes the namespace itself. */
    for (int tries = 0; tries < closer_count; tries++) {
        int i = (int)(next_closer++ % (unsigned)closer_count);
        if (send_fd(closers[i], fd, MSG_DONTWAIT) >= 0)
            break;
        if (errno != EAGAIN) {
            close(closers[i]);
            closers[i] = closers[--closer_count];
            tries--; /* the one moved into slot i has not been tried */
            if (closer_count == 0)
                break;
        }
    }
    close(fd); /* the last reference only if it was not passed on */
}
