import HeraldCore

/// Incremental decoder for frames a server sends (used by the client library). Same contract as
/// `ClientFrameDecoder`: feed any chunking with `append`, call `next()` until nil; non-fatal errors
/// skip one well-delimited frame, fatal ones leave the decoder failed.
public struct ServerFrameDecoder: Sendable {
    public let limits: WireLimits
    var input = DecoderInput()
    /// The received bytes (`input.buffer`).
    var buffer: FrameBuffer {
        get { input.buffer }
        _modify { yield &input.buffer }
    }
    var pending: Pending?
    /// A QRES whose control line was parsed and whose JSON section is awaited.
    var pendingResponse: PendingResponse?

    struct PendingResponse: Sendable {
        var requestID: UInt64
        var jsonLength: Int
    }

    /// A MSG whose control line was parsed and whose sections are awaited (header fields only, so
    /// moving it costs little).
    struct Pending: Sendable {
        var sid: UInt64
        var deliveryTag: UInt64
        var topic: String
        var messageID: String
        var attributesLength: Int
        var bodyLength: Int
        var redelivered = false
        var groupID: String?
        var deferred: WireError?
    }

    /// The client side accepts up to 1 MiB + 64 KiB of payload by default (SNS's largest configurable
    /// message size) so it can follow a server that raised its limits.
    public static let clientDefaultLimits = WireLimits(maxPayloadBytes: 1_048_576 + 65_536)

    public init(limits: WireLimits = ServerFrameDecoder.clientDefaultLimits) {
        self.limits = limits
    }

    /// (Concrete overloads rather than one generic: a generic public method would run unspecialised
    /// from other modules and copy byte by byte.)
    public mutating func append(_ bytes: [UInt8]) { input.append(bytes[...]) }
    public mutating func append(_ bytes: ArraySlice<UInt8>) { input.append(bytes) }
    public mutating func append(_ bytes: UnsafeRawBufferPointer) { input.append(bytes) }

    public var bufferedByteCount: Int { buffer.unconsumedCount }

    public mutating func next() throws(WireError) -> ServerFrame? {
        try input.checkFailure()
        do {
            return try decodeNext()
        } catch {
            throw input.record(error)
        }
    }

    /// Call at end of input: throws `truncated` if a partial frame is buffered.
    public func finish() throws(WireError) {
        try input.finish(framePending: pending != nil || pendingResponse != nil)
    }

    mutating func decodeNext() throws(WireError) -> ServerFrame? {
        while true {
            if let response = pendingResponse.take() {
                guard let start = try buffer.takeSections(length: response.jsonLength) else {
                    pendingResponse = response
                    return nil
                }
                let json = response.jsonLength > 0 ? Array(buffer.bytes[start..<(start + response.jsonLength)]) : []
                return .queueResponse(QueueResponseFrame(requestID: response.requestID, json: json))
            }
            if let pending = pending.take() {
                guard let start = try buffer.takeSections(length: pending.attributesLength + pending.bodyLength) else {
                    self.pending = pending
                    return nil
                }
                if let deferred = pending.deferred { throw deferred }
                return buffer.bytes.withUnsafeBufferPointer { bytes in
                    let bodyStart = start + pending.attributesLength
                    return .message(DeliveryFrame(
                        sid: pending.sid, deliveryTag: pending.deliveryTag, topic: pending.topic,
                        messageID: MessageID(text: pending.messageID),
                        attributes: pending.attributesLength > 0 ? Array(bytes[start..<bodyStart]) : [],
                        body: Array(bytes[bodyStart..<(bodyStart + pending.bodyLength)]),
                        redelivered: pending.redelivered, groupID: pending.groupID))
                }
            }
            guard let result = try input.nextLine(limits: limits, { (line, limits, _) throws(WireError) in try Self.parseLine(&line, limits: limits) })
            else { return nil }
            switch result {
            case .frame(let frame): return frame
            case .sections(let header): self.pending = header  // completed at the top of the loop
            case .queueResponse(let header): self.pendingResponse = header
            case .blank: continue
            }
        }
    }

    enum LineResult {
        case frame(ServerFrame)
        case sections(Pending)
        case queueResponse(PendingResponse)
        case blank
    }

    static func parseLine(_ line: inout ControlLine, limits: WireLimits) throws(WireError) -> LineResult {
        guard let verb = line.next() else { return .blank }
        if line.equalsIgnoringCase(verb, "MSG") { return .sections(try parseMessage(&line, limits: limits)) }
        if line.equalsIgnoringCase(verb, "QRES") { return .queueResponse(try parseQueueResponse(&line, limits: limits)) }
        return .frame(try parseSimpleLine(verb: verb, &line))
    }

