/*
 * LAUNCH payload parsing. The payload is a sequence of TLV records (see protocol.h). Parsing
 * runs twice over it: the first pass validates everything and counts, the second copies into
 * a single arena, so a spec is one allocation and one free.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "isolation.h"

#define ALLOWED_CLONE_FLAGS                                                                  \
    ((uint64_t)(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS |  \
                CLONE_NEWIPC | CLONE_NEWCGROUP))

/* MOUNT value: uint32 kind, uint32 flags, uint64 size, then "source\0dest\0". */
#define MOUNT_FIXED_LEN 16u

struct counts {
    size_t args, envs, mounts, cgroups, chars;
    size_t cgroup_parents;
};

/* A uint64 TLV value, or -1 with *why when the length is wrong. */
static int get_u64(const uint8_t *v, uint32_t n, uint64_t *out, const char **why)
{
    if (n != 8) {
        *why = "cgroup limit TLV must be 8 bytes";
        return -1;
    }
    *out = wire_get64(v);
    return 0;
}

/* Checks the ISO_TLV_CG_* records together, once all are parsed. */
static int check_cgroup(const struct cgroup_limits *l, uint32_t roles, size_t parents,
                        const char **why)
{
    bool any = l->has_memory || l->has_pids || l->has_cpu_quota || l->has_cpu_weight;
    if (any && parents == 0) {
        *why = "cgroup limits without ISO_TLV_CG_PARENT";
        return -1;
    }
    bool unified = roles & ISO_CG_UNIFIED;
    if (unified && parents != 1) {
        *why = "a unified cgroup parent must be the only one";
        return -1;
    }
    if ((l->has_memory && !unified && !(roles & ISO_CG_MEMORY)) ||
        (l->has_pids && !unified && !(roles & ISO_CG_PIDS)) ||
        ((l->has_cpu_quota || l->has_cpu_weight) && !unified && !(roles & ISO_CG_CPU))) {
        *why = "a cgroup limit has no parent for its controller";
        return -1;
    }
    return 0;
}

/* Copies a wire string (not NUL-terminated) into the arena's character area. */
static char *copy_string(char **cursor, const uint8_t *v, uint32_t len)
{
    char *s = *cursor;
    memcpy(s, v, len);
    s[len] = '\0';
    *cursor += (size_t)len + 1;
    return s;
}

/*
 * One pass over the TLVs. With out == NULL: validate and count into *c. With out != NULL
 * (second pass, payload already validated): fill *out, taking strings from *chars.
 */
