import HeraldCore
@testable import HeraldWire

/// What a decoder produced from a byte stream: frames, and the errors it threw (non-fatal ones
/// followed by more frames; a fatal one ends the list).
enum Decoded<Frame: Hashable>: Hashable {
    case frame(Frame)
    case failure(WireError.Code, fatal: Bool, reference: ErrorReference)
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func encode(_ frames: [ClientFrame]) -> [UInt8] {
    var out: [UInt8] = []
    for frame in frames { FrameEncoder.append(frame, to: &out) }
    return out
}

func encode(_ frames: [ServerFrame]) -> [UInt8] {
    var out: [UInt8] = []
    for frame in frames { FrameEncoder.append(frame, to: &out) }
    return out
}

/// Feeds `input` to a client-frame decoder in the given chunks and collects everything it yields.
func decodeClient<S: Sequence<ArraySlice<UInt8>>>(chunks: S, limits: WireLimits = .default) -> [Decoded<ClientFrame>] {
    var decoder = ClientFrameDecoder(limits: limits)
    var results: [Decoded<ClientFrame>] = []
    for chunk in chunks {
        decoder.append(chunk)
        while true {
            do {
                guard let frame = try decoder.next() else { break }
                results.append(.frame(frame))
            } catch {
                results.append(.failure(error.code, fatal: error.isFatal, reference: error.reference))
                if error.isFatal { return results }
            }
        }
    }
    do {
        try decoder.finish()
    } catch {
        results.append(.failure(error.code, fatal: error.isFatal, reference: error.reference))
    }
    return results
}

func decodeServer<S: Sequence<ArraySlice<UInt8>>>(chunks: S, limits: WireLimits = ServerFrameDecoder.clientDefaultLimits) -> [Decoded<ServerFrame>] {
    var decoder = ServerFrameDecoder(limits: limits)
    var results: [Decoded<ServerFrame>] = []
    for chunk in chunks {
        decoder.append(chunk)
        while true {
            do {
                guard let frame = try decoder.next() else { break }
                results.append(.frame(frame))
            } catch {
                results.append(.failure(error.code, fatal: error.isFatal, reference: error.reference))
                if error.isFatal { return results }
            }
        }
    }
    do {
        try decoder.finish()
    } catch {
        results.append(.failure(error.code, fatal: error.isFatal, reference: error.reference))
    }
    return results
}

func decodeClient(_ input: [UInt8], limits: WireLimits = .default) -> [Decoded<ClientFrame>] {
    decodeClient(chunks: [input[...]], limits: limits)
}

func decodeServer(_ input: [UInt8]) -> [Decoded<ServerFrame>] { decodeServer(chunks: [input[...]]) }

/// All ways to cut `input` into two pieces, plus one byte at a time.
func splits(_ input: [UInt8]) -> [[ArraySlice<UInt8>]] {
    var ways: [[ArraySlice<UInt8>]] = []
    for cut in 0...input.count { ways.append([input[..<cut], input[cut...]]) }
    ways.append(input.indices.map { input[$0...$0] })
    return ways
}

let sampleAttributes: MessageAttributes = [
    "store": .string("example_corp"),
    "price": .number("210.75"),
    "tags": .stringArray(json: #"["a","b",3]"#),
    "blob": .binary([0, 1, 2, 0x0D, 0x0A, 255]),
    "url": MessageAttributeValue(dataType: "String.url", payload: .string("https://x.example/é")),
    "count": MessageAttributeValue(dataType: "Number.int", payload: .string("-3")),
    "odd": MessageAttributeValue(dataType: "Binary.custom label", payload: .string("kept as published")),
]

let sampleClientFrames: [ClientFrame] = [
    .connect(ConnectOptions(token: "s3cr\"et\n", clientName: "tester", session: "sess-1")),
    .connect(ConnectOptions()),
    .publish(PublishFrame(topic: "orders", requestID: 1, attributes: sampleAttributes, body: bytes("hello\r\nworld"))),
    .publish(PublishFrame(topic: "orders.fifo", requestID: UInt64.max, body: [], groupID: "g-1", deduplicationID: "d:1/x")),
    .publish(PublishFrame(topic: "t", requestID: 0, attributes: [:], body: [0x0D])),
    .subscribe(SubscribeFrame(sid: 7, topic: "orders", scope: .messageBody, ackMode: .auto, credit: 100, policy: bytes(#"{"store":["example_corp"]}"#))),
    .subscribe(SubscribeFrame(sid: 8, topic: "orders", credit: 0)),
    .unsubscribe(sid: 7),
    .credit(sid: 7, count: UInt32.max),
    .ack(sid: 7, tags: [1...1, 3...9, 12...12]),
    .queueRequest(QueueRequestFrame(requestID: 9, action: "ReceiveMessage", json: bytes(#"{"QueueName":"orders","WaitTimeSeconds":20}"#))),
    .queueRequest(QueueRequestFrame(requestID: UInt64.max, action: "PurgeQueue", json: [])),
    .queueRequest(QueueRequestFrame(requestID: 10, action: "SendMessage", json: bytes("{\"MessageBody\":\"a\r\nb\"}\r\n"))),
    .ping,
    .pong,
]

let sampleServerFrames: [ServerFrame] = [
    .info(ServerInfo(serverName: "herald-1", version: "0.1.0", maxSubscriptions: 64, heartbeatIntervalMilliseconds: 5000)),
    .connected(ConnectAccepted(session: "sess-1", resumed: true)),
    .published(requestID: 1, messageID: MessageID(text: "2f1c9a64-8b0e-4b7e-9d3a-1e2f3a4b5c6d")),
    .subscribed(sid: 7),
    .unsubscribed(sid: 7),
    .message(DeliveryFrame(sid: 7, deliveryTag: 1, topic: "orders", messageID: MessageID(text: "m-1"), attributes: AttributeCodec.encode(sampleAttributes), body: bytes("hi\r\n"))),
    .message(DeliveryFrame(sid: 8, deliveryTag: 99, topic: "o.fifo", messageID: MessageID(text: "m-2"), body: [], redelivered: true, groupID: "g")),
    .queueResponse(QueueResponseFrame(requestID: 9, json: bytes(#"{"Messages":[{"Body":"hi\r\n"}]}"#))),
    .queueResponse(QueueResponseFrame(requestID: 0, json: [])),
    .queueResponse(QueueResponseFrame(requestID: UInt64.max, json: [0x0D, 0x0A, 0x0D])),
    .error(ErrorFrame(code: .invalidParameter, reference: .request(1), message: "Invalid parameter: Message too long")),
    .error(ErrorFrame(code: .notFound, reference: .subscription(3), message: "Subscription does not exist")),
    .error(ErrorFrame(code: HeraldErrorCode(rawValue: "SomeFutureCode"), reference: .none, message: "")),
    .ping,
    .pong,
]
