/// Opening a journal directory: every segment scanned in order, every frame verified, the index
/// rebuilt (live messages, meta map, revisions). What a damaged range means:
/// - the end of the LAST segment (nothing verifies after it): a torn write, truncated and reported;
/// - anywhere else (a frame verifies after it, or it ends a non-last segment): corruption, which
///   stops the open with `.corrupt(file:offset:reason:)`, unless `repair`, which truncates the
///   segment there (nothing after it verified) or writes a padding frame over the range, and
///   reports it.
/// Runs on the caller's thread before the writer starts; reads one segment into memory at a time.
struct JournalRecovery {
    let directory: String
    let files: any JournalFileSystem
    let repair: Bool

    func run(now createdAtMillis: Int64) throws(StoreError) -> (JournalState, RecoveryReport) {
        let clock = ContinuousClock()
        let start = clock.now
        try files.makeDirectory(directory)
        let ids = try files.listDirectory(directory).compactMap(SegmentFile.id(ofName:)).sorted()
        var state = JournalState()
        var report = RecoveryReport()
        for (i, id) in ids.enumerated() {
            try recoverSegment(id, isLast: i == ids.count - 1, into: &state, &report)
        }
        if state.segments.isEmpty {
            let file = try createSegment(id: 1, directory: directory, files: files, createdAtMillis: createdAtMillis, sync: true)
            state.segments.append(SegmentInfo(file: file, size: JournalFormat.headerSize))
            state.stats.segmentsCreated += 1
        }
        report.segments = state.segments.count
        report.metaKeys = state.meta.count
        report.bytes = state.segments.reduce(0) { $0 + Int64($1.size) }
        report.duration = clock.now - start
        return (state, report)
    }

    private func recoverSegment(_ id: UInt32, isLast: Bool, into state: inout JournalState, _ report: inout RecoveryReport) throws(StoreError) {
        let name = SegmentFile.name(of: id)
        let fd = try files.open(directory + "/" + name, create: false)
        let file = SegmentFile(id: id, directory: directory, fd: fd, files: files)
        let fileSize = try files.fileSize(fd)
        guard fileSize <= Int64(UInt32.max) else { throw .corrupt(file: name, offset: 0, reason: "segment larger than 4 GiB") }
        var bytes = try file.readAll(size: Int(fileSize))
        var modified = false

        let headerProblem: String?
        switch JournalFormat.parseHeader(bytes[...]) {
        case .success(let named): headerProblem = named == id ? nil : "header names segment \(named)"
        case .failure(let error): headerProblem = error.reason
        }
        if let headerProblem {
            let tornCreation = isLast && bytes.count <= JournalFormat.headerSize
            guard tornCreation || repair else { throw .corrupt(file: name, offset: 0, reason: headerProblem) }
            let header = JournalFormat.header(segment: id, createdAtMillis: 0)
            try files.write(fd, header, at: 0)
            let range = RecoveryReport.Range(file: name, offset: 0, bytes: UInt64(min(bytes.count, JournalFormat.headerSize)))
            if tornCreation {
                try files.ftruncate(fd, to: Int64(JournalFormat.headerSize))
                report.truncatedTail = range
                bytes = header
            } else {
                report.repaired.append(range)
                bytes.replaceSubrange(0..<min(bytes.count, JournalFormat.headerSize), with: header)
            }
            report.droppedBytes += Int64(range.bytes)
            modified = true
        }

        state.segments.append(SegmentInfo(file: file, size: bytes.count))
        let damages = try SegmentScanner(bytes: bytes).scan(from: JournalFormat.headerSize) { (offset, size, record) throws(StoreError) in
            guard let record else { return }
            report.records += 1
            if case .message = record { report.messages += 1 }
            state.account(record, at: LogPosition(segment: LogSegmentID(id), offset: UInt32(offset)), size: size)
        }
        for damage in damages {
            let range = RecoveryReport.Range(file: name, offset: UInt64(damage.offset), bytes: UInt64(damage.length))
            if damage.atEnd && isLast {
                try files.ftruncate(fd, to: Int64(damage.offset))
                report.truncatedTail = range
            } else if repair && damage.atEnd {
                try files.ftruncate(fd, to: Int64(damage.offset))
                report.repaired.append(range)
            } else if repair && damage.length >= JournalFormat.frameHeaderSize {
                let padding = JournalRecordCodec.paddingFrame(size: damage.length)
                try files.write(fd, padding, at: Int64(damage.offset))
                report.repaired.append(range)
            } else {
                let why = repair ? "\(damage.reason); cannot repair a \(damage.length)-byte range" : damage.reason
                throw .corrupt(file: name, offset: UInt64(damage.offset), reason: why)
            }
            if damage.atEnd { state.segments[state.segments.count - 1].size = damage.offset }
            report.droppedBytes += Int64(damage.length)
            modified = true
        }
        if modified { try files.fdatasync(fd) }
    }
}

/// Creates segment `id` with its header; `sync`: fdatasync it and fsync the directory, so the new
/// name survives a power loss. On failure removes the half-made file.
func createSegment(id: UInt32, directory: String, files: any JournalFileSystem, createdAtMillis: Int64, sync: Bool) throws(StoreError) -> SegmentFile {
    let path = directory + "/" + SegmentFile.name(of: id)
    let fd = try files.open(path, create: true)
    let file = SegmentFile(id: id, directory: directory, fd: fd, files: files)
    do throws(StoreError) {
        let header = JournalFormat.header(segment: id, createdAtMillis: createdAtMillis)
        try files.write(fd, header, at: 0)
        if sync {
            try files.fdatasync(fd)
            try files.syncDirectory(directory)
        }
        return file
    } catch {
        try? files.unlink(path)
        throw error
    }
}
