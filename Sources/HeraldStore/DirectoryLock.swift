#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a data directory (`flock` on its `LOCK` file), so two servers never write
/// one journal. Held until `release()` or the process ends (the kernel drops it on exit, even on
/// SIGKILL, so a crash leaves no stale lock).
public final class DirectoryLock: @unchecked Sendable {
    private var fd: Int32

    public init(directory: String) throws(StoreError) {
        let path = directory + "/LOCK"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK ? "another herald is using this data directory" : String(cString: strerror(errno))
            close(fd)
            fd = -1
            throw .io("cannot lock \(path): \(reason)")
        }
    }

    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }
}
