import HeraldCore

/// The attribute section of PUB and MSG frames: a compact binary encoding of `MessageAttributes`.
///
/// ```
/// section   = count *attribute          ; an empty section (0 bytes) also means no attributes
/// attribute = name-len name type-len type kind value-len value
/// count, *-len = unsigned LEB128 varint, at most 5 bytes, value ≤ 2^32-1
/// name, type    = UTF-8 bytes
/// kind          = 'S' (0x53, StringValue) / 'B' (0x42, BinaryValue)
/// value         = UTF-8 text for 'S', raw bytes for 'B'
/// ```
/// The kind byte is separate from the data type so the exact SNS combination travels as published
/// (validation, not the codec, rejects a `Binary` type with a string value). The encoder writes
/// attributes in ascending UTF-8 name order, so equal attribute sets encode to equal bytes.
/// The decoder is strict: truncation, trailing bytes, bad UTF-8, an unknown kind or a duplicate name
/// is an error (non-fatal: the frame around it was well-delimited).
public enum AttributeCodec {
    static let stringKind: UInt8 = 0x53
    static let binaryKind: UInt8 = 0x42

    /// Appends the encoding of `attributes` to `out`. No attributes append nothing.
    public static func encode(_ attributes: MessageAttributes, into out: inout [UInt8]) {
        guard !attributes.isEmpty else { return }
        appendVarint(attributes.count, to: &out)
        for name in attributes.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            guard let value = attributes[name] else { continue }
            appendVarint(name.utf8.count, to: &out)
            out.append(contentsOf: name.utf8)
            appendVarint(value.dataType.utf8.count, to: &out)
            out.append(contentsOf: value.dataType.utf8)
            switch value.payload {
            case .string(let text):
                out.append(stringKind)
                appendVarint(text.utf8.count, to: &out)
                out.append(contentsOf: text.utf8)
            case .binary(let bytes):
                out.append(binaryKind)
                appendVarint(bytes.count, to: &out)
                out.append(contentsOf: bytes)
            }
        }
    }

    public static func encode(_ attributes: MessageAttributes) -> [UInt8] {
        var out: [UInt8] = []
        encode(attributes, into: &out)
        return out
    }

    /// Decodes an attribute section.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> MessageAttributes { try decodeSection(bytes) }
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(WireError) -> MessageAttributes { try decodeSection(bytes) }

    /// Internal generic, specialised by the concrete public entry points above.
    static func decodeSection<C: RandomAccessCollection<UInt8>>(_ bytes: C) throws(WireError) -> MessageAttributes where C.Index == Int {
        var attributes: MessageAttributes = [:]
        guard !bytes.isEmpty else { return attributes }
        var reader = SectionReader(bytes: bytes)
        let count = try reader.varint()
        // Each attribute takes at least 5 bytes, so a huge count cannot make us reserve much.
        guard count <= reader.remaining / 5 else {
            throw reader.error("declares \(count) attributes in \(reader.remaining) bytes")
        }
        attributes.reserveCapacity(count)
        for _ in 0..<count {
            let name = try reader.text(what: "attribute name")
            let dataType = try reader.text(what: "data type of '\(name)'")
            let kind = try reader.byte()
            let payload: MessageAttributeValue.Payload
            switch kind {
            case stringKind: payload = .string(try reader.text(what: "value of '\(name)'"))
            case binaryKind: payload = .binary(Array(try reader.bytes(try reader.varint())))
            default: throw reader.error("attribute '\(name)' has unknown value kind \(kind)")
            }
            guard attributes.updateValue(MessageAttributeValue(dataType: dataType, payload: payload), forKey: name) == nil else {
                throw reader.error("attribute '\(name)' appears twice")
            }
        }
        guard reader.remaining == 0 else { throw reader.error("\(reader.remaining) bytes after the last attribute") }
        return attributes
    }

    /// Size of `encode(attributes)` in bytes, without encoding.
    public static func encodedSize(_ attributes: MessageAttributes) -> Int {
        guard !attributes.isEmpty else { return 0 }
        var size = varintSize(attributes.count)
        for (name, value) in attributes {
            let valueCount: Int
            switch value.payload {
            case .string(let text): valueCount = text.utf8.count
            case .binary(let bytes): valueCount = bytes.count
            }
            size += varintSize(name.utf8.count) + name.utf8.count
            size += varintSize(value.dataType.utf8.count) + value.dataType.utf8.count
            size += 1 + varintSize(valueCount) + valueCount
        }
        return size
    }

    static func appendVarint(_ value: Int, to out: inout [UInt8]) {
        var rest = UInt64(clamping: value)
        while rest >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    static func varintSize(_ value: Int) -> Int {
        var rest = UInt64(clamping: value)
        var size = 1
        while rest >= 0x80 { rest >>= 7; size += 1 }
        return size
    }
}

