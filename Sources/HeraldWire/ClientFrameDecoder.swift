import HeraldCore

/// Incremental decoder for frames a client sends (used by the server). Feed bytes in any chunking
/// with `append`, then call `next()` until it returns nil.
///
/// ```swift
/// decoder.append(chunk)
/// while true {
///     do {
///         guard let frame = try decoder.next() else { break }
///         handle(frame)
///     } catch where !error.isFatal {
///         reply(ErrorFrame(error))        // that one frame was skipped; keep going
///     } catch {
///         reply(ErrorFrame(error)); close() // the stream cannot be trusted any more
///     }
/// }
/// ```
/// Limits (`WireLimits`) are checked on the control line, before any section byte is buffered for it.
/// Not thread-safe; confine a decoder to its connection.
public struct ClientFrameDecoder: Sendable {
    public let limits: WireLimits
    var buffer = FrameBuffer()
    var pending: Pending?
    var failure: WireError?

    enum Pending: Sendable {
        case publish(PublishFrame, attributesLength: Int, bodyLength: Int, deferred: WireError?)
        case subscribe(SubscribeFrame, policyLength: Int, deferred: WireError?)
    }

    public init(limits: WireLimits = .default) {
        self.limits = limits
    }

    /// Adds received bytes.
    /// (Concrete overloads rather than one generic: a generic public method would run unspecialised
    /// from other modules and copy byte by byte.)
    public mutating func append(_ bytes: [UInt8]) { buffer.append(bytes[...]) }
    public mutating func append(_ bytes: ArraySlice<UInt8>) { buffer.append(bytes) }
    public mutating func append(_ bytes: UnsafeRawBufferPointer) { buffer.append(bytes) }

    /// Bytes received but not yet consumed by a complete frame.
    public var bufferedByteCount: Int { buffer.unconsumedCount }

    /// The next complete frame, or nil when more bytes are needed. Throws a non-fatal `WireError` for
    /// a well-delimited frame with a bad field (the frame is skipped), and a fatal one when the stream
    /// is broken (the decoder then stays failed).
    public mutating func next() throws(WireError) -> ClientFrame? {
        if let failure { throw failure }
        do {
            return try decodeNext()
        } catch {
            if error.isFatal { failure = error }
            throw error
        }
    }

    /// Call at end of input: throws `truncated` if a partial frame is buffered.
    public func finish() throws(WireError) {
        if let failure { throw failure }
        if pending != nil || buffer.unconsumedCount > 0 {
            throw WireError(.truncated, "input ended inside a frame (\(buffer.unconsumedCount) bytes pending)", offset: buffer.streamOffset(buffer.readIndex))
        }
    }

    mutating func decodeNext() throws(WireError) -> ClientFrame? {
        while true {
            if let pending {
                return try completeSections(pending)
            }
            guard let range = try buffer.nextLine(maxLength: limits.maxControlLineBytes) else { return nil }
            if range.isEmpty { continue }  // blank lines are ignored (hand typing)
            var line = ControlLine(bytes: buffer.bytes, range: range, offset: buffer.streamOffset(range.lowerBound))
            if let frame = try parseLine(&line) { return frame }
        }
    }

    mutating func completeSections(_ pending: Pending) throws(WireError) -> ClientFrame? {
        switch pending {
        case .publish(var frame, let attributesLength, let bodyLength, let deferred):
            guard let start = try buffer.takeSections(length: attributesLength + bodyLength) else { return nil }
            self.pending = nil
            if let deferred { throw deferred }
            let bytes = buffer.bytes
            if attributesLength > 0 { frame.attributes = Array(bytes[start..<(start + attributesLength)]) }
            frame.body = Array(bytes[(start + attributesLength)..<(start + attributesLength + bodyLength)])
            return .publish(frame)
        case .subscribe(var frame, let policyLength, let deferred):
            guard let start = try buffer.takeSections(length: policyLength) else { return nil }
            self.pending = nil
            if let deferred { throw deferred }
            if policyLength > 0 { frame.policy = Array(buffer.bytes[start..<(start + policyLength)]) }
            return .subscribe(frame)
        }
    }

