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
        w.messageLine(sid: sid, deliveryTag: deliveryTag, topic: topic, messageID: messageID, idText: nil,
                      attributes: attributes, body: body, redelivered: redelivered, groupID: groupID)
        return w.at
    }

    /// `writeMessage` for a delivery of `message` (attribute section from `AttributeCodec.section`)
    /// when it fits in `room` bytes; nil, writing nothing, when it does not. Reads the message's
    /// fields in place: the caller holds the message, and a fan-out writes every message once per
    /// subscriber, so retaining each field per delivery showed in profiles. A UUID id is copied
    /// from the text rendered when the message was made (`Message.idText`).
    public static func writeMessage(
        sid: UInt64, deliveryTag: UInt64, message: borrowing Message, redelivered: Bool,
        to base: UnsafeMutableRawPointer, room: Int
    ) -> Int? {
        let storedSection = AttributeCodec.storedSection(of: message)
        if storedSection == nil && !message.attributes.isEmpty {
            return writeMessage(sid: sid, deliveryTag: deliveryTag, topic: message.topic, messageID: message.id,
                                idText: message.idText, attributes: AttributeCodec.encode(message.attributes),
                                body: message.body, redelivered: redelivered, groupID: message.groupID, base: base, room: room)
        }
        return writeMessage(sid: sid, deliveryTag: deliveryTag, topic: message.topic, messageID: message.id,
                            idText: message.idText, attributes: storedSection?.bytes ?? [], body: message.body,
                            redelivered: redelivered, groupID: message.groupID, base: base, room: room)
    }

    @inline(__always)
    private static func writeMessage(
        sid: UInt64, deliveryTag: UInt64, topic: String, messageID: MessageID, idText: MessageID.UUIDText?,
        attributes: [UInt8], body: [UInt8], redelivered: Bool, groupID: String?, base: UnsafeMutableRawPointer, room: Int
    ) -> Int? {
        let need = messageCapacity(topic: topic, messageID: messageID, attributesCount: attributes.count,
                                   bodyCount: body.count, groupID: groupID)
        guard need <= room else { return nil }
        var w = RawWriter(base: base.assumingMemoryBound(to: UInt8.self))
        w.messageLine(sid: sid, deliveryTag: deliveryTag, topic: topic, messageID: messageID, idText: idText,
                      attributes: attributes, body: body, redelivered: redelivered, groupID: groupID)
        return w.at
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

    /// A whole MSG frame; the id from `idText` when given (the same text, already rendered).
    @inline(__always)
    mutating func messageLine(
        sid: UInt64, deliveryTag: UInt64, topic: String, messageID: MessageID, idText: MessageID.UUIDText?,
        attributes: [UInt8], body: [UInt8], redelivered: Bool, groupID: String?
    ) {
        put("MSG ")
        decimal(sid); byte(0x20)
        decimal(deliveryTag); byte(0x20)
        string(topic); byte(0x20)
        if let idText { uuidText(idText) } else { self.messageID(messageID) }
        byte(0x20)
        decimal(UInt64(attributes.count)); byte(0x20)
        decimal(UInt64(body.count))
        if redelivered { put(" redelivered") }
        if let groupID { put(" group="); string(groupID) }
        crlf()
        self.bytes(attributes)
        self.bytes(body)
        crlf()
    }

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

    /// The 36 characters of a rendered UUID: five register stores, no copy loop.
    @inline(__always)
    mutating func uuidText(_ text: MessageID.UUIDText) {
        let raw = UnsafeMutableRawPointer(base + at)
        raw.storeBytes(of: text.words.0, as: UInt64.self)
        raw.storeBytes(of: text.words.1, toByteOffset: 8, as: UInt64.self)
        raw.storeBytes(of: text.words.2, toByteOffset: 16, as: UInt64.self)
        raw.storeBytes(of: text.words.3, toByteOffset: 24, as: UInt64.self)
        raw.storeBytes(of: UInt32(truncatingIfNeeded: text.words.4), toByteOffset: 32, as: UInt32.self)
        at += MessageID.uuidTextLength
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

    /// The digits go straight to the output, two per division, from the end: the digit count
    /// comes from comparisons first (no division). A scratch buffer copied out with memcpy cost
    /// more than the divisions did (the copy was a libc call per number, ≈ 3 % of a delivery).
    mutating func decimal(_ value: UInt64) {
        if value < 10 {
            byte(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        let count = Self.digitCount(value)
        var rest = value
        var index = at &+ count
        while rest >= 100 {
            let pair = Int(truncatingIfNeeded: rest % 100)
            rest /= 100
            index &-= 2
            Self.writePair(pair, to: base + index)
        }
        if rest >= 10 {
            Self.writePair(Int(truncatingIfNeeded: rest), to: base + at)
        } else {
            base[at] = UInt8(truncatingIfNeeded: rest) &+ 0x30
        }
        at &+= count
    }

    /// Two ASCII digits of `pair` (0...99).
    @inline(__always)
    private static func writePair(_ pair: Int, to destination: UnsafeMutablePointer<UInt8>) {
        destination[0] = UInt8(truncatingIfNeeded: pair / 10) &+ 0x30
        destination[1] = UInt8(truncatingIfNeeded: pair % 10) &+ 0x30
    }

    /// Decimal digits of `value` (≥ 1 digit).
    @inline(__always)
    static func digitCount(_ value: UInt64) -> Int {
        var count = 1
        var bound: UInt64 = 10
        while value >= bound {
            count &+= 1
            if count == 20 { return 20 }  // 10^19 is the largest power of ten in UInt64
            bound &*= 10
        }
        return count
    }
}
