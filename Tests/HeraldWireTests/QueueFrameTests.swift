import Testing
import HeraldCore
@testable import HeraldWire

/// QREQ / QRES (docs/PROTOCOL.md §"Queues"): exact bytes, limits on the control line, malformed
/// lines in the decoders' usual error style, and every split point.
@Suite struct QueueFrameTests {
    @Test func encodesTheDocumentedBytes() {
        let request = ClientFrame.queueRequest(QueueRequestFrame(requestID: 7, action: "CreateQueue", json: bytes(#"{"QueueName":"orders"}"#)))
        #expect(encode([request]) == bytes("QREQ 7 CreateQueue 22\r\n{\"QueueName\":\"orders\"}\r\n"))
        let response = ServerFrame.queueResponse(QueueResponseFrame(requestID: 7, json: bytes("{}")))
        #expect(encode([response]) == bytes("QRES 7 2\r\n{}\r\n"))
    }

    @Test func requestSplitPointsIncludingANonFatalSkip() {
        // A good QREQ, a QREQ with a bad action (skipped with its section), another good one.
        var stream = encode([ClientFrame.queueRequest(QueueRequestFrame(requestID: 1, action: "SendMessage", json: bytes(#"{"MessageBody":"QREQ 2 X 0"}"#)))])
        stream += bytes("QREQ 2 Send-Message 4\r\nPING\r\n")
        stream += bytes("qreq 3 ListQueues 2\n{}\n")
        let expected: [Decoded<ClientFrame>] = [
            .frame(.queueRequest(QueueRequestFrame(requestID: 1, action: "SendMessage", json: bytes(#"{"MessageBody":"QREQ 2 X 0"}"#)))),
            .failure(.invalidToken, fatal: false, reference: .request(2)),
            .frame(.queueRequest(QueueRequestFrame(requestID: 3, action: "ListQueues", json: bytes("{}")))),
        ]
        #expect(decodeClient(stream) == expected)
        for chunks in splits(stream) {
            #expect(decodeClient(chunks: chunks) == expected)
        }
    }

    @Test func responseSplitPoints() {
        let frames: [ServerFrame] = [
            .queueResponse(QueueResponseFrame(requestID: 4, json: bytes(#"{"QueueUrl":"x"}"#))),
            .error(ErrorFrame(code: HeraldErrorCode(rawValue: "QueueDoesNotExist"), reference: .request(5), message: "The specified queue does not exist.")),
            .queueResponse(QueueResponseFrame(requestID: 3, json: [])),
        ]
        let stream = encode(frames)
        let expected = frames.map { Decoded<ServerFrame>.frame($0) }
        for chunks in splits(stream) {
            #expect(decodeServer(chunks: chunks) == expected)
        }
    }

    @Test func requestLengthOverTheLimitIsFatalBeforeBuffering() throws {
        var limits = WireLimits()
        limits.maxQueueRequest = 10
        #expect(decodeClient(bytes("QREQ 1 ListQueues 10\r\n0123456789\r\n"), limits: limits).first?.isFrame == true)
        var decoder = ClientFrameDecoder(limits: limits)
        decoder.append(bytes("QREQ 1 ListQueues 11\r\n"))
        let error = #expect(throws: WireError.self) { _ = try decoder.next() }
        #expect(error?.code == .frameTooLarge)
        #expect(error?.isFatal == true)
        #expect(error?.heraldCode == .frameTooLarge)
        #expect(decoder.bufferedByteCount == 0)
        // The default is the documented 2 MiB.
        #expect(WireLimits.default.maxQueueRequest == 2_097_152)
        #expect(decodeClient(bytes("QREQ 1 ListQueues 2097153\r\n")).first == .failure(.frameTooLarge, fatal: true, reference: .none))
    }

    @Test func responseLengthOverTheClientLimitIsFatal() {
        var decoder = ServerFrameDecoder(limits: WireLimits(maxQueueResponse: 100))
        decoder.append(bytes("QRES 1 101\r\n"))
        let error = #expect(throws: WireError.self) { _ = try decoder.next() }
        #expect(error?.code == .frameTooLarge)
        #expect(error?.isFatal == true)
    }

    static let malformedRequests: [MalformedFrameTests.Case] = [
        .init(input: "QREQ\r\n", code: .malformedLine, fatal: true),
        .init(input: "QREQ 1\r\n", code: .malformedLine, fatal: true),
        .init(input: "QREQ 1 ListQueues\r\n", code: .malformedLine, fatal: true),
        .init(input: "QREQ x ListQueues 2\r\n{}\r\n", code: .invalidNumber, fatal: true),
        .init(input: "QREQ 1 ListQueues two\r\n{}\r\n", code: .invalidNumber, fatal: true),
        .init(input: "QREQ 1 ListQueues -2\r\n{}\r\n", code: .invalidNumber, fatal: true),
        .init(input: "QREQ 18446744073709551616 ListQueues 2\r\n{}\r\n", code: .invalidNumber, fatal: true),
        .init(input: "QREQ 1 ListQueues 2\r\n{}XX", code: .missingTerminator, fatal: true),
        .init(input: "QREQ 1 ListQueues 2\r\n{", code: .truncated, fatal: true),
        .init(input: "QREQ 1 List_Queues 2\r\n{}\r\n", code: .invalidToken, fatal: false, reference: .request(1)),
        .init(input: "QREQ 1 \(String(repeating: "A", count: 65)) 2\r\n{}\r\n", code: .invalidToken, fatal: false, reference: .request(1)),
        .init(input: "QREQ 1 Lístqueues 2\r\n{}\r\n", code: .invalidToken, fatal: false, reference: .request(1)),
        .init(input: "QREQ 1 ListQueues 2 extra\r\n{}\r\n", code: .malformedLine, fatal: false, reference: .request(1)),
        .init(input: "QRES 1 2\r\n{}\r\n", code: .unknownVerb, fatal: true),  // a server verb from a client
    ]

    @Test(arguments: malformedRequests)
    func requestDecoderRejects(_ c: MalformedFrameTests.Case) {
        let results = decodeClient(bytes(c.input))
        #expect(results.first == .failure(c.code, fatal: c.fatal, reference: c.reference), "\(results)")
    }

    @Test func actionOfExactly64CharactersIsAccepted() {
        let action = String(repeating: "Ab9", count: 21) + "Z"
        #expect(action.utf8.count == 64)
        #expect(QueueAction.isValid(action))
        #expect(!QueueAction.isValid(""))
        #expect(!QueueAction.isValid(action + "Z"))
        #expect(decodeClient(bytes("QREQ 1 \(action) 0\r\n\r\n")) == [.frame(.queueRequest(QueueRequestFrame(requestID: 1, action: action, json: [])))])
    }

    static let malformedResponses: [MalformedFrameTests.Case] = [
        .init(input: "QRES\r\n", code: .malformedLine, fatal: true),
        .init(input: "QRES 1\r\n", code: .malformedLine, fatal: true),
        .init(input: "QRES one 2\r\n{}\r\n", code: .invalidNumber, fatal: true),
        .init(input: "QRES 1 2 more\r\n{}\r\n", code: .malformedLine, fatal: true),
        .init(input: "QRES 1 2\r\n{}}\r\n", code: .missingTerminator, fatal: true),
        .init(input: "QRES 1 2\r\n{", code: .truncated, fatal: true),
        .init(input: "QREQ 1 ListQueues 2\r\n{}\r\n", code: .unknownVerb, fatal: true),  // a client verb from a server
    ]

    @Test(arguments: malformedResponses)
    func responseDecoderRejects(_ c: MalformedFrameTests.Case) {
        let results = decodeServer(bytes(c.input))
        #expect(results.first == .failure(c.code, fatal: c.fatal, reference: c.reference), "\(results)")
    }

    @Test func infoCarriesTheQueueRequestLimit() {
        var limits = WireLimits()
        limits.maxQueueRequest = 12345
        let info = ServerInfo(serverName: "h", version: "1", limits: limits)
        let stream = encode([ServerFrame.info(info)])
        #expect(String(decoding: stream, as: UTF8.self).contains(#""max_queue_request":12345"#))
        #expect(decodeServer(stream) == [.frame(.info(info))])
    }
}

extension Decoded {
    var isFrame: Bool {
        if case .frame = self { return true }
        return false
    }
}
