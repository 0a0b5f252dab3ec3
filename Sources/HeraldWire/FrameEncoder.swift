import HeraldCore

/// Appends frames to a caller-owned buffer, so many frames coalesce into one write. Numbers are
/// written digit by digit and strings as their UTF-8 views: steady-state encoding allocates nothing
/// once the buffer has grown to its working size.
///
/// The encoder trusts its caller for tokens (topic names, ids): it does not re-validate them. It does
/// sanitise ERR messages (one line, capped), because those often quote outside input.
public enum FrameEncoder {
    static let crlf: (UInt8, UInt8) = (0x0D, 0x0A)

    // MARK: Client frames

    public static func append(_ frame: ClientFrame, to out: inout [UInt8]) {
        switch frame {
        case .connect(let options):
            appendVerb("CONNECT ", to: &out)
            options.json.write(to: &out)
            appendCRLF(to: &out)
        case .publish(let p):
            appendPublish(topic: p.topic, requestID: p.requestID, attributes: p.attributes, body: p.body, groupID: p.groupID, deduplicationID: p.deduplicationID, to: &out)
        case .subscribe(let s):
            appendVerb("SUB ", to: &out)
            appendDecimal(s.sid, to: &out); appendSpace(to: &out)
            out.append(contentsOf: s.topic.utf8); appendSpace(to: &out)
            out.append(contentsOf: s.scope.rawValue.utf8); appendSpace(to: &out)
            out.append(contentsOf: s.ackMode.rawValue.utf8); appendSpace(to: &out)
            appendDecimal(UInt64(s.credit), to: &out); appendSpace(to: &out)
            appendDecimal(UInt64(s.policy.count), to: &out)
            if let name = s.subscriptionName { appendVerb(" subscription=", to: &out); out.append(contentsOf: name.utf8) }
            appendCRLF(to: &out)
            out.append(contentsOf: s.policy)
            appendCRLF(to: &out)
        case .unsubscribe(let sid):
            appendVerb("UNSUB ", to: &out)
            appendDecimal(sid, to: &out)
            appendCRLF(to: &out)
        case .credit(let sid, let count):
            appendVerb("CREDIT ", to: &out)
            appendDecimal(sid, to: &out); appendSpace(to: &out)
            appendDecimal(UInt64(count), to: &out)
            appendCRLF(to: &out)
        case .ack(let sid, let tags):
            appendAck(sid: sid, tags: tags, to: &out)
        case .queueRequest(let q):
            appendQueueRequest(requestID: q.requestID, action: q.action, json: q.json, to: &out)
        case .ping:
            appendVerb("PING", to: &out); appendCRLF(to: &out)
        case .pong:
            appendVerb("PONG", to: &out); appendCRLF(to: &out)
        }
    }

    /// PUB without building a `PublishFrame` first.
    public static func appendPublish(
        topic: String, requestID: UInt64, attributes: [UInt8], body: [UInt8], groupID: String? = nil, deduplicationID: String? = nil,
        to out: inout [UInt8]
    ) {
        appendVerb("PUB ", to: &out)
        out.append(contentsOf: topic.utf8); appendSpace(to: &out)
        appendDecimal(requestID, to: &out); appendSpace(to: &out)
        appendDecimal(UInt64(attributes.count), to: &out); appendSpace(to: &out)
        appendDecimal(UInt64(body.count), to: &out)
        if let groupID { appendVerb(" group=", to: &out); out.append(contentsOf: groupID.utf8) }
        if let deduplicationID { appendVerb(" dedup=", to: &out); out.append(contentsOf: deduplicationID.utf8) }
        appendCRLF(to: &out)
        out.append(contentsOf: attributes)
        out.append(contentsOf: body)
        appendCRLF(to: &out)
    }

    /// `QREQ <request-id> <action> <json-length>` and the JSON section.
    public static func appendQueueRequest(requestID: UInt64, action: String, json: [UInt8], to out: inout [UInt8]) {
        appendVerb("QREQ ", to: &out)
        appendDecimal(requestID, to: &out); appendSpace(to: &out)
        out.append(contentsOf: action.utf8); appendSpace(to: &out)
        appendDecimal(UInt64(json.count), to: &out)
        appendCRLF(to: &out)
        out.append(contentsOf: json)
        appendCRLF(to: &out)
    }

