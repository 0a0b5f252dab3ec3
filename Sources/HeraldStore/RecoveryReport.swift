/// What opening a `LocalJournal` found: sizes, and every byte it dropped and why.
public struct RecoveryReport: Sendable, CustomStringConvertible {
    /// A range of a segment file (path relative to the journal directory).
    public struct Range: Hashable, Sendable {
        public var file: String
        public var offset: UInt64
        public var bytes: UInt64
    }

    public var segments = 0
    /// Records (frames other than padding) found.
    public var records = 0
    public var messages = 0
    /// Meta keys with a value after replaying every `.meta` record.
    public var metaKeys = 0
    /// Bytes of the segment files kept.
    public var bytes: Int64 = 0
    /// Bytes dropped: the torn tail plus repaired ranges.
    public var droppedBytes: Int64 = 0
    /// The last segment ended in an incomplete or invalid frame, truncated at this offset.
    public var truncatedTail: Range?
    /// Ranges dropped by `repair: true` (corruption that was not a torn tail).
    public var repaired: [Range] = []
    public var duration: Duration = .zero

    public init() {}

    /// One line for the log.
    public var description: String {
        var line = "journal recovered \(records) records (\(messages) messages, \(metaKeys) meta keys) from \(segments) segments, \(bytes) bytes"
        if let tail = truncatedTail { line += "; torn tail truncated: \(tail.file) at \(tail.offset) (\(tail.bytes) bytes)" }
        if !repaired.isEmpty {
            line += "; repaired \(repaired.count) damaged ranges: " + repaired.map { "\($0.file)@\($0.offset)+\($0.bytes)" }.joined(separator: ", ")
        }
        if droppedBytes > 0 { line += "; \(droppedBytes) bytes dropped" }
        return line + " in \(duration)"
    }
}

/// Counters since open, for metrics and tests.
public struct JournalStats: Hashable, Sendable {
    /// Writer passes that wrote something.
    public var passes = 0
    public var recordsWritten = 0
    public var bytesWritten: Int64 = 0
    public var fdatasyncs = 0
    /// Passes that failed (their appends were failed).
    public var failedPasses = 0
    /// fdatasync failures under `.interval` (no append could be failed for them).
    public var backgroundSyncFailures = 0
    public var segmentsCreated = 0
    public var segmentsRemoved = 0
    /// `.meta` records the journal re-appended to empty an old segment.
    public var metaCarried = 0
    public init() {}
}
