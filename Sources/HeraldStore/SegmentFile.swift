/// One open segment file. Reference-counted so a reader that took it under the journal's lock can
/// `pread` after releasing the lock even if reclamation removes the segment meanwhile: the
/// descriptor closes when the last holder lets go, never under a reader.
final class SegmentFile: Sendable {
    let id: UInt32
    let name: String
    let path: String
    let fd: Int32
    private let files: any JournalFileSystem

    init(id: UInt32, directory: String, fd: Int32, files: any JournalFileSystem) {
        self.id = id
        name = SegmentFile.name(of: id)
        path = directory + "/" + name
        self.fd = fd
        self.files = files
    }

    deinit { files.close(fd) }

    /// `0000000042.seg`.
    static func name(of id: UInt32) -> String {
        let digits = String(id)
        return String(repeating: "0", count: max(0, 10 - digits.count)) + digits + ".seg"
    }

    /// The id a file name stands for, nil for other files.
    static func id(ofName name: String) -> UInt32? {
        guard name.hasSuffix(".seg"), name.utf8.count == 14 else { return nil }
        let digits = name.prefix(10)
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt32(digits)
    }

    /// The whole file up to `size` (recovery and replay; one segment at a time).
    func readAll(size: Int) throws(StoreError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: size)
        let got = try files.read(fd, into: &buffer, at: 0)
        if got < size { buffer.removeLast(size - got) }
        return buffer
    }
}

/// The journal's bookkeeping for one segment (held under its lock).
struct SegmentInfo {
    let file: SegmentFile
    /// Bytes of verified frames (the write position for the active segment).
    var size: Int
    var liveMessages = 0
    var liveMeta = 0
    var liveBytes = 0
    var liveRecords: Int { liveMessages + liveMeta }
}
