import HeraldStore

/// The journal's write counters, for benchmarks and monitoring (`herald bench queue` reports
/// fdatasyncs per second from them). A snapshot: read it before and after and subtract.
public struct StoreStatistics: Sendable, Hashable {
    /// Writer passes that wrote something (one group commit each).
    public var passes: Int
    public var recordsWritten: Int
    public var bytesWritten: Int64
    public var fdatasyncs: Int
}

extension Server {
    /// The journal's counters; nil before `start` and without a data directory (memory store).
    /// Any thread: it takes the journal's state lock for a copy.
    public var storeStatistics: StoreStatistics? {
        guard let journal = queueStack?.store as? LocalJournal else { return nil }
        let stats = journal.stats
        return StoreStatistics(
            passes: stats.passes, recordsWritten: stats.recordsWritten, bytesWritten: stats.bytesWritten, fdatasyncs: stats.fdatasyncs)
    }
}