static int walk(const uint8_t *buf, size_t len, struct counts *c, struct launch_spec *out,
                char **chars, const char **why)
{
    uint32_t seen = 0; /* single-valued tags already met */
    size_t nargs = 0, nenvs = 0, nmounts = 0, ncgroups = 0;
    size_t ncgparents = 0;
    uint32_t cgroles = 0;
    struct cgroup_limits limits = {0};

    for (size_t off = 0; off < len;) {
        if (len - off < sizeof(struct iso_tlv_header)) {
            *why = "truncated TLV header";
            return -1;
        }
        struct iso_tlv_header h;
        memcpy(&h, buf + off, sizeof h);
        off += sizeof h;
        if (h.length > len - off) {
            *why = "TLV length exceeds the payload";
            return -1;
        }
        const uint8_t *v = buf + off;
        const uint32_t n = h.length;
        off += n;

        bool single = h.tag != ISO_TLV_ARG && h.tag != ISO_TLV_ENV && h.tag != ISO_TLV_MOUNT &&
                      h.tag != ISO_TLV_CGROUP_PROCS && h.tag != ISO_TLV_CG_PARENT;
        if (single && h.tag < 32) {
            if (seen & (1u << h.tag)) {
                *why = "repeated single-valued TLV";
                return -1;
            }
            seen |= 1u << h.tag;
        }

        bool is_string = false; /* value must be a string without NUL bytes */
        const char **string_slot = NULL;
        switch (h.tag) {
        case ISO_TLV_ARG:
            is_string = true;
            if (out)
                out->argv[nargs] = copy_string(chars, v, n);
            nargs++;
            break;
        case ISO_TLV_ENV:
            is_string = true;
            if (out)
                out->envp[nenvs] = copy_string(chars, v, n);
            nenvs++;
            break;
        case ISO_TLV_CGROUP_PROCS:
            is_string = true;
            if (out)
                out->cgroup_procs[ncgroups] = copy_string(chars, v, n);
            ncgroups++;
            break;
        case ISO_TLV_CWD:
            is_string = true;
            string_slot = out ? &out->cwd : NULL;
            break;
        case ISO_TLV_CG_PARENT: {
            uint32_t roles = n >= 4 ? wire_get32(v) : 0;
            if (n < 5 || memchr(v + 4, 0, n - 4) || v[4] != '/') {
                *why = "CG_PARENT must be uint32 roles and an absolute path";
                return -1;
            }
            if (roles == 0 || (roles & ~(uint32_t)(ISO_CG_UNIFIED | ISO_CG_MEMORY | ISO_CG_PIDS |
                                                   ISO_CG_CPU | ISO_CG_CPUACCT | ISO_CG_FREEZER)) ||
                ((roles & ISO_CG_UNIFIED) && roles != ISO_CG_UNIFIED)) {
                *why = "CG_PARENT has bad roles";
                return -1;
            }
            cgroles |= roles;
            if (out) {
                out->cgroup_parents[ncgparents].roles = roles;
                out->cgroup_parents[ncgparents].path = copy_string(chars, v + 4, n - 4);
            } else {
                c->chars += (size_t)n - 4 + 1;
            }
            ncgparents++;
            break;
        }
        case ISO_TLV_CG_MEMORY_MAX:
            if (get_u64(v, n, &limits.memory_max, why) < 0)
                return -1;
            if (limits.memory_max == 0) {
                *why = "CG_MEMORY_MAX must not be 0";
                return -1;
            }
            limits.has_memory = true;
            break;
        case ISO_TLV_CG_SWAP_MAX:
            if (get_u64(v, n, &limits.swap_max, why) < 0)
                return -1;
            break;
        case ISO_TLV_CG_PIDS_MAX:
            if (get_u64(v, n, &limits.pids_max, why) < 0)
                return -1;
            if (limits.pids_max == 0) {
                *why = "CG_PIDS_MAX must not be 0";
                return -1;
            }
            limits.has_pids = true;
            break;
        case ISO_TLV_CG_CPU_QUOTA:
            if (n != 16) {
                *why = "CG_CPU_QUOTA must be 16 bytes";
                return -1;
            }
            limits.cpu_quota_us = wire_get64(v);
            limits.cpu_period_us = wire_get64(v + 8);
            /* the kernel's bounds: period 1 ms..1 s, quota at least 1 ms */
            if (limits.cpu_period_us < 1000 || limits.cpu_period_us > 1000000 ||
                limits.cpu_quota_us < 1000 || limits.cpu_quota_us > (UINT64_C(1) << 40)) {
                *why = "CG_CPU_QUOTA out of range";
                return -1;
            }
            limits.has_cpu_quota = true;
            break;
        case ISO_TLV_CG_CPU_WEIGHT:
            if (get_u64(v, n, &limits.cpu_weight, why) < 0)
                return -1;
            if (limits.cpu_weight < 1 || limits.cpu_weight > 10000) {
                *why = "CG_CPU_WEIGHT must be 1..10000";
                return -1;
            }
            limits.has_cpu_weight = true;
            break;
        case ISO_TLV_UID_MAP:
            is_string = true;
            string_slot = out ? &out->uid_map : NULL;
            break;
        case ISO_TLV_GID_MAP:
            is_string = true;
            string_slot = out ? &out->gid_map : NULL;
            break;
        case ISO_TLV_NEWUIDMAP:
            is_string = true;
            string_slot = out ? &out->newuidmap : NULL;
            break;
        case ISO_TLV_NEWGIDMAP:
            is_string = true;
            string_slot = out ? &out->newgidmap : NULL;
            break;
        case ISO_TLV_ROOTFS:
            is_string = true;
            string_slot = out ? &out->rootfs : NULL;
            break;
        case ISO_TLV_HOSTNAME:
            is_string = true;
            string_slot = out ? &out->hostname : NULL;
            break;
        case ISO_TLV_CLONE_FLAGS:
            if (n != 8) {
                *why = "CLONE_FLAGS must be 8 bytes";
                return -1;
            }
            if (wire_get64(v) & ~ALLOWED_CLONE_FLAGS) {
                *why = "CLONE_FLAGS has flags other than CLONE_NEW*";
                return -1;
            }
            if (out)
                out->clone_flags = wire_get64(v);
            break;
        case ISO_TLV_RUN_AS:
            if (n != 8) {
                *why = "RUN_AS must be 8 bytes";
                return -1;
            }
            if (out) {
                out->has_run_as = true;
                out->run_uid = wire_get32(v);
                out->run_gid = wire_get32(v + 4);
            }
            break;
        case ISO_TLV_UNSHARE_TIME:
        case ISO_TLV_SETGROUPS_DENY:
        case ISO_TLV_ROOT_WRITABLE:
        case ISO_TLV_INIT:
            if (n != 0) {
                *why = "flag TLV must be empty";
                return -1;
            }
            if (out) {
                if (h.tag == ISO_TLV_UNSHARE_TIME)
                    out->unshare_time = true;
                else if (h.tag == ISO_TLV_SETGROUPS_DENY)
                    out->setgroups_deny = true;
                else if (h.tag == ISO_TLV_INIT)
                    out->init = true;
                else
                    out->root_writable = true;
            }
            break;
        case ISO_TLV_MOUNT: {
            if (n < MOUNT_FIXED_LEN + 2) {
                *why = "MOUNT too short";
                return -1;
            }
            uint32_t kind = wire_get32(v), flags = wire_get32(v + 4);
            if (kind != ISO_MOUNT_BIND && kind != ISO_MOUNT_TMPFS) {
                *why = "MOUNT has an unknown kind";
                return -1;
            }
            if (flags & ~(uint32_t)ISO_MOUNTF_READONLY) {
                *why = "MOUNT has unknown flags";
                return -1;
            }
            /* exactly two NUL-terminated strings, the second one ending the value */
            const uint8_t *strs = v + MOUNT_FIXED_LEN;
            size_t slen = n - MOUNT_FIXED_LEN;
            const uint8_t *nul = memchr(strs, 0, slen);
            if (!nul || nul == strs + slen - 1 || strs[slen - 1] != 0 ||
                memchr(nul + 1, 0, slen - (size_t)(nul + 1 - strs)) != strs + slen - 1) {
                *why = "MOUNT source/destination malformed";
                return -1;
            }
            if (out) {
                struct mount_spec *m = &out->mounts[nmounts];
                m->kind = kind;
                m->flags = flags;
                m->size = wire_get64(v + 8);
                memcpy(*chars, strs, slen);
                m->source = *chars;
                m->dest = *chars + (nul - strs) + 1;
                *chars += slen;
            } else {
                c->chars += slen;
            }
            nmounts++;
            break;
        }
        default:
            *why = "unknown TLV tag";
            return -1;
        }

        if (is_string) {
            if (memchr(v, 0, n)) {
                *why = "string TLV contains a NUL byte";
                return -1;
            }
            if (out && string_slot)
                *string_slot = copy_string(chars, v, n);
            if (!out)
                c->chars += (size_t)n + 1;
        }
    }

    if (nargs == 0) {
        *why = "LAUNCH without ARG";
        return -1;
    }
    if (limits.swap_max > 0 && !limits.has_memory) {
        *why = "CG_SWAP_MAX without CG_MEMORY_MAX";
        return -1;
    }
    if (check_cgroup(&limits, cgroles, ncgparents, why) < 0)
        return -1;
    if (out)
        out->limits = limits;
    else
        c->cgroup_parents = ncgparents;
    if (!out) {
        c->args = nargs;
        c->envs = nenvs;
        c->mounts = nmounts;
        c->cgroups = ncgroups;
    }
    return 0;
}