    /// `ACK <sid> <list>`; single tags are written as `n`, ranges as `lo-hi`. An empty list writes
    /// nothing (it would not be a valid frame).
    public static func appendAck(sid: UInt64, tags: [ClosedRange<UInt64>], to out: inout [UInt8]) {
        guard !tags.isEmpty else { return }
        appendVerb("ACK ", to: &out)
        appendDecimal(sid, to: &out); appendSpace(to: &out)
        for (i, range) in tags.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendDecimal(range.lowerBound, to: &out)
            if range.upperBound != range.lowerBound {
                out.append(UInt8(ascii: "-"))
                appendDecimal(range.upperBound, to: &out)
            }
        }
        appendCRLF(to: &out)
    }

    // MARK: Server frames

    public static func append(_ frame: ServerFrame, to out: inout [UInt8]) {
        switch frame {
        case .info(let info):
            appendVerb("INFO ", to: &out)
            info.json.write(to: &out)
            appendCRLF(to: &out)
        case .connected(let accepted):
            appendVerb("CONNOK ", to: &out)
            accepted.json.write(to: &out)
            appendCRLF(to: &out)
        case .published(let requestID, let messageID):
            appendPublished(requestID: requestID, messageID: messageID, to: &out)
        case .subscribed(let sid):
            appendVerb("SUBOK ", to: &out); appendDecimal(sid, to: &out); appendCRLF(to: &out)
        case .unsubscribed(let sid):
            appendVerb("UNSUBOK ", to: &out); appendDecimal(sid, to: &out); appendCRLF(to: &out)
        case .message(let m):
            appendMessage(
                sid: m.sid, deliveryTag: m.deliveryTag, topic: m.topic, messageID: m.messageID, attributes: m.attributes, body: m.body,
                redelivered: m.redelivered, groupID: m.groupID, to: &out)
        case .queueResponse(let r):
            appendQueueResponse(requestID: r.requestID, json: r.json, to: &out)
        case .error(let e):
            appendError(e, to: &out)
        case .ping:
            appendVerb("PING", to: &out); appendCRLF(to: &out)
        case .pong:
            appendVerb("PONG", to: &out); appendCRLF(to: &out)
        }
    }

    public static func appendPublished(requestID: UInt64, messageID: MessageID, to out: inout [UInt8]) {
        appendVerb("PUBOK ", to: &out)
        appendDecimal(requestID, to: &out); appendSpace(to: &out)
        appendMessageID(messageID, to: &out)
        appendCRLF(to: &out)
    }

    /// `QRES <request-id> <json-length>` and the JSON section.
    public static func appendQueueResponse(requestID: UInt64, json: [UInt8], to out: inout [UInt8]) {
        appendVerb("QRES ", to: &out)
        appendDecimal(requestID, to: &out); appendSpace(to: &out)
        appendDecimal(UInt64(json.count), to: &out)
        appendCRLF(to: &out)
        out.append(contentsOf: json)
        appendCRLF(to: &out)
    }

    /// MSG from shared pieces: the fan-out path passes the publish's attribute section and body
    /// (both shared by reference) without building a `DeliveryFrame`.
    public static func appendMessage(
        sid: UInt64, deliveryTag: UInt64, topic: String, messageID: MessageID, attributes: [UInt8], body: [UInt8],
        redelivered: Bool = false, groupID: String? = nil, to out: inout [UInt8]
    ) {
        appendVerb("MSG ", to: &out)
        appendDecimal(sid, to: &out); appendSpace(to: &out)
        appendDecimal(deliveryTag, to: &out); appendSpace(to: &out)
        out.append(contentsOf: topic.utf8); appendSpace(to: &out)
        appendMessageID(messageID, to: &out); appendSpace(to: &out)
        appendDecimal(UInt64(attributes.count), to: &out); appendSpace(to: &out)
        appendDecimal(UInt64(body.count), to: &out)
        if redelivered { appendVerb(" redelivered", to: &out) }
        if let groupID { appendVerb(" group=", to: &out); out.append(contentsOf: groupID.utf8) }
        appendCRLF(to: &out)
        out.append(contentsOf: attributes)
        out.append(contentsOf: body)
        appendCRLF(to: &out)
    }

    /// `ERR <code> <reference> <message>`: control characters in the message become spaces and it is
    /// cut (at a UTF-8 boundary) to `ErrorFrame.maxMessageBytes`.
    public static func appendError(_ e: ErrorFrame, to out: inout [UInt8]) {
        appendVerb("ERR ", to: &out)
        out.append(contentsOf: e.code.rawValue.utf8); appendSpace(to: &out)
        switch e.reference {
        case .none: out.append(UInt8(ascii: "-"))
        case .request(let id): appendDecimal(id, to: &out)
        case .subscription(let sid): appendVerb("sid=", to: &out); appendDecimal(sid, to: &out)
        }
        let message = e.message.utf8
        if !message.isEmpty {
            appendSpace(to: &out)
            var remaining = ErrorFrame.maxMessageBytes
            var index = message.startIndex
            while index != message.endIndex {
                let byte = message[index]
                let sequenceLength = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
                if sequenceLength > remaining { break }
                for _ in 0..<sequenceLength where index != message.endIndex {
                    let b = message[index]
                    out.append(b < 0x20 || b == 0x7F ? 0x20 : b)
                    index = message.index(after: index)
                }
                remaining -= sequenceLength
            }
        }
        appendCRLF(to: &out)
    }

    // MARK: Pieces

    @inline(__always)
    static func appendVerb(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always)
    static func appendMessageID(_ id: MessageID, to out: inout [UInt8]) {
        id.withUTF8 { out.append(contentsOf: $0) }
    }

    @inline(__always)
    static func appendSpace(to out: inout [UInt8]) { out.append(0x20) }

    @inline(__always)
    static func appendCRLF(to out: inout [UInt8]) {
        out.append(crlf.0)
        out.append(crlf.1)
    }

    /// Writes `value` in decimal without building a String (digits go through a stack buffer).
    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        if value < 10 {
            out.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes ≥ 20 digits
        withUnsafeMutableBytes(of: &scratch) { digits in
            var index = digits.count
            var rest = value
            repeat {
                index -= 1
                digits[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: digits[index...]))
        }
    }
}
