/// A message as the broker holds it after a publish was accepted. Its fields live in one shared,
/// immutable storage object: every delivery, pending entry and in-flight record of a fan-out holds
/// one reference to the same storage (one retain per copy, not one per field). Setters copy the
/// storage first when it is shared, so value semantics hold.
public struct Message: Sendable {
    @usableFromInline
    final class Storage: Sendable {
        @usableFromInline let id: MessageID
        @usableFromInline let topic: String
        @usableFromInline let attributes: MessageAttributes
        @usableFromInline let body: [UInt8]
        @usableFromInline let groupID: String?
        @usableFromInline let deduplicationID: String?
        @usableFromInline let subject: String?
        @usableFromInline let transportCache: (any MessageTransportCache)?
        @usableFromInline let protocolBodies: ProtocolBodies?
        /// `id`'s canonical text, rendered once here: every delivery's MSG line carries it, and a
        /// fan-out rendered it once per subscriber. Nil for ids that are not UUIDs.
        @usableFromInline let idText: MessageID.UUIDText?

        init(
            id: MessageID, topic: String, attributes: MessageAttributes, body: [UInt8],
            groupID: String?, deduplicationID: String?, subject: String?, transportCache: (any MessageTransportCache)?,
            protocolBodies: ProtocolBodies? = nil
        ) {
            self.transportCache = transportCache
            self.protocolBodies = protocolBodies
            self.subject = subject
            self.id = id
            self.idText = id.uuidText
            self.topic = topic
            self.attributes = attributes
            self.body = body
            self.groupID = groupID
            self.deduplicationID = deduplicationID
        }
    }

    @usableFromInline var storage: Storage

    // The getters are inlinable so other modules read a field in place instead of through a call
    // that returns it retained (a fan-out reads each message's fields per delivery).

    /// `transportCache`: whatever the protocol that carried the publish keeps with the message so
    /// its deliveries need not encode it again (the stream protocol keeps the attribute section as
    /// the publisher sent it). Opaque here: only the layer that made it reads it.
    /// `protocolBodies`: SNS `MessageStructure=json` texts per protocol; `body` is then their `default`.
    public init(
        id: MessageID, topic: String, attributes: MessageAttributes, body: [UInt8],
        groupID: String? = nil, deduplicationID: String? = nil, subject: String? = nil, transportCache: (any MessageTransportCache)? = nil,
        protocolBodies: ProtocolBodies? = nil
    ) {
        storage = Storage(
            id: id, topic: topic, attributes: attributes, body: body, groupID: groupID,
            deduplicationID: deduplicationID, subject: subject, transportCache: transportCache, protocolBodies: protocolBodies)
    }

    /// The per-protocol texts of an SNS `MessageStructure=json` publish (nil: one body for all).
    @inlinable public var protocolBodies: ProtocolBodies? { storage.protocolBodies }

    /// SNS's `Subject`, when the publisher gave one (it reaches envelopes, not stream deliveries).
    @inlinable public var subject: String? { storage.subject }

    /// See `init`: nil when the carrying protocol kept nothing.
    @inlinable public var transportCache: (any MessageTransportCache)? { storage.transportCache }

    public var id: MessageID {
        @inlinable get { storage.id }
        set { update(id: newValue) }
    }
    public var topic: String {
        @inlinable get { storage.topic }
        set { update(topic: newValue) }
    }
    public var attributes: MessageAttributes {
        @inlinable get { storage.attributes }
        set { update(attributes: newValue) }
    }
    public var body: [UInt8] {
        @inlinable get { storage.body }
        set { update(body: newValue) }
    }
    /// FIFO message group and deduplication ids, when the publisher gave them.
    public var groupID: String? {
        @inlinable get { storage.groupID }
        set { update(groupID: .some(newValue)) }
    }
    public var deduplicationID: String? {
        @inlinable get { storage.deduplicationID }
        set { update(deduplicationID: .some(newValue)) }
    }

    /// `id.text` rendered when the message was made, for ids that are UUIDs (nil for others).
    @inlinable public var idText: MessageID.UUIDText? { storage.idText }

    /// True when both values share one storage (the same accepted publish).
    @inlinable public func isSameInstance(as other: Message) -> Bool { storage === other.storage }

    private mutating func update(
        id: MessageID? = nil, topic: String? = nil, attributes: MessageAttributes? = nil, body: [UInt8]? = nil,
        groupID: String?? = nil, deduplicationID: String?? = nil
    ) {
        let old = storage
        storage = Storage(
            id: id ?? old.id, topic: topic ?? old.topic, attributes: attributes ?? old.attributes,
            body: body ?? old.body, groupID: groupID ?? old.groupID,
            deduplicationID: deduplicationID ?? old.deduplicationID, subject: old.subject,
            transportCache: nil,  // a changed message no longer matches what a protocol kept
            protocolBodies: body == nil ? old.protocolBodies : nil)  // a new body replaces every protocol's text
    }
}

