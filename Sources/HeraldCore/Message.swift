/// A message as the broker holds it after a publish was accepted. The payload is shared by
/// reference by every target it fans out to (arrays are copy-on-write; nobody mutates it).
public struct Message: Sendable {
    public var id: MessageID
    public var topic: String
    public var attributes: MessageAttributes
    public var body: [UInt8]
    /// FIFO message group and deduplication ids, when the publisher gave them.
    public var groupID: String?
    public var deduplicationID: String?

    public init(
        id: MessageID, topic: String, attributes: MessageAttributes, body: [UInt8],
        groupID: String? = nil, deduplicationID: String? = nil
    ) {
        self.id = id
        self.topic = topic
        self.attributes = attributes
        self.body = body
        self.groupID = groupID
        self.deduplicationID = deduplicationID
    }
}

/// A message id: a random (version 4) UUID in its canonical lower-case text form, as SNS uses.
public struct MessageID: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    public init(text: String) { self.text = text }
    public var description: String { text }

    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> MessageID {
        var bytes = [UInt8](repeating: 0, count: 16)
        var hi = generator.next() as UInt64
        var lo = generator.next() as UInt64
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: hi); hi >>= 8
            bytes[8 + i] = UInt8(truncatingIfNeeded: lo); lo >>= 8
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex: [Character] = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append("-") }
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0x0F)])
        }
        return MessageID(text: out)
    }

    public static func random() -> MessageID {
        var g = SystemRandomNumberGenerator()
        return random(using: &g)
    }
}