int spec_parse(const uint8_t *payload, size_t len, struct launch_spec *out, const char **why)
{
    struct counts c = {0};
    memset(out, 0, sizeof *out);
    if (walk(payload, len, &c, NULL, NULL, why) < 0)
        return -1;

    /* arena: mounts and cgroup parents (8-aligned first), argv, envp, cgroup paths, then the
     * characters */
    size_t size = c.mounts * sizeof(struct mount_spec) +
                  c.cgroup_parents * sizeof(struct cgroup_parent) + (c.args + 1) * sizeof(char *) +
                  (c.envs + 1) * sizeof(char *) + c.cgroups * sizeof(char *) + c.chars;
    char *arena = malloc(size ? size : 1);
    if (!arena) {
        *why = "out of memory";
        return -1;
    }
    char *p = arena;
    out->arena = arena;
    out->mounts = (struct mount_spec *)(void *)p;
    out->mount_count = c.mounts;
    p += c.mounts * sizeof(struct mount_spec);
    out->cgroup_parents = (struct cgroup_parent *)(void *)p;
    out->cgroup_parent_count = c.cgroup_parents;
    p += c.cgroup_parents * sizeof(struct cgroup_parent);
    out->argv = (char **)(void *)p;
    out->argc = c.args;
    p += (c.args + 1) * sizeof(char *);
    out->envp = (char **)(void *)p;
    p += (c.envs + 1) * sizeof(char *);
    out->cgroup_procs = (const char **)(void *)p;
    out->cgroup_count = c.cgroups;
    p += c.cgroups * sizeof(char *);
    out->argv[c.args] = NULL;
    out->envp[c.envs] = NULL;

    if (walk(payload, len, &c, out, &p, why) < 0) { /* cannot happen: validated above */
        spec_free(out);
        return -1;
    }
    return 0;
}

void spec_free(struct launch_spec *spec)
{
    free(spec->arena);
    spec->arena = NULL;
}