/// A message id as SNS shows it: a random (version 4) UUID in canonical lower-case text. Ids the
/// server makes are held as 128 bits inline (no heap text per message) and rendered only when
/// encoded; an id read from elsewhere that is not a canonical UUID keeps its text as given.
public struct MessageID: Sendable, Hashable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64
    /// Set only for ids that are not canonical lower-case UUIDs.
    private let other: String?

    /// The id whose canonical text spells these 128 bits (big-endian: `high` is the first 8 bytes).
    public init(high: UInt64, low: UInt64) {
        self.init(high: high, low: low, other: nil)
    }

    public init(text: String) {
        if let (high, low) = Self.parseCanonical(text) {
            self.init(high: high, low: low, other: nil)
        } else {
            self.init(high: 0, low: 0, other: text)
        }
    }

    private init(high: UInt64, low: UInt64, other: String?) {
        self.high = high
        self.low = low
        self.other = other
    }

    /// The canonical text: 36 characters for a UUID.
    public var text: String {
        if let other { return other }
        return String(unsafeUninitializedCapacity: Self.uuidTextLength) { buffer in
            guard let base = buffer.baseAddress else { return 0 }
            writeUUID(to: base)
            return Self.uuidTextLength
        }
    }

    public var description: String { text }

    /// Length in bytes of `text`'s UTF-8.
    public var utf8Count: Int { other?.utf8.count ?? Self.uuidTextLength }

    /// Calls `body` with the UTF-8 of `text`, without building a String for UUID ids.
    @inlinable
    public func withUTF8<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if var other = otherText {
            return try other.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
        }
        var scratch: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)  // 40 ≥ 36 bytes
        return try withUnsafeMutableBytes(of: &scratch) { raw in
            let base = raw.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: UInt8.self)
            writeUUID(to: base)
            return try body(UnsafeRawBufferPointer(start: base, count: Self.uuidTextLength))
        }
    }

    /// The text of an id that is not a canonical UUID (nil for UUID ids).
    public var otherText: String? { other }

    /// Length of a UUID's canonical text.
    public static let uuidTextLength = 36

    /// A UUID id's canonical text held inline (its first 36 of 40 bytes).
    public struct UUIDText: Sendable {
        public var words: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        public init() {}
    }

    /// The canonical text of a UUID id; nil for an id kept as other text (`otherText`).
    public var uuidText: UUIDText? {
        guard other == nil else { return nil }
        var text = UUIDText()
        withUnsafeMutableBytes(of: &text.words) { raw in
            writeUUID(to: raw.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: UInt8.self))
        }
        return text
    }

    /// Writes the 36 canonical UUID characters at `base`: 8-4-4-4-12 hex digits of `high` then
    /// `low`, each group of up to 8 digits rendered in one register (every PUBOK and MSG carries
    /// an id, and a digit-at-a-time loop showed in profiles).
    public func writeUUID(to base: UnsafeMutablePointer<UInt8>) {
        // Four 32-bit words, eight digits each; the middle two words are split by a dash each.
        let raw = UnsafeMutableRawPointer(base)
        let second = Self.hex8(UInt32(truncatingIfNeeded: high))
        let third = Self.hex8(UInt32(truncatingIfNeeded: low >> 32))
        raw.storeBytes(of: Self.hex8(UInt32(truncatingIfNeeded: high >> 32)), as: UInt64.self)
        raw.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 8, as: UInt8.self)
        // Little-endian (x86-64, arm64): the low half of a digit word holds its first four digits.
        raw.storeBytes(of: UInt32(truncatingIfNeeded: second), toByteOffset: 9, as: UInt32.self)
        raw.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 13, as: UInt8.self)
        raw.storeBytes(of: UInt32(truncatingIfNeeded: second >> 32), toByteOffset: 14, as: UInt32.self)
        raw.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 18, as: UInt8.self)
        raw.storeBytes(of: UInt32(truncatingIfNeeded: third), toByteOffset: 19, as: UInt32.self)
        raw.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 23, as: UInt8.self)
        raw.storeBytes(of: UInt32(truncatingIfNeeded: third >> 32), toByteOffset: 24, as: UInt32.self)
        raw.storeBytes(of: Self.hex8(UInt32(truncatingIfNeeded: low)), toByteOffset: 28, as: UInt64.self)
    }

    /// The 8 lower-case hex digits of `value` as 8 bytes in memory order (most significant first).
    @inline(__always)
    private static func hex8(_ value: UInt32) -> UInt64 {
        // Spread the 8 nibbles over 8 bytes (least significant nibble in the lowest byte) ...
        var x = UInt64(value)
        x = ((x & 0xFFFF_0000) << 16) | (x & 0xFFFF)
        x = ((x & 0x0000_FF00_0000_FF00) << 8) | (x & 0x0000_00FF_0000_00FF)
        x = ((x & 0x00F0_00F0_00F0_00F0) << 4) | (x & 0x000F_000F_000F_000F)
        // ... then '0' + nibble, plus 39 more ('a' - '0' - 10) where the nibble is above 9.
        let above9 = ((x &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        x = x &+ 0x3030_3030_3030_3030 &+ above9 &* 39
        return x.bigEndian  // the most significant digit first in memory
    }

    /// The 128 bits of a canonical lower-case UUID text, or nil for any other text.
    static func parseCanonical(_ text: String) -> (UInt64, UInt64)? {
        let utf8 = text.utf8
        guard utf8.count == uuidTextLength else { return nil }
        var high: UInt64 = 0, low: UInt64 = 0
        var nibbles = 0
        var position = 0
        for byte in utf8 {
            defer { position += 1 }
            if position == 8 || position == 13 || position == 18 || position == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            let value: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            if nibbles < 16 {
                high = high << 4 | UInt64(value)
            } else {
                low = low << 4 | UInt64(value)
            }
            nibbles += 1
        }
        return (high, low)
    }

    /// A version-4 UUID from two random words.
    public static func version4(high: UInt64, low: UInt64) -> MessageID {
        let h = (high & ~UInt64(0xF000)) | 0x4000  // version nibble (byte 6)
        let l = (low & ~(UInt64(0xC0) << 56)) | (UInt64(0x80) << 56)  // variant (byte 8)
        return MessageID(high: h, low: l)
    }

    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> MessageID {
        version4(high: generator.next(), low: generator.next())
    }

    public static func random() -> MessageID {
        var g = SystemRandomNumberGenerator()
        return random(using: &g)
    }
}

/// A protocol layer's private, immutable data kept with a message (see `Message.transportCache`).
public protocol MessageTransportCache: AnyObject, Sendable {}
