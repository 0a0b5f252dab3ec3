import HeraldCore

/// A receipt handle: names one receive of one entry on one queue. Text form (35 ASCII characters,
/// within SQS's 1,024): `"HR1"`, then the entry id (16 hex digits), the receive count at that receive
/// (8 hex digits) and the queue's tag (8 hex digits, FNV-1a of the queue name, so a handle from
/// another queue is refused). The receive count is the nonce: every receive makes a new handle and
/// the old one stops matching. Not a secret (anyone who may delete from a queue may read it).
public struct ReceiptHandle: Sendable, Hashable {
    public var entry: UInt64
    public var receiveCount: UInt32
    public var queueTag: UInt32

    public init(entry: UInt64, receiveCount: UInt32, queueTag: UInt32) {
        self.entry = entry
        self.receiveCount = receiveCount
        self.queueTag = queueTag
    }

    private static let prefix = "HR1"
    static let textLength = 35

    public var text: String {
        Self.prefix + Self.hex(entry, digits: 16) + Self.hex(UInt64(receiveCount), digits: 8) + Self.hex(UInt64(queueTag), digits: 8)
    }

    /// Parses `text`; anything Herald did not write is `ReceiptHandleIsInvalid` with SQS's text.
    public init(parsing text: String) throws(HeraldError) {
        let bytes = Array(text.utf8)
        guard bytes.count == Self.textLength, text.hasPrefix(Self.prefix),
            let entry = Self.parseHex(bytes[3..<19]),
            let count = Self.parseHex(bytes[19..<27]),
            let tag = Self.parseHex(bytes[27..<35])
        else { throw QueueErrors.receiptHandleInvalid(text) }
        self.init(entry: entry, receiveCount: UInt32(truncatingIfNeeded: count), queueTag: UInt32(truncatingIfNeeded: tag))
    }

    /// The tag of a queue name: 32-bit FNV-1a (stable across restarts and builds, unlike `hashValue`).
    public static func queueTag(for name: String) -> UInt32 {
        var hash: UInt32 = 0x811C_9DC5
        for byte in name.utf8 {
            hash ^= UInt32(byte)
            hash &*= 0x0100_0193
        }
        return hash
    }

    private static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: Swift.max(0, digits - text.count)) + text
    }

    private static func parseHex(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for byte in bytes {
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }
}
