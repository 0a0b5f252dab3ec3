#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file operations `LocalJournal` uses, injected so tests can count calls and inject faults
/// (a full disk after N bytes, a failing fdatasync). `PosixFileSystem` is the real one.
///
/// Contract: called from the journal's writer thread, from `open`/`replay` on the caller's thread,
/// and `pread` from any thread concurrently with the others; implementations must be thread-safe.
/// Every failure is a `StoreError` (`.diskFull` for ENOSPC/EDQUOT, `.io` otherwise) naming the
/// operation and path; nothing traps.
public protocol JournalFileSystem: Sendable {
    /// Creates `path` and its missing parents (no error if it exists).
    func makeDirectory(_ path: String) throws(StoreError)
    /// Names (not paths) of the entries of `path`.
    func listDirectory(_ path: String) throws(StoreError) -> [String]
    /// Opens read-write; `create`: create it (fail if it exists). Returns a descriptor.
    func open(_ path: String, create: Bool) throws(StoreError) -> Int32
    func close(_ fd: Int32)
    /// Writes all of `bytes` at `offset` or throws (some of them may have been written).
    func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(StoreError)
    /// Reads up to `buffer.count` bytes at `offset`; returns how many (fewer only at end of file).
    func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(StoreError) -> Int
    func fdatasync(_ fd: Int32) throws(StoreError)
    func ftruncate(_ fd: Int32, to size: Int64) throws(StoreError)
    func fileSize(_ fd: Int32) throws(StoreError) -> Int64
    func unlink(_ path: String) throws(StoreError)
    /// fsync of the directory itself, so a created or removed file name survives power loss.
    func syncDirectory(_ path: String) throws(StoreError)
}

/// The real file layer: POSIX calls, EINTR retried.
public struct PosixFileSystem: JournalFileSystem {
    public init() {}

    static func error(_ operation: String, _ path: String, _ code: Int32 = errno) -> StoreError {
        let text = "\(operation) \(path): \(String(cString: strerror(code)))"
        return code == ENOSPC || code == EDQUOT ? .diskFull(text) : .io(text)
    }

    public func makeDirectory(_ path: String) throws(StoreError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw Self.error("mkdir", prefix) }
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { throw .io("\(path) is not a directory") }
    }

    public func listDirectory(_ path: String) throws(StoreError) -> [String] {
        guard let dir = opendir(path) else { throw Self.error("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func open(_ path: String, create: Bool) throws(StoreError) -> Int32 {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0)
        let fd = posixOpen(path, flags, 0o644)
        guard fd >= 0 else { throw Self.error(create ? "create" : "open", path) }
        return fd
    }

    public func close(_ fd: Int32) { _ = posixClose(fd) }

    public func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(StoreError) {
        var done = 0
        while done < bytes.count {
            let n = posixPwrite(fd, bytes.baseAddress.map { $0 + done }, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.error("pwrite", "fd \(fd)")
            }
            if n == 0 { throw .io("pwrite fd \(fd): wrote nothing") }
            done += n
        }
    }

    public func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(StoreError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = posixPread(fd, buffer.baseAddress.map { $0 + done }, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.error("pread", "fd \(fd)")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    public func fdatasync(_ fd: Int32) throws(StoreError) {
        while posixFdatasync(fd) != 0 {
            if errno != EINTR { throw Self.error("fdatasync", "fd \(fd)") }
        }
    }

    public func ftruncate(_ fd: Int32, to size: Int64) throws(StoreError) {
        while posixFtruncate(fd, off_t(size)) != 0 {
            if errno != EINTR { throw Self.error("ftruncate", "fd \(fd)") }
        }
    }

    public func fileSize(_ fd: Int32) throws(StoreError) -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Self.error("fstat", "fd \(fd)") }
        return Int64(info.st_size)
    }

    public func unlink(_ path: String) throws(StoreError) {
        if posixUnlink(path) != 0 { throw Self.error("unlink", path) }
    }

    public func syncDirectory(_ path: String) throws(StoreError) {
        let fd = posixOpen(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        guard fd >= 0 else { throw Self.error("open directory", path) }
        defer { _ = posixClose(fd) }
        if fsync(fd) != 0 { throw Self.error("fsync directory", path) }
    }
}

// File-scope forwarders: inside `PosixFileSystem` the method names shadow the C functions.
private func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func posixClose(_ fd: Int32) -> Int32 { close(fd) }
private func posixPwrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int, _ at: off_t) -> Int { pwrite(fd, p, n, at) }
private func posixPread(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int, _ at: off_t) -> Int { pread(fd, p, n, at) }
private func posixFtruncate(_ fd: Int32, _ size: off_t) -> Int32 { ftruncate(fd, size) }
private func posixUnlink(_ path: String) -> Int32 { unlink(path) }
#if canImport(Glibc)
private func posixFdatasync(_ fd: Int32) -> Int32 { fdatasync(fd) }
#else
private func posixFdatasync(_ fd: Int32) -> Int32 { fsync(fd) }
#endif

extension JournalFileSystem {
    /// `pwrite` of a whole array (the closure-based pointer APIs do not carry typed throws).
    func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int64) throws(StoreError) {
        try bytes.withUnsafeBytes { raw in Result { () throws(StoreError) in try pwrite(fd, raw, at: offset) } }.get()
    }

    /// `pread` into `buffer[from...]`; returns the bytes read.
    func read(_ fd: Int32, into buffer: inout [UInt8], from index: Int = 0, at offset: Int64) throws(StoreError) -> Int {
        try buffer.withUnsafeMutableBytes { raw in
            Result { () throws(StoreError) -> Int in try pread(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[index...]), at: offset) }
        }.get()
    }
}