    static func parseSimpleLine(verb: Range<Int>, _ line: inout ControlLine) throws(WireError) -> ServerFrame {
        if line.equalsIgnoringCase(verb, "PUBOK") {
            let requestID = try line.uint64(try line.required("request id", verb: "PUBOK", fatal: false), "request id", fatal: false)
            let reference = ErrorReference.request(requestID)
            let idToken = try line.required("message id", verb: "PUBOK", fatal: false, reference: reference)
            guard line.isMessageID(idToken) else {
                throw line.error(.invalidToken, "PUBOK message id is invalid", fatal: false, reference: reference)
            }
            try line.expectEnd(verb: "PUBOK", reference: reference)
            return .published(requestID: requestID, messageID: MessageID(text: line.string(idToken)))
        }
        if line.equalsIgnoringCase(verb, "ERR") { return .error(try parseError(&line)) }
        if line.equalsIgnoringCase(verb, "SUBOK") {
            let sid = try line.uint64(try line.required("sid", verb: "SUBOK", fatal: false), "sid", fatal: false)
            try line.expectEnd(verb: "SUBOK", reference: .subscription(sid))
            return .subscribed(sid: sid)
        }
        if line.equalsIgnoringCase(verb, "UNSUBOK") {
            let sid = try line.uint64(try line.required("sid", verb: "UNSUBOK", fatal: false), "sid", fatal: false)
            try line.expectEnd(verb: "UNSUBOK", reference: .subscription(sid))
            return .unsubscribed(sid: sid)
        }
        if line.equalsIgnoringCase(verb, "PING") { try line.expectEnd(verb: "PING"); return .ping }
        if line.equalsIgnoringCase(verb, "PONG") { try line.expectEnd(verb: "PONG"); return .pong }
        if line.equalsIgnoringCase(verb, "INFO") {
            do {
                return .info(try ServerInfo(json: try JSONValue.handshakeObject(line.slice(line.rest()), verb: "INFO")))
            } catch {
                throw line.error(error.code, error.message)
            }
        }
        if line.equalsIgnoringCase(verb, "CONNOK") {
            do {
                return .connected(try ConnectAccepted(json: try JSONValue.handshakeObject(line.slice(line.rest()), verb: "CONNOK")))
            } catch {
                throw line.error(error.code, error.message)
            }
        }
        let shown = line.snippet(verb)
        throw line.error(.unknownVerb, "unknown server verb '\(shown)'")
    }

    /// `MSG <sid> <delivery-tag> <topic> <message-id> <attributes-length> <body-length> [redelivered] [group=<id>]`
    static func parseMessage(_ line: inout ControlLine, limits: WireLimits) throws(WireError) -> Pending {
        let sid = try line.uint64(try line.required("sid", verb: "MSG"), "sid")
        let tag = try line.uint64(try line.required("delivery tag", verb: "MSG"), "delivery tag")
        let topicToken = try line.required("topic", verb: "MSG")
        let idToken = try line.required("message id", verb: "MSG")
        let attributesLength = try line.length(try line.required("attributes length", verb: "MSG"), "attributes length", limit: limits.maxAttributesBytes)
        let bodyLength = try line.length(try line.required("body length", verb: "MSG"), "body length", limit: limits.maxPayloadBytes)
        guard attributesLength + bodyLength <= limits.maxPayloadBytes else {
            throw line.error(.frameTooLarge, "attributes and body (\(attributesLength + bodyLength) bytes) exceed the limit of \(limits.maxPayloadBytes) bytes")
        }
        let reference = ErrorReference.subscription(sid)
        var deferred: WireError?
        var frame = Pending(sid: sid, deliveryTag: tag, topic: "", messageID: "", attributesLength: attributesLength, bodyLength: bodyLength)
        if line.isTopic(topicToken) { frame.topic = line.string(topicToken) } else { line.keepFirst(&deferred, reference, .invalidToken, "MSG topic is invalid") }
        if line.isMessageID(idToken) {
            frame.messageID = line.string(idToken)
        } else {
            line.keepFirst(&deferred, reference, .invalidToken, "MSG message id is invalid")
        }
        while let option = line.next() {
            if line.equals(option, "redelivered"), !frame.redelivered {
                frame.redelivered = true
            } else if let value = line.optionValue(option, key: "group"), frame.groupID == nil, line.isFIFOIdentifier(value) {
                frame.groupID = line.string(value)
            } else {
                line.keepFirst(&deferred, reference, .malformedLine, "MSG has an unknown, repeated or invalid option")
            }
        }
        frame.deferred = deferred
        return frame
    }

    /// `QRES <request-id> <json-length>`: missing fields, bad numbers and a section over
    /// `maxQueueResponse` are fatal (the section cannot be delimited or is refused).
    static func parseQueueResponse(_ line: inout ControlLine, limits: WireLimits) throws(WireError) -> PendingResponse {
        let requestID = try line.uint64(try line.required("request id", verb: "QRES"), "request id")
        let jsonLength = try line.length(try line.required("json length", verb: "QRES"), "json length", limit: limits.maxQueueResponse)
        if line.next() != nil { throw line.error(.malformedLine, "QRES has unexpected extra fields") }
        return PendingResponse(requestID: requestID, jsonLength: jsonLength)
    }

    /// `ERR <code> <-|request-id|sid=N> <message…>`
    static func parseError(_ line: inout ControlLine) throws(WireError) -> ErrorFrame {
        let codeToken = try line.required("code", verb: "ERR", fatal: false)
        guard HeraldErrorCode.isWellFormed(line.slice(codeToken)) else {
            throw line.error(.invalidToken, "ERR code is not 1-64 ASCII letters and digits", fatal: false)
        }
        let referenceToken = try line.required("reference", verb: "ERR", fatal: false)
        let reference: ErrorReference
        if line.equals(referenceToken, "-") {
            reference = .none
        } else if let sidRange = line.optionValue(referenceToken, key: "sid") {
            reference = .subscription(try line.uint64(sidRange, "ERR sid", fatal: false))
        } else {
            reference = .request(try line.uint64(referenceToken, "ERR request id", fatal: false))
        }
        let message = line.string(line.rest())
        return ErrorFrame(code: HeraldErrorCode(rawValue: line.string(codeToken)), reference: reference, message: message)
    }
}
