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
    var input = DecoderInput()
    /// The received bytes (`input.buffer`).
    var buffer: FrameBuffer {
        get { input.buffer }
        _modify { yield &input.buffer }
    }
    var pending: Pending?

    /// A frame whose control line was parsed and whose sections are awaited. PUB keeps only its
    /// header fields (no arrays), so moving it around costs no reference counting on the hot path.
    enum Pending: Sendable {
        case publish(PublishHeader)
        case subscribe(SubscribeHeader)
        case queueRequest(QueueRequestHeader)
    }

    struct PublishHeader: Sendable {
        var topic: String
        var requestID: UInt64
        var attributesLength: Int
        var bodyLength: Int
        var groupID: String?
        var deduplicationID: String?
        var deferred = DeferredError()
    }

    struct SubscribeHeader: Sendable {
        var frame: SubscribeFrame
        var policyLength: Int
        var deferred = DeferredError()
    }

    struct QueueRequestHeader: Sendable {
        var requestID: UInt64
        var action: String
        var jsonLength: Int
        var deferred = DeferredError()
    }

    public init(limits: WireLimits = .default) {
        self.limits = limits
    }

    /// Adds received bytes.
    /// (Concrete overloads rather than one generic: a generic public method would run unspecialised
    /// from other modules and copy byte by byte.)
    public mutating func append(_ bytes: [UInt8]) { input.append(bytes[...]) }
    public mutating func append(_ bytes: ArraySlice<UInt8>) { input.append(bytes) }
    public mutating func append(_ bytes: UnsafeRawBufferPointer) { input.append(bytes) }

    /// Bytes received but not yet consumed by a complete frame.
    public var bufferedByteCount: Int { buffer.unconsumedCount }

    /// The next complete frame, or nil when more bytes are needed. Throws a non-fatal `WireError` for
    /// a well-delimited frame with a bad field (the frame is skipped), and a fatal one when the stream
    /// is broken (the decoder then stays failed).
    public mutating func next() throws(WireError) -> ClientFrame? {
        try input.checkFailure()
        do {
            return try decodeNext()
        } catch {
            throw input.record(error)
        }
    }

    /// Call at end of input: throws `truncated` if a partial frame is buffered.
    public func finish() throws(WireError) {
        try input.finish(framePending: pending != nil)
    }

    /// What one control line turned into: a whole frame, or a header waiting for its sections.
    enum LineResult {
        case frame(ClientFrame)
        case publish(PublishHeader)
        case subscribe(SubscribeHeader)
        case queueRequest(QueueRequestHeader)
        case blank
    }

    mutating func decodeNext() throws(WireError) -> ClientFrame? {
        // Checked before `take()`: taking copies the whole (large) enum even when it is nil, and
        // this runs per frame.
        if pending != nil, let waiting = pending.take() {
            // Rare path: a frame's sections arrive in a later read. `pending` is already cleared, so a
            // thrown (skipped) frame does not stay pending.
            let frame: ClientFrame?
            switch waiting {
            case .publish(let header): frame = try completePublish(header)
            case .subscribe(let header): frame = try completeSubscribe(header)
            case .queueRequest(let header): frame = try completeQueueRequest(header)
            }
            guard let frame else {
                pending = waiting
                return nil
            }
            return frame
        }
        while true {
            guard let result = try input.nextLine(limits: limits, { (line, limits, topics) throws(WireError) in
                try Self.parseLine(&line, limits: limits, topics: &topics)
            })
            else { return nil }
            switch consume result {  // consumed: binding a payload out of it would copy it first
            case .frame(let frame):
                return frame
            case .publish(let header):
                // Usual path with pipelining: the sections are already buffered.
                if let frame = try completePublish(header) { return frame }
                pending = .publish(header)
                return nil
            case .subscribe(let header):
                if let frame = try completeSubscribe(header) { return frame }
                pending = .subscribe(header)
                return nil
            case .queueRequest(let header):
                if let frame = try completeQueueRequest(header) { return frame }
                pending = .queueRequest(header)
                return nil
            case .blank:
                continue
            }
        }
    }

    /// Builds the PUB once its sections are buffered; nil while they are not.
    mutating func completePublish(_ header: PublishHeader) throws(WireError) -> ClientFrame? {
        guard let start = try buffer.takeSections(length: header.attributesLength + header.bodyLength) else { return nil }
        if let deferred = header.deferred.error { throw deferred }
        return buffer.bytes.withUnsafeBufferPointer { bytes in
            let bodyStart = start + header.attributesLength
            return .publish(PublishFrame(
                topic: header.topic, requestID: header.requestID,
                attributes: header.attributesLength > 0 ? Array(bytes[start..<bodyStart]) : [],
                body: Array(bytes[bodyStart..<(bodyStart + header.bodyLength)]),
                groupID: header.groupID, deduplicationID: header.deduplicationID))
        }
    }

    mutating func completeSubscribe(_ header: SubscribeHeader) throws(WireError) -> ClientFrame? {
        guard let start = try buffer.takeSections(length: header.policyLength) else { return nil }
        if let deferred = header.deferred.error { throw deferred }
        var frame = header.frame
        if header.policyLength > 0 { frame.policy = Array(buffer.bytes[start..<(start + header.policyLength)]) }
        return .subscribe(frame)
    }

    mutating func completeQueueRequest(_ header: QueueRequestHeader) throws(WireError) -> ClientFrame? {
        guard let start = try buffer.takeSections(length: header.jsonLength) else { return nil }
        if let deferred = header.deferred.error { throw deferred }
        let json = header.jsonLength > 0 ? Array(buffer.bytes[start..<(start + header.jsonLength)]) : []
        return .queueRequest(QueueRequestFrame(requestID: header.requestID, action: header.action, json: json))
    }

    /// Parses one control line: a frame for section-less verbs, a header for PUB/SUB/QREQ.
    /// `topics` remembers the last PUB topic (see `TopicCache`).
    static func parseLine(_ line: inout ControlLine, limits: WireLimits, topics: inout TopicCache) throws(WireError) -> LineResult {
        guard let verb = line.next() else { return .blank }
        if line.equalsIgnoringCase(verb, "PUB") { return .publish(try parsePublish(&line, limits: limits, topics: &topics)) }
        if line.equalsIgnoringCase(verb, "SUB") { return .subscribe(try parseSubscribe(&line, limits: limits)) }
        if line.equalsIgnoringCase(verb, "ACK") { return .frame(try parseAck(&line)) }
        if line.equalsIgnoringCase(verb, "QREQ") { return .queueRequest(try parseQueueRequest(&line, limits: limits)) }
        if line.equalsIgnoringCase(verb, "CREDIT") {
            let sid = try line.uint64(try line.required("sid", verb: "CREDIT", fatal: false), "sid", fatal: false)
            let reference = ErrorReference.subscription(sid)
            let countToken = try line.required("count", verb: "CREDIT", fatal: false, reference: reference)
            let count = try line.uint64(countToken, "credit", fatal: false, reference: reference)
            guard count <= UInt64(UInt32.max) else {
                throw line.error(.invalidNumber, "credit \(count) exceeds \(UInt32.max)", fatal: false, reference: reference)
            }
            try line.expectEnd(verb: "CREDIT", reference: reference)
            return .frame(.credit(sid: sid, count: UInt32(count)))
        }
        if line.equalsIgnoringCase(verb, "UNSUB") {
            let sid = try line.uint64(try line.required("sid", verb: "UNSUB", fatal: false), "sid", fatal: false)
            try line.expectEnd(verb: "UNSUB", reference: .subscription(sid))
            return .frame(.unsubscribe(sid: sid))
        }
        if line.equalsIgnoringCase(verb, "PING") { try line.expectEnd(verb: "PING"); return .frame(.ping) }
        if line.equalsIgnoringCase(verb, "PONG") { try line.expectEnd(verb: "PONG"); return .frame(.pong) }
        if line.equalsIgnoringCase(verb, "CONNECT") {
            do {
                let json = try JSONValue.handshakeObject(line.slice(line.rest()), verb: "CONNECT")
                return .frame(.connect(try ConnectOptions(json: json)))
            } catch {
                throw line.error(error.code, error.message)
            }
        }
        let shown = line.snippet(verb)
        throw line.error(.unknownVerb, "unknown client verb '\(shown)'")
    }

    /// `PUB <topic> <request-id> <attributes-length> <body-length> [group=<id>] [dedup=<id>]`
    static func parsePublish(_ line: inout ControlLine, limits: WireLimits, topics: inout TopicCache) throws(WireError) -> PublishHeader {
        let topicToken = try line.required("topic", verb: "PUB")
        let requestID = try line.uint64(try line.required("request id", verb: "PUB"), "request id")
        let attributesLength = try line.length(try line.required("attributes length", verb: "PUB"), "attributes length", limit: limits.maxAttributesBytes)
        let bodyLength = try line.length(try line.required("body length", verb: "PUB"), "body length", limit: limits.maxPayloadBytes)
        guard attributesLength + bodyLength <= limits.maxPayloadBytes else {
            throw line.error(.frameTooLarge, "attributes and body (\(attributesLength + bodyLength) bytes) exceed the limit of \(limits.maxPayloadBytes) bytes")
        }
        let topic = topics.topic(line, topicToken)
        let topicIsValid = topic != nil
        var header = PublishHeader(
            topic: topic ?? "", requestID: requestID,
            attributesLength: attributesLength, bodyLength: bodyLength)
        if !topicIsValid {
            line.keepFirst(&header.deferred, .request(requestID), .invalidToken, "Invalid parameter: Topic Name")
        }
        if line.position < line.end { parsePublishOptions(&line, into: &header) }
        return header
    }

    /// `group=` / `dedup=` options, kept out of the common path (most PUBs have none).
    @inline(never)
    static func parsePublishOptions(_ line: inout ControlLine, into header: inout PublishHeader) {
        let reference = ErrorReference.request(header.requestID)
        while let option = line.next() {
            if let value = line.optionValue(option, key: "group") {
                if header.groupID != nil { line.keepFirst(&header.deferred, reference, .malformedLine, "PUB repeats option group") }
                if line.isFIFOIdentifier(value) {
                    header.groupID = line.string(value)
                } else {
                    line.keepFirst(&header.deferred, reference, .invalidToken, "Value \(line.string(value)) for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
                }
            } else if let value = line.optionValue(option, key: "dedup") {
                if header.deduplicationID != nil { line.keepFirst(&header.deferred, reference, .malformedLine, "PUB repeats option dedup") }
                if line.isFIFOIdentifier(value) {
                    header.deduplicationID = line.string(value)
                } else {
                    line.keepFirst(&header.deferred, reference, .invalidToken, "Value \(line.string(value)) for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
                }
            } else {
                line.keepFirst(&header.deferred, reference, .malformedLine, "PUB has unknown option '\(line.snippet(option))'")
            }
        }
    }

    /// `SUB <sid> <topic> <scope> <ack-mode> <credit> <policy-length> [subscription=<name>]`
    static func parseSubscribe(_ line: inout ControlLine, limits: WireLimits) throws(WireError) -> SubscribeHeader {
        let sid = try line.uint64(try line.required("sid", verb: "SUB"), "sid")
        let topicToken = try line.required("topic", verb: "SUB")
        let scopeToken = try line.required("scope", verb: "SUB")
        let ackToken = try line.required("ack mode", verb: "SUB")
        let creditToken = try line.required("credit", verb: "SUB")
        let policyLength = try line.length(try line.required("policy length", verb: "SUB"), "policy length", limit: limits.maxPolicyBytes)
        let reference = ErrorReference.subscription(sid)
        var frame = SubscribeFrame(sid: sid, topic: "", credit: 0)
        var deferred = DeferredError()
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
        if let option = line.next() {
            if let value = line.optionValue(option, key: "subscription"), line.isSubscriptionName(value) {
                frame.subscriptionName = line.string(value)
            } else {
                line.keepFirst(&deferred, reference, .malformedLine, "SUB has an unknown option or a bad subscription name: '\(line.snippet(option))'")
            }
            if line.next() != nil { line.keepFirst(&deferred, reference, .malformedLine, "SUB has unexpected extra fields") }
        }
        return SubscribeHeader(frame: frame, policyLength: policyLength, deferred: deferred)
    }

    /// `QREQ <request-id> <action> <json-length>`. Missing fields and bad numbers are fatal (the section
    /// cannot be delimited); a bad action token or extra fields skip the frame (`ERR … <request-id>`).
    static func parseQueueRequest(_ line: inout ControlLine, limits: WireLimits) throws(WireError) -> QueueRequestHeader {
        let requestID = try line.uint64(try line.required("request id", verb: "QREQ"), "request id")
        let actionToken = try line.required("action", verb: "QREQ")
        let jsonLength = try line.length(try line.required("json length", verb: "QREQ"), "json length", limit: limits.maxQueueRequest)
        let reference = ErrorReference.request(requestID)
        var header = QueueRequestHeader(requestID: requestID, action: "", jsonLength: jsonLength)
        if line.isQueueAction(actionToken) {
            header.action = line.string(actionToken)
        } else {
            line.keepFirst(&header.deferred, reference, .invalidToken, "QREQ action '\(line.snippet(actionToken))' is not 1-64 ASCII letters and digits")
        }
        if line.next() != nil { line.keepFirst(&header.deferred, reference, .malformedLine, "QREQ has unexpected extra fields") }
        return header
    }

    /// `ACK <sid> <tag>[-<tag>][,<tag>[-<tag>]…]`
    static func parseAck(_ line: inout ControlLine) throws(WireError) -> ClientFrame {
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
