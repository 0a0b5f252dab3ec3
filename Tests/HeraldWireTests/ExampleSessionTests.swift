import Testing
import HeraldCore
@testable import HeraldWire

/// The example session in docs/PROTOCOL.md §9, byte for byte, so the document stays true.
@Suite struct ExampleSessionTests {
    let attributes: [UInt8] = [0x01, 0x05] + bytes("store") + [0x06] + bytes("String") + [0x53, 0x0C] + bytes("example_corp")
    let id = MessageID(text: "5b0e6a4c-3f7e-4c2a-9d61-0f1e2d3c4b5a")

    @Test func attributeBytesAreTheDocumentedOnes() {
        #expect(AttributeCodec.encode(["store": .string("example_corp")]) == attributes)
        #expect(attributes.count == 28)
    }

    @Test func clientSide() {
        var stream = bytes(#"CONNECT {"proto":1,"token":"s3cret","name":"demo","session":"demo-1"}"# + "\n")
        stream += bytes("SUB 1 orders MessageAttributes ack 100 26\n" + #"{"store":["example_corp"]}"# + "\n")
        stream += bytes("PUB orders 1 28 5\n") + attributes + bytes("hello\n")
        stream += bytes("ACK 1 1\nCREDIT 1 1\nPUB orders 2 0 0\n\nPUB bad!topic 3 0 2\nhi\nUNSUB 1\nPING\nHELLO\n")
        let expected: [Decoded<ClientFrame>] = [
            .frame(.connect(ConnectOptions(token: "s3cret", clientName: "demo", session: "demo-1"))),
            .frame(.subscribe(SubscribeFrame(sid: 1, topic: "orders", scope: .messageAttributes, ackMode: .ack, credit: 100, policy: bytes(#"{"store":["example_corp"]}"#)))),
            .frame(.publish(PublishFrame(topic: "orders", requestID: 1, attributes: attributes, body: bytes("hello")))),
            .frame(.ack(sid: 1, tags: [1...1])),
            .frame(.credit(sid: 1, count: 1)),
            .frame(.publish(PublishFrame(topic: "orders", requestID: 2, body: []))),
            .failure(.invalidToken, fatal: false, reference: .request(3)),
            .frame(.unsubscribe(sid: 1)),
            .frame(.ping),
            .failure(.unknownVerb, fatal: true, reference: .none),
        ]
        #expect(decodeClient(stream) == expected)
        // The empty PUB decodes; validation gives SNS's reply.
        #expect(throws: HeraldError(.invalidParameter, "Invalid parameter: Empty message")) {
            try MessageValidator().validate(body: [], attributes: [:])
        }
    }

    @Test func serverSide() {
        var stream = bytes(#"INFO {"server":"herald-1","version":"0.1.0","proto":1,"max_line":4096,"max_payload":327680,"max_attributes_bytes":65536,"max_policy":262144,"max_queue_request":2097152,"max_message":262144,"max_attributes":10,"max_subscriptions":1024,"heartbeat_ms":30000}"# + "\r\n")
        stream += bytes(#"CONNOK {"session":"demo-1","resumed":false}"# + "\r\nSUBOK 1\r\nPUBOK 1 \(id.text)\r\n")
        stream += bytes("MSG 1 1 orders \(id.text) 28 5\r\n") + attributes + bytes("hello\r\n")
        stream += bytes("ERR InvalidParameter 2 Invalid parameter: Empty message\r\nUNSUBOK 1\r\nPONG\r\n")
        let info = ServerInfo(serverName: "herald-1", version: "0.1.0")
        let expected: [Decoded<ServerFrame>] = [
            .frame(.info(info)),
            .frame(.connected(ConnectAccepted(session: "demo-1", resumed: false))),
            .frame(.subscribed(sid: 1)),
            .frame(.published(requestID: 1, messageID: id)),
            .frame(.message(DeliveryFrame(sid: 1, deliveryTag: 1, topic: "orders", messageID: id, attributes: attributes, body: bytes("hello")))),
            .frame(.error(ErrorFrame(code: .invalidParameter, reference: .request(2), message: "Invalid parameter: Empty message"))),
            .frame(.unsubscribed(sid: 1)),
            .frame(.pong),
        ]
        #expect(decodeServer(stream) == expected)
        // And the encoder writes INFO exactly as documented.
        #expect(encode([ServerFrame.info(info)]) == Array(stream.prefix(while: { $0 != 0x0A })) + [0x0A])
    }
}
