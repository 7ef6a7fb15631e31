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

static int closer = -1; /* our end of the socket to the closing children */

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
    /* shared by the closers: whoever loses the race for a message must not block on it */
    fcntl(channel, F_SETFL, O_NONBLOCK);
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
        if (n < 0 && errno == EAGAIN)
            continue; /* another closer took it */
        if (n <= 0)
            _exit(0); /* the helper is gone: exiting closes everything anyway */
        if (held >= 0)
            close(held);
        held = nfds > 0 ? fd : -1;
    }
}

void teardown_start(void)
{
    int pair[2];
    /* a stream, not datagrams: a datagram queue holds only net.unix.max_dgram_qlen (10 by
     * default) messages, and when a burst of exits overflowed it the helper had to close
     * namespaces itself, a grace period each inside its event loop */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
        return;
    /* Several closers read the one socket, each taking one namespace at a time: every
     * teardown waits for an expedited RCU grace period, and waits that overlap share one. A
     * single closer, one grace period after another, fell behind sustained launching. */
    int started = 0;
    for (int i = 0; i < TEARDOWN_CLOSERS; i++) {
        /* fork-like raw clone, as for sandboxes: the helper is single-threaded */
        long pid = syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0);
        if (pid == 0) {
            close(pair[0]);
            closer_main(pair[1]);
        }
        if (pid > 0)
            started++;
    }
    close(pair[1]);
    if (started == 0) {
        close(pair[0]);
        return;
    }
    closer = pair[0];
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
    /* never block the event loop: a full queue or a dead closer means we close it here */
    if (closer >= 0 && send_fd(closer, fd, MSG_DONTWAIT) < 0 && errno != EAGAIN) {
        close(closer);
        closer = -1;
    }
    close(fd); /* the last reference only if it was not passed on */
}
