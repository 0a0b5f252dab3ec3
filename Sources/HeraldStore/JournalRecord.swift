import HeraldCore

/// One record of the log. The byte format of each kind is `JournalRecordCodec`'s (documented in
/// its file header and docs/STORAGE.md); this is the decoded form.
public enum JournalRecord: Hashable, Sendable {
    /// A message and the queues it was enqueued to (one record however many queues: they share it).
    /// A `.message` record for an entry that already exists *replaces* that entry's state (a copy
    /// carried forward by compaction): queues not listed no longer hold it.
    case message(StoredMessage)
    /// Queue `queue` deleted (or expired, or moved away) these entries.
    case delete(queue: UInt32, entries: [UInt64])
    /// Receives and visibility changes on queue `queue`: each entry's new state.
    case visibility(queue: UInt32, marks: [VisibilityMark])
    /// Every entry of `queue` up to and including `throughEntry` is gone (PurgeQueue).
    case purge(queue: UInt32, throughEntry: UInt64)
    /// A metadata key's new value (nil: deleted) and its revision.
    case meta(key: String, value: [UInt8]?, revision: UInt64)
}

/// A message as the journal keeps it.
public struct StoredMessage: Hashable, Sendable {
    /// Store-wide id of this stored message, increasing in log order of first append, stable
    /// across compaction copies. Deletes and visibility marks name it.
    public var entry: UInt64
    public var messageID: String
    /// The topic it was published to; empty for a message sent straight to a queue.
    public var topic: String
    public var subject: String?
    /// Publish (or send) time, milliseconds since 1970.
    public var sentAtMillis: Int64
    public var attributes: MessageAttributes
    public var body: [UInt8]
    public var groupID: String?
    public var deduplicationID: String?
    /// The queues that hold it, each with its own state.
    public var targets: [QueueTarget]

    public init(
        entry: UInt64, messageID: String, topic: String = "", subject: String? = nil, sentAtMillis: Int64,
        attributes: MessageAttributes = [:], body: [UInt8], groupID: String? = nil, deduplicationID: String? = nil,
        targets: [QueueTarget]
    ) {
        self.entry = entry
        self.messageID = messageID
        self.topic = topic
        self.subject = subject
        self.sentAtMillis = sentAtMillis
        self.attributes = attributes
        self.body = body
        self.groupID = groupID
        self.deduplicationID = deduplicationID
        self.targets = targets
    }

    /// One queue holding the message.
    public struct QueueTarget: Hashable, Sendable {
        public var queue: UInt32
        /// The subscription that put it there (empty: sent to the queue directly). Decides the
        /// body a receive sees: SNS's JSON envelope, or the raw message when `raw`.
        public var subscription: String
        public var raw: Bool
        /// Not visible before this time (DelaySeconds, or a visibility timeout carried forward).
        public var visibleAtMillis: Int64
        public var receiveCount: UInt32
        /// 0 until first received.
        public var firstReceiveAtMillis: Int64

        public init(queue: UInt32, subscription: String = "", raw: Bool = true, visibleAtMillis: Int64, receiveCount: UInt32 = 0, firstReceiveAtMillis: Int64 = 0) {
            self.queue = queue
            self.subscription = subscription
            self.raw = raw
            self.visibleAtMillis = visibleAtMillis
            self.receiveCount = receiveCount
            self.firstReceiveAtMillis = firstReceiveAtMillis
        }
    }
}

/// An entry's state after a receive or a visibility change.
public struct VisibilityMark: Hashable, Sendable {
    public var entry: UInt64
    public var visibleAtMillis: Int64
    public var receiveCount: UInt32
    public var firstReceiveAtMillis: Int64

    public init(entry: UInt64, visibleAtMillis: Int64, receiveCount: UInt32, firstReceiveAtMillis: Int64) {
        self.entry = entry
        self.visibleAtMillis = visibleAtMillis
        self.receiveCount = receiveCount
        self.firstReceiveAtMillis = firstReceiveAtMillis
    }
}
