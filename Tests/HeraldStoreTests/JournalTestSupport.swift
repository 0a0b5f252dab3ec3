import Dispatch
import Foundation
import HeraldStore
import Synchronization

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TempDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "/herald-store-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    var segmentFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".seg") }.sorted()
    }

    func bytes(of file: String) -> [UInt8] { (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: path + "/" + file)))) ?? [] }

    func write(_ bytes: [UInt8], to file: String) { _ = FileManager.default.createFile(atPath: path + "/" + file, contents: Data(bytes)) }
}

let testQueue = DispatchQueue(label: "herald-store-tests")

/// Appends and waits for the completion.
func appendAndWait(_ store: any LogStore, _ records: [JournalRecord]) -> Result<[LogPosition], StoreError> {
    let box = Mutex<Result<[LogPosition], StoreError>?>(nil)
    let done = DispatchSemaphore(value: 0)
    store.append(records, on: testQueue) { result in
        box.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    return box.withLock { $0 } ?? .failure(.io("no completion"))
}

func putAndWait(_ store: any MetaStore, _ key: String, _ value: [UInt8]?, _ condition: RevisionCondition?) -> Result<Revision, StoreError> {
    let box = Mutex<Result<Revision, StoreError>?>(nil)
    let done = DispatchSemaphore(value: 0)
    store.put(key, value, ifRevision: condition, on: testQueue) { result in
        box.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    return box.withLock { $0 } ?? .failure(.io("no completion"))
}

func replayAll(_ store: any LogStore) throws -> [(JournalRecord, LogPosition)] {
    var out: [(JournalRecord, LogPosition)] = []
    try store.replay { record, position in out.append((record, position)) }
    return out
}

/// The real file layer with faults to inject and calls counted.
final class FaultyFileSystem: JournalFileSystem {
    struct Settings {
        /// Bytes `pwrite` may still write before failing with ENOSPC (nil: no limit).
        var writeBudget: Int?
        /// The next this many fdatasyncs fail with EIO.
        var failingSyncs = 0
        var failTruncate = false
        /// Time each fdatasync takes (a disk's flush), to make group commit observable on tmpfs.
        var syncDelay: Duration = .zero
        var fdatasyncs = 0
        var pwrites = 0
    }

    let settings = Mutex(Settings())
    private let real = PosixFileSystem()

    func makeDirectory(_ path: String) throws(StoreError) { try real.makeDirectory(path) }
    func listDirectory(_ path: String) throws(StoreError) -> [String] { try real.listDirectory(path) }
    func open(_ path: String, create: Bool) throws(StoreError) -> Int32 { try real.open(path, create: create) }
    func close(_ fd: Int32) { real.close(fd) }

    func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(StoreError) {
        let allowed = settings.withLock { s -> Int in
            s.pwrites += 1
            guard let budget = s.writeBudget else { return bytes.count }
            let allowed = min(budget, bytes.count)
            s.writeBudget = budget - allowed
            return allowed
        }
        if allowed > 0 { try real.pwrite(fd, UnsafeRawBufferPointer(rebasing: bytes[..<allowed]), at: offset) }
        if allowed < bytes.count { throw .diskFull("pwrite: No space left on device (injected after \(allowed) bytes)") }
    }

    func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(StoreError) -> Int {
        try real.pread(fd, into: buffer, at: offset)
    }

    func fdatasync(_ fd: Int32) throws(StoreError) {
        let (fail, delay) = settings.withLock { s -> (Bool, Duration) in
            s.fdatasyncs += 1
            if s.failingSyncs > 0 {
                s.failingSyncs -= 1
                return (true, s.syncDelay)
            }
            return (false, s.syncDelay)
        }
        if delay > .zero { Thread.sleep(forTimeInterval: Double(delay.components.attoseconds) / 1e18 + Double(delay.components.seconds)) }
        if fail { throw .io("fdatasync: Input/output error (injected)") }
        try real.fdatasync(fd)
    }

    func ftruncate(_ fd: Int32, to size: Int64) throws(StoreError) {
        if settings.withLock({ $0.failTruncate }) { throw .io("ftruncate: Input/output error (injected)") }
        try real.ftruncate(fd, to: size)
    }

    func fileSize(_ fd: Int32) throws(StoreError) -> Int64 { try real.fileSize(fd) }
    func unlink(_ path: String) throws(StoreError) { try real.unlink(path) }
    func syncDirectory(_ path: String) throws(StoreError) { try real.syncDirectory(path) }
}
