package dev.isolation.it.support;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * A child JVM for FilesystemIT, run inside a sandbox: asks the kernel to clear the read-only
 * flag of the mount at its argument with {@code mount_setattr}, and to clone that mount
 * without the flag with {@code open_tree_attr}, then prints {@code NAME ok} or
 * {@code NAME errno N} for each. Busybox has no tool that makes these calls.
 * Arguments: {@code PATH}.
 */
public final class MountAttrProbe {
    private static final long MOUNT_SETATTR_X86_64 = 442;
    private static final long OPEN_TREE_ATTR_X86_64 = 467;
    private static final int AT_FDCWD = -100;
    private static final int OPEN_TREE_CLONE = 1;
    private static final long MOUNT_ATTR_RDONLY = 1;
    /** struct mount_attr: attr_set, attr_clr, propagation, userns_fd (u64 each) */
    private static final long MOUNT_ATTR_SIZE = 32;

    private MountAttrProbe() {
    }

    public static void main(String[] args) {
        if (!"amd64".equals(System.getProperty("os.arch"))) {
            throw new IllegalStateException("syscall numbers are x86_64's; this is " + System.getProperty("os.arch"));
        }
        Function syscall = NativeLibrary.getInstance("c").getFunction("syscall");
        Memory attr = new Memory(MOUNT_ATTR_SIZE);
        attr.clear();
        attr.setLong(8, MOUNT_ATTR_RDONLY); // attr_clr
        report("mount_setattr", syscall.invokeLong(new Object[] {MOUNT_SETATTR_X86_64, AT_FDCWD, args[0], 0, attr, MOUNT_ATTR_SIZE}));
        report("open_tree_attr", syscall.invokeLong(new Object[] {OPEN_TREE_ATTR_X86_64, AT_FDCWD, args[0], OPEN_TREE_CLONE, attr, MOUNT_ATTR_SIZE}));
    }

    private static void report(String call, long result) {
        System.out.println(result >= 0 ? call + " ok" : call + " errno " + Native.getLastError());
    }
}
