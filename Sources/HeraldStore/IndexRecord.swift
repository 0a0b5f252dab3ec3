import HeraldCore

/// A record as start-up needs it: a `.message` record without its body, attributes, topic,
/// subject or subscription names (what `QueueManager.open` folds into its index), any other kind
/// decoded in full. Decoding one checks the same things a full decode checks (counts, UTF-8,
/// duplicate attribute names, no trailing bytes) but allocates nothing for what it skips, so a
/// replay of a large journal neither copies every body nor builds every attribute dictionary.
public enum IndexRecord: Sendable, Hashable {
    case message(MessageIndex)
    case other(JournalRecord)

    /// The index form of a decoded record (what the stores without a lighter decode replay).
    public init(_ record: JournalRecord) {
        guard case .message(let message) = record else {
            self = .other(record)
            return
        }
        self = .message(MessageIndex(
            entry: message.entry, messageID: message.messageID, sentAtMillis: message.sentAtMillis,
            bodySize: UInt32(clamping: message.body.count), groupID: message.groupID,
            deduplicationID: message.deduplicationID,
            targets: message.targets.map {
                .init(queue: $0.queue, visibleAtMillis: $0.visibleAtMillis, receiveCount: $0.receiveCount,
                      firstReceiveAtMillis: $0.firstReceiveAtMillis)
            }))
    }
}

/// What a queue's index keeps of a stored message (see `StoredMessage` for the fields' meaning).
public struct MessageIndex: Sendable, Hashable {
    public var entry: UInt64
    public var messageID: String
    public var sentAtMillis: Int64
    public var bodySize: UInt32
    public var groupID: String?
    public var deduplicationID: String?
    public var targets: [Target]

    /// One queue holding the message, and its state there.
    public struct Target: Sendable, Hashable {
        public var queue: UInt32
        public var visibleAtMillis: Int64
        public var receiveCount: UInt32
        public var firstReceiveAtMillis: Int64

        public init(queue: UInt32, visibleAtMillis: Int64, receiveCount: UInt32, firstReceiveAtMillis: Int64) {
            self.queue = queue
            self.visibleAtMillis = visibleAtMillis
            self.receiveCount = receiveCount
            self.firstReceiveAtMillis = firstReceiveAtMillis
        }
    }

    public init(
        entry: UInt64, messageID: String, sentAtMillis: Int64, bodySize: UInt32, groupID: String?,
        deduplicationID: String?, targets: [Target]
    ) {
        self.entry = entry
        self.messageID = messageID
        self.sentAtMillis = sentAtMillis
        self.bodySize = bodySize
        self.groupID = groupID
        self.deduplicationID = deduplicationID
        self.targets = targets
    }
}

extension LogStore {
    /// `replay` in index form (same order, same records). A store with a lighter decode
    /// (`LocalJournal`) implements it itself; this default decodes in full and converts.
    public func replayIndex(_ visit: (IndexRecord, LogPosition) throws(StoreError) -> Void) throws(StoreError) {
        try replay { record, position throws(StoreError) in try visit(IndexRecord(record), position) }
    }
}

extension JournalRecordCodec {
    /// Decodes a payload of `kind` like `decode(kind:payload:)` (the same bytes are accepted and
    /// refused), a `.message` one into its index form only. Never traps on bad input.
    public static func decodeIndex(kind rawKind: UInt8, payload: ArraySlice<UInt8>) throws(JournalDecodeError) -> IndexRecord {
        guard rawKind == JournalFormat.Kind.message.rawValue else { return .other(try decode(kind: rawKind, payload: payload)) }
        var r = ByteReader(payload)
        let index = try decodeMessageIndex(&r)
        guard r.isAtEnd else { throw JournalDecodeError("\(r.remaining) trailing bytes after the record", at: r.position) }
        return .message(index)
    }

    /// The layout is the `message` line of the format in JournalRecordCodec.swift's header.
    private static func decodeMessageIndex(_ r: inout ByteReader) throws(JournalDecodeError) -> MessageIndex {
        let entry = try r.u64()
        let messageID = try r.string()
        try r.skipString()  // topic
        if try r.flag() { try r.skipString() }  // subject
        let sentAt = try r.i64()
        let attributeCount = try r.count(elementSize: 13)
        // Names are compared as the full decode's dictionary compares them (as Strings), and only
        // when there are several.
        var names: [String] = []
        for _ in 0..<attributeCount {
            let at = r.position
            let name = try r.stringBytes()
            try r.skipString()  // data type
            switch try r.u8() {
            case UInt8(ascii: "S"): try r.skipString()
            case UInt8(ascii: "B"): _ = try r.skipByteArray()
            case let other: throw JournalDecodeError("unknown attribute value kind \(other)", at: r.position - 1)
            }
            if attributeCount > 1 {
                let text = String(decoding: name, as: UTF8.self)
                guard !names.contains(text) else { throw JournalDecodeError("duplicate attribute \(text)", at: at) }
                names.append(text)
            }
        }
        let bodySize = try r.skipByteArray()
        let groupID = try r.optionalString()
        let deduplicationID = try r.optionalString()
        let targetCount = try r.count(elementSize: 29)
        var targets: [MessageIndex.Target] = []
        targets.reserveCapacity(targetCount)
        for _ in 0..<targetCount {
            let queue = try r.u32()
            try r.skipString()  // subscription
            _ = try r.flag()  // raw
            targets.append(MessageIndex.Target(
                queue: queue, visibleAtMillis: try r.i64(), receiveCount: try r.u32(), firstReceiveAtMillis: try r.i64()))
        }
        return MessageIndex(
            entry: entry, messageID: messageID, sentAtMillis: sentAt, bodySize: UInt32(clamping: bodySize),
            groupID: groupID, deduplicationID: deduplicationID, targets: targets)
    }
}
