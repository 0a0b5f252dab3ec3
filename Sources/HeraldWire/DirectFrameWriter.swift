import HeraldCore

/// Hot-path server frames (MSG, PUBOK) encoded straight into memory the caller reserved, e.g. a
/// connection's outbound buffer: no intermediate array, no per-byte capacity checks. Each frame has
/// a `…Capacity` that bounds its size; the writer needs at least that much room and returns the
/// bytes it wrote. The bytes are exactly `FrameEncoder`'s (tests compare the two).
public enum DirectFrameWriter {
    /// Most bytes a decimal UInt64 takes.
    static let maxDecimal = 20

    /// Bound for `writeMessage` with the same arguments.
    public static func messageCapacity(
        topic: String, messageID: MessageID, attributesCount: Int, bodyCount: Int, groupID: String?
    ) -> Int {
        // "MSG " sid SP tag SP topic SP id SP alen SP blen [" redelivered"] [" group=" g] CRLF a b CRLF
        4 + maxDecimal * 4 + 5 + topic.utf8.count + messageID.utf8Count + 12
            + (groupID.map { 7 + $0.utf8.count } ?? 0) + 4 + attributesCount + bodyCount
    }

    /// Writes one MSG frame at `base` (which has at least `messageCapacity` bytes); returns its length.
    public static func writeMessage(
        sid: UInt64, deliveryTag: UInt64, topic: String, messageID: MessageID, attributes: [UInt8], body: [UInt8],
        redelivered: Bool, groupID: String?, to base: UnsafeMutableRawPointer
    ) -> Int {
        var w = RawWriter(base: base.assumingMemoryBound(to: UInt8.self))
        w.put("MSG ")
        w.decimal(sid); w.byte(0x20)
        w.decimal(deliveryTag); w.byte(0x20)
        w.string(topic); w.byte(0x20)
        w.messageID(messageID); w.byte(0x20)
        w.decimal(UInt64(attributes.count)); w.byte(0x20)
        w.decimal(UInt64(body.count))
        if redelivered { w.put(" redelivered") }
        if let groupID { w.put(" group="); w.string(groupID) }
        w.crlf()
        w.bytes(attributes)
        w.bytes(body)
        w.crlf()
        return w.at
    }

    /// `writeMessage` for a delivery of `message` (attribute section from `AttributeCodec.section`)
    /// when it fits in `room` bytes; nil, writing nothing, when it does not. Reads the message's
    /// fields in place: the caller holds the message, and a fan-out writes every message once per
    /// subscriber, so retaining each field per delivery showed in profiles.
    public static func writeMessage(
        sid: UInt64, deliveryTag: UInt64, message: borrowing Message, redelivered: Bool,
        to base: UnsafeMutableRawPointer, room: Int
    ) -> Int? {
        let storedSection = AttributeCodec.storedSection(of: message)
        if storedSection == nil && !message.attributes.isEmpty {
            return writeMessage(sid: sid, deliveryTag: deliveryTag, topic: message.topic, messageID: message.id,
                                attributes: AttributeCodec.encode(message.attributes), body: message.body,
                                redelivered: redelivered, groupID: message.groupID, base: base, room: room)
        }
        return writeMessage(sid: sid, deliveryTag: deliveryTag, topic: message.topic, messageID: message.id,
                            attributes: storedSection?.bytes ?? [], body: message.body,
                            redelivered: redelivered, groupID: message.groupID, base: base, room: room)
    }

    @inline(__always)
    private static func writeMessage(
        sid: UInt64, deliveryTag: UInt64, topic: String, messageID: MessageID, attributes: [UInt8], body: [UInt8],
        redelivered: Bool, groupID: String?, base: UnsafeMutableRawPointer, room: Int
    ) -> Int? {
        let need = messageCapacity(topic: topic, messageID: messageID, attributesCount: attributes.count,
                                   bodyCount: body.count, groupID: groupID)
        guard need <= room else { return nil }
        return writeMessage(sid: sid, deliveryTag: deliveryTag, topic: topic, messageID: messageID, attributes: attributes,
                            body: body, redelivered: redelivered, groupID: groupID, to: base)
    }

    /// Bound for `writePublished` with the same message id.
    public static func publishedCapacity(messageID: MessageID) -> Int {
        6 + maxDecimal + 1 + messageID.utf8Count + 2
    }

    /// Writes one PUBOK frame at `base` (at least `publishedCapacity` bytes); returns its length.
    public static func writePublished(requestID: UInt64, messageID: MessageID, to base: UnsafeMutableRawPointer) -> Int {
        var w = RawWriter(base: base.assumingMemoryBound(to: UInt8.self))
        w.put("PUBOK ")
        w.decimal(requestID); w.byte(0x20)
        w.messageID(messageID)
        w.crlf()
        return w.at
    }
}

/// A cursor over reserved memory; the caller guarantees the room (no checks here).
struct RawWriter {
    let base: UnsafeMutablePointer<UInt8>
    var at = 0

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        base[at] = value
        at += 1
    }

    @inline(__always)
    mutating func crlf() {
        base[at] = 0x0D
        base[at + 1] = 0x0A
        at += 2
    }

    @inline(__always)
    mutating func put(_ text: StaticString) {
        (base + at).update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        at += text.utf8CodeUnitCount
    }

    @inline(__always)
    mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        UnsafeMutableRawPointer(base + at).copyMemory(from: source, byteCount: bytes.count)
        at += bytes.count
    }

    @inline(__always)
    mutating func bytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw($0) }
    }

    @inline(__always)
    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { raw(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    mutating func messageID(_ id: MessageID) {
        if let other = id.otherText {
            string(other)
        } else {
            id.writeUUID(to: base + at)
            at += MessageID.uuidTextLength
        }
    }

    /// One pass: the digits go into a scratch from the end, then to the output at once (the
    /// digit count is not known up front; counting it first cost a second round of divisions).
    mutating func decimal(_ value: UInt64) {
        if value < 10 {
            byte(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes ≥ 20 digits of UInt64.max
        let count = withUnsafeMutableBytes(of: &scratch) { digits -> Int in
            var rest = value
            var index = digits.count
            repeat {
                index -= 1
                digits[index] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
                rest /= 10
            } while rest > 0
            let used = digits.count - index
            UnsafeMutableRawBufferPointer(start: base + at, count: used).copyMemory(from: UnsafeRawBufferPointer(rebasing: digits[index...]))
            return used
        }
        at += count
    }
}