    /// Parses one control line. Returns a frame for section-less verbs; for PUB/SUB it stores
    /// `pending` and returns nil.
    mutating func parseLine(_ line: inout ControlLine) throws(WireError) -> ClientFrame? {
        guard let verb = line.next() else { return nil }
        if line.equalsIgnoringCase(verb, "PUB") {
            pending = try parsePublish(&line)
            return nil
        }
        if line.equalsIgnoringCase(verb, "SUB") {
            pending = try parseSubscribe(&line)
            return nil
        }
        if line.equalsIgnoringCase(verb, "ACK") { return try parseAck(&line) }
        if line.equalsIgnoringCase(verb, "CREDIT") {
            let sid = try line.uint64(try line.required("sid", verb: "CREDIT", fatal: false), "sid", fatal: false)
            let reference = ErrorReference.subscription(sid)
            let countToken = try line.required("count", verb: "CREDIT", fatal: false, reference: reference)
            let count = try line.uint64(countToken, "credit", fatal: false, reference: reference)
            guard count <= UInt64(UInt32.max) else {
                throw line.error(.invalidNumber, "credit \(count) exceeds \(UInt32.max)", fatal: false, reference: reference)
            }
            try line.expectEnd(verb: "CREDIT", reference: reference)
            return .credit(sid: sid, count: UInt32(count))
        }
        if line.equalsIgnoringCase(verb, "UNSUB") {
            let sid = try line.uint64(try line.required("sid", verb: "UNSUB", fatal: false), "sid", fatal: false)
            try line.expectEnd(verb: "UNSUB", reference: .subscription(sid))
            return .unsubscribe(sid: sid)
        }
        if line.equalsIgnoringCase(verb, "PING") { try line.expectEnd(verb: "PING"); return .ping }
        if line.equalsIgnoringCase(verb, "PONG") { try line.expectEnd(verb: "PONG"); return .pong }
        if line.equalsIgnoringCase(verb, "CONNECT") {
            do {
                let json = try JSONValue.handshakeObject(line.bytes[line.rest()], verb: "CONNECT")
                return .connect(try ConnectOptions(json: json))
            } catch {
                throw line.error(error.code, error.message)
            }
        }
        let shown = String(decoding: line.bytes[verb].prefix(32), as: UTF8.self)
        throw line.error(.unknownVerb, "unknown client verb '\(shown)'")
    }

