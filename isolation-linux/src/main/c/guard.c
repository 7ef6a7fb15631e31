/*
 * Keeps read-only mounts read-only inside a sandbox. Its mounts are made in its own user
 * namespace, so root inside (every capability there) could otherwise remount a read-only bind
 * of a host path, or the read-only root, read-write and write through it to the host. The
 * kernel locks mount flags only on mounts copied into a less privileged namespace, which ours
 * are not; so a seccomp filter, inherited by every process of the sandbox, refuses:
 *   - mount(2) with MS_REMOUNT but without MS_RDONLY (making a mount writable), EPERM;
 *   - mount_setattr(2) and open_tree_attr(2), whose attributes sit behind a pointer a filter
 *     cannot read, ENOSYS, so that tools fall back to mount(2) (util-linux does, and so does
 *     this library's own helper when nested).
 * New mounts (tmpfs, proc, binds, which keep their source's flags) and remounts that make a
 * mount read-only still work. Syscalls of the compat ABIs (i386, x32; arm on aarch64) are
 * checked with their own numbers.
 *
 * Only a command that runs as uid 0 gets the filter: with no_new_privs and no ambient
 * capabilities, any other uid holds no capability after execve, so the kernel refuses its
 * remounts anyway, and tools that remount a writable mount with extra flags (bwrap nested in a
 * sandbox, for one) keep working for it. A kernel-enforced alternative, mounts copied into a
 * mount namespace of a less privileged user namespace (the kernel then locks their flags), is
 * not done yet.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "isolation.h"

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#define NATIVE_MOUNT 165
#define COMPAT_ARCH AUDIT_ARCH_I386
#define COMPAT_MOUNT 21
#define NATIVE_NR_MASK 0xbfffffffu /* x32 calls are the native numbers with bit 30 set */
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#define NATIVE_MOUNT 40
#define COMPAT_ARCH AUDIT_ARCH_ARM
#define COMPAT_MOUNT 21
#define NATIVE_NR_MASK 0xffffffffu
#else
#error "guard.c: no syscall numbers for this architecture"
#endif
/* the same number on every architecture since Linux 5.1's unified table */
#define MOUNT_SETATTR 442
#define OPEN_TREE_ATTR 467

#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define RETURN(value) BPF_STMT(BPF_RET | BPF_K, (value))
/* jump offsets count from the next instruction; the numbers in comments are indices */

int guard_remounts(void)
{
    if (geteuid() != 0)
        return 0;
    struct sock_filter program[] = {
        /* 0 */ LOAD(arch),
        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
        /* 2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_ARCH, 5, 13),
        /* native: 3 */ LOAD(nr),
        /* 4 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, NATIVE_NR_MASK),
        /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_MOUNT, 6, 0),
        /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MOUNT_SETATTR, 10, 0),
        /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, OPEN_TREE_ATTR, 9, 8),
        /* compat: 8 */ LOAD(nr),
        /* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_MOUNT, 2, 0),
        /* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MOUNT_SETATTR, 6, 0),
        /* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, OPEN_TREE_ATTR, 5, 4),
        /* mount: 12, the low half of the flags (both ABIs are little-endian) */
        LOAD(args[3]),
        /* 13 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MS_REMOUNT, 0, 2),
        /* 14 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MS_RDONLY, 1, 0),
        /* 15 */ RETURN(SECCOMP_RET_ERRNO | EPERM),
        /* 16 */ RETURN(SECCOMP_RET_ALLOW),
        /* 17 */ RETURN(SECCOMP_RET_ERRNO | ENOSYS),
    };
    struct sock_fprog filter = {.len = sizeof program / sizeof program[0], .filter = program};
    /* no_new_privs is set already, so no privilege is needed */
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter, 0, 0);
}
