package dev.isolation.linux.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Constants and encoding of the helper protocol; the C side is {@code src/main/c/protocol.h}. */
final class Protocol {
    private Protocol() {
    }

    static final int VERSION = 2;
    static final int HEADER_BYTES = 16;
    static final int MAX_FRAME = 64 * 1024 * 1024;

    static final int MSG_LAUNCH = 1;
    static final int MSG_SIGNAL = 2;
    static final int MSG_JOIN = 3;
    static final int MSG_SIGNAL_ALL = 4;
    static final int MSG_HELLO = 100;
    static final int MSG_STARTED = 101;
    static final int MSG_FAILED = 102;
    static final int MSG_EXITED = 103;
    static final int MSG_PROTOCOL_ERROR = 199;

    static final int TLV_ARG = 1;
    static final int TLV_ENV = 2;
    static final int TLV_CWD = 3;
    static final int TLV_CLONE_FLAGS = 4;
    static final int TLV_UNSHARE_TIME = 5;
    static final int TLV_UID_MAP = 6;
    static final int TLV_GID_MAP = 7;
    static final int TLV_NEWUIDMAP = 8;
    static final int TLV_NEWGIDMAP = 9;
    static final int TLV_SETGROUPS_DENY = 10;
    static final int TLV_ROOTFS = 11;
    static final int TLV_ROOT_WRITABLE = 12;
    static final int TLV_MOUNT = 13;
    static final int TLV_HOSTNAME = 14;
    static final int TLV_RUN_AS = 15;
    static final int TLV_CGROUP_PROCS = 16;
    static final int TLV_INIT = 17;
    static final int TLV_CG_MEMORY_MAX = 20;
    static final int TLV_CG_SWAP_MAX = 21;
    static final int TLV_CG_PIDS_MAX = 22;
    static final int TLV_CG_CPU_QUOTA = 23;
    static final int TLV_CG_CPU_WEIGHT = 24;
    static final int TLV_CG_PARENT = 25;
    static final int TLV_JOIN_LAUNCH = 30;
    static final int TLV_JOIN_PID = 31;
    static final int TLV_JOIN_NAMESPACES = 32;
    /** In the RUN_AS of a JOIN: this id is the target's. */
    static final int JOIN_TARGETS_ID = -1;

    /** struct iso_exit flags */
    static final int EXIT_HAS_CGROUP = 1;
    static final int EXIT_OOM_KILLED = 2;

    static final int MOUNT_BIND = 1;
    static final int MOUNT_TMPFS = 2;
    static final int MOUNTF_READONLY = 1;

    static final long CLONE_NEWTIME = 0x00000080L;
    static final long CLONE_NEWNS = 0x00020000L;
    static final long CLONE_NEWCGROUP = 0x02000000L;
    static final long CLONE_NEWUTS = 0x04000000L;
    static final long CLONE_NEWIPC = 0x08000000L;
    static final long CLONE_NEWUSER = 0x10000000L;
    static final long CLONE_NEWPID = 0x20000000L;
    static final long CLONE_NEWNET = 0x40000000L;

    /** Builds the TLV payload of a LAUNCH frame. Not thread-safe. */
    static final class TlvWriter {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(512);

        TlvWriter string(int tag, String value) {
            return bytes(tag, value.getBytes(StandardCharsets.UTF_8));
        }

        TlvWriter empty(int tag) {
            return bytes(tag, new byte[0]);
        }

        TlvWriter u64(int tag, long value) {
            return bytes(tag, buffer(8).putLong(value).array());
        }

        TlvWriter ids(int tag, int first, int second) {
            return bytes(tag, buffer(8).putInt(first).putInt(second).array());
        }

        TlvWriter mount(int kind, int flags, long size, String source, String destination) {
            byte[] src = source.getBytes(StandardCharsets.UTF_8);
            byte[] dst = destination.getBytes(StandardCharsets.UTF_8);
            ByteBuffer value = buffer(16 + src.length + 1 + dst.length + 1);
            value.putInt(kind).putInt(flags).putLong(size).put(src).put((byte) 0).put(dst).put((byte) 0);
            return bytes(TLV_MOUNT, value.array());
        }

        TlvWriter bytes(int tag, byte[] value) {
            byte[] header = buffer(8).putShort((short) tag).putShort((short) 0).putInt(value.length).array();
            out.writeBytes(header);
            out.writeBytes(value);
            return this;
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }

    static ByteBuffer buffer(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.nativeOrder());
    }

    static byte[] header(int length, int type, int fdCount, long id) {
        return buffer(HEADER_BYTES).putInt(length).putShort((short) type).putShort((short) fdCount).putLong(id).array();
    }
}