    /// `PUB <topic> <request-id> <attributes-length> <body-length> [group=<id>] [dedup=<id>]`
    func parsePublish(_ line: inout ControlLine) throws(WireError) -> Pending {
        let topicToken = try line.required("topic", verb: "PUB")
        let requestID = try line.uint64(try line.required("request id", verb: "PUB"), "request id")
        let attributesLength = try line.length(try line.required("attributes length", verb: "PUB"), "attributes length", limit: limits.maxAttributesBytes)
        let bodyLength = try line.length(try line.required("body length", verb: "PUB"), "body length", limit: limits.maxPayloadBytes)
        guard attributesLength + bodyLength <= limits.maxPayloadBytes else {
            throw line.error(.frameTooLarge, "attributes and body (\(attributesLength + bodyLength) bytes) exceed the limit of \(limits.maxPayloadBytes) bytes")
        }
        let reference = ErrorReference.request(requestID)
        var frame = PublishFrame(topic: "", requestID: requestID, body: [])
        var deferred: WireError?
        if line.isTopic(topicToken) {
            frame.topic = line.string(topicToken)
        } else {
            line.keepFirst(&deferred, reference, .invalidToken, "Invalid parameter: Topic Name")
        }
        while let option = line.next() {
            if let value = line.optionValue(option, key: "group") {
                if frame.groupID != nil { line.keepFirst(&deferred, reference, .malformedLine, "PUB repeats option group") }
                if line.isFIFOIdentifier(value) {
                    frame.groupID = line.string(value)
                } else {
                    line.keepFirst(&deferred, reference, .invalidToken, "Value \(line.string(value)) for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
                }
            } else if let value = line.optionValue(option, key: "dedup") {
                if frame.deduplicationID != nil { line.keepFirst(&deferred, reference, .malformedLine, "PUB repeats option dedup") }
                if line.isFIFOIdentifier(value) {
                    frame.deduplicationID = line.string(value)
                } else {
                    line.keepFirst(&deferred, reference, .invalidToken, "Value \(line.string(value)) for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
                }
            } else {
                line.keepFirst(&deferred, reference, .malformedLine, "PUB has unknown option '\(String(decoding: line.bytes[option].prefix(32), as: UTF8.self))'")
            }
        }
        return .publish(frame, attributesLength: attributesLength, bodyLength: bodyLength, deferred: deferred)
    }

    /// `SUB <sid> <topic> <scope> <ack-mode> <credit> <policy-length>`
    func parseSubscribe(_ line: inout ControlLine) throws(WireError) -> Pending {
        let sid = try line.uint64(try line.required("sid", verb: "SUB"), "sid")
        let topicToken = try line.required("topic", verb: "SUB")
        let scopeToken = try line.required("scope", verb: "SUB")
        let ackToken = try line.required("ack mode", verb: "SUB")
        let creditToken = try line.required("credit", verb: "SUB")
        let policyLength = try line.length(try line.required("policy length", verb: "SUB"), "policy length", limit: limits.maxPolicyBytes)
        let reference = ErrorReference.subscription(sid)
        var frame = SubscribeFrame(sid: sid, topic: "", credit: 0)
        var deferred: WireError?
        if line.isTopic(topicToken) {
            frame.topic = line.string(topicToken)
        } else {
            line.keepFirst(&deferred, reference, .invalidToken, "Invalid parameter: Topic Name")
        }
        if line.equals(scopeToken, "MessageAttributes") {
            frame.scope = .messageAttributes
        } else if line.equals(scopeToken, "MessageBody") {
            frame.scope = .messageBody
        } else {
            line.keepFirst(&deferred, reference, .malformedLine, "SUB scope must be MessageAttributes or MessageBody")
        }
        if line.equalsIgnoringCase(ackToken, "ACK") {
            frame.ackMode = .ack
        } else if line.equalsIgnoringCase(ackToken, "AUTO") {
            frame.ackMode = .auto
        } else {
            line.keepFirst(&deferred, reference, .malformedLine, "SUB ack mode must be ack or auto")
        }
        if let credit = ControlLine.parseUInt64(line.bytes, creditToken), credit <= UInt64(UInt32.max) {
            frame.credit = UInt32(credit)
        } else {
            line.keepFirst(&deferred, reference, .invalidNumber, "SUB credit must be a decimal number in 0...\(UInt32.max)")
        }
        if line.next() != nil { line.keepFirst(&deferred, reference, .malformedLine, "SUB has unexpected extra fields") }
        return .subscribe(frame, policyLength: policyLength, deferred: deferred)
    }

    /// `ACK <sid> <tag>[-<tag>][,<tag>[-<tag>]…]`
    func parseAck(_ line: inout ControlLine) throws(WireError) -> ClientFrame {
        let sid = try line.uint64(try line.required("sid", verb: "ACK", fatal: false), "sid", fatal: false)
        let reference = ErrorReference.subscription(sid)
        let list = try line.required("delivery tags", verb: "ACK", fatal: false, reference: reference)
        try line.expectEnd(verb: "ACK", reference: reference)
        var tags: [ClosedRange<UInt64>] = []
        var itemStart = list.lowerBound
        while itemStart <= list.upperBound {
            var itemEnd = itemStart
            while itemEnd < list.upperBound, line.bytes[itemEnd] != UInt8(ascii: ",") { itemEnd += 1 }
            var dash = itemStart
            while dash < itemEnd, line.bytes[dash] != UInt8(ascii: "-") { dash += 1 }
            let low = try line.uint64(itemStart..<dash, "delivery tag", fatal: false, reference: reference)
            var high = low
            if dash < itemEnd {
                high = try line.uint64((dash + 1)..<itemEnd, "delivery tag", fatal: false, reference: reference)
                guard low <= high else {
                    throw line.error(.malformedLine, "ACK range \(low)-\(high) is reversed", fatal: false, reference: reference)
                }
            }
            tags.append(low...high)
            itemStart = itemEnd + 1
        }
        return .ack(sid: sid, tags: tags)
    }
}