/// Cursor over an attribute section; every read is bounds-checked.
struct SectionReader<C: RandomAccessCollection<UInt8>> where C.Index == Int {
    let bytes: C
    var position: Int

    init(bytes: C) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - position }

    func error(_ message: String) -> WireError {
        WireError(.invalidAttributes, "attribute section: \(message)", isFatal: false, offset: position - bytes.startIndex)
    }

    mutating func byte() throws(WireError) -> UInt8 {
        guard position < bytes.endIndex else { throw error("truncated") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint() throws(WireError) -> Int {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 35, by: 7) {
            let b = try byte()
            value |= UInt64(b & 0x7F) << UInt64(shift)
            if b & 0x80 == 0 {
                guard value <= UInt64(UInt32.max) else { throw error("length \(value) is too large") }
                return Int(value)
            }
        }
        throw error("varint longer than 5 bytes")
    }

    mutating func bytes(_ count: Int) throws(WireError) -> C.SubSequence {
        guard count <= remaining else { throw error("truncated: needs \(count) bytes, has \(remaining)") }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    mutating func text(what: @autoclosure () -> String) throws(WireError) -> String {
        let raw = try bytes(try varint())
        let text = raw.withContiguousStorageIfAvailable(AttributeCodec.text(utf8:)) ?? String(validating: raw, as: UTF8.self)
        guard let text else { throw error("\(what()) is not valid UTF-8") }
        return text
    }

}

extension PublishFrame {
    /// The typed attributes of this PUB (`AttributeCodec.decode` of its section).
    public func decodeAttributes() throws(WireError) -> MessageAttributes {
        do {
            return try AttributeCodec.decode(attributes)
        } catch {
            var tagged = error
            tagged.reference = .request(requestID)
            throw tagged
        }
    }
}

extension DeliveryFrame {
    /// The typed attributes of this MSG (`AttributeCodec.decode` of its section).
    public func decodeAttributes() throws(WireError) -> MessageAttributes {
        do {
            return try AttributeCodec.decode(attributes)
        } catch {
            var tagged = error
            tagged.reference = .subscription(sid)
            throw tagged
        }
    }
}

/// The attribute section exactly as a publisher sent it, kept with the message
/// (`Message.transportCache`) so every MSG of its fan-out passes it through instead of encoding
/// the attributes again.
public final class EncodedAttributeSection: MessageTransportCache {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
}

extension AttributeCodec {
    /// `String(validating:as:)` for contiguous bytes, with an ASCII fast path: the generic
    /// validation looks up type metadata per call, which showed in profiles of attribute-heavy
    /// publishing (names, types and values are mostly ASCII).
    static func text(utf8 buffer: UnsafeBufferPointer<UInt8>) -> String? {
        guard buffer.allSatisfy({ $0 < 0x80 }) else { return String(validating: buffer, as: UTF8.self) }
        return String(decoding: buffer, as: UTF8.self)  // ASCII is valid UTF-8
    }

    /// The attribute section for a MSG of `message`: the publisher's own bytes when the stream
    /// protocol kept them, otherwise a fresh encoding.
    /// The kept section is checked first, by exact type: a dynamic cast per delivery showed in
    /// fan-out profiles.
    public static func section(for message: Message) -> [UInt8] {
        if let stored = storedSection(of: message) { return stored.bytes }
        let attributes = message.attributes
        if attributes.isEmpty { return [] }
        return encode(attributes)
    }

    /// The section the stream protocol kept with `message`, if any.
    @inline(__always)
    static func storedSection(of message: borrowing Message) -> EncodedAttributeSection? {
        guard let cache = message.transportCache, type(of: cache) == EncodedAttributeSection.self else { return nil }
        return unsafeDowncast(cache, to: EncodedAttributeSection.self)
    }
}
