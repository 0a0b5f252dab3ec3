// A journal file layer whose disk can be made "full" at will: the real POSIX calls until
// `full` is set, then every write and fdatasync fails with ENOSPC (as a full disk does).
import HeraldStore
import Synchronization

public final class FailingDisk: JournalFileSystem, Sendable {
    private let real = PosixFileSystem()
    private let isFull = Atomic<Bool>(false)
    /// Writes refused since the disk filled.
    public let refusedWrites = Atomic<Int>(0)

    public init() {}

    public var full: Bool {
        get { isFull.load(ordering: .acquiring) }
        set { isFull.store(newValue, ordering: .releasing) }
    }

    private func refuse(_ what: String) -> StoreError {
        refusedWrites.add(1, ordering: .relaxed)
        return .diskFull("\(what): No space left on device (injected)")
    }

    public func makeDirectory(_ path: String) throws(StoreError) { try real.makeDirectory(path) }
    public func listDirectory(_ path: String) throws(StoreError) -> [String] { try real.listDirectory(path) }
    public func open(_ path: String, create: Bool) throws(StoreError) -> Int32 {
        if create && full { throw refuse("open \(path)") }
        return try real.open(path, create: create)
    }
    public func close(_ fd: Int32) { real.close(fd) }
    public func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(StoreError) {
        if full { throw refuse("pwrite") }
        try real.pwrite(fd, bytes, at: offset)
    }
    public func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(StoreError) -> Int {
        try real.pread(fd, into: buffer, at: offset)
    }
    public func fdatasync(_ fd: Int32) throws(StoreError) {
        if full { throw refuse("fdatasync") }
        try real.fdatasync(fd)
    }
    public func ftruncate(_ fd: Int32, to size: Int64) throws(StoreError) { try real.ftruncate(fd, to: size) }
    public func fileSize(_ fd: Int32) throws(StoreError) -> Int64 { try real.fileSize(fd) }
    public func unlink(_ path: String) throws(StoreError) { try real.unlink(path) }
    public func syncDirectory(_ path: String) throws(StoreError) { try real.syncDirectory(path) }
}
