import Testing
import HeraldCore
@testable import HeraldWire

@Suite struct FrameRoundTripTests {
    @Test(arguments: sampleClientFrames)
    func clientFrameRoundTrips(frame: ClientFrame) {
        #expect(decodeClient(encode([frame])) == [.frame(frame)])
    }

    @Test(arguments: sampleServerFrames)
    func serverFrameRoundTrips(frame: ServerFrame) {
        #expect(decodeServer(encode([frame])) == [.frame(frame)])
    }

    @Test func encodingIsTheDocumentedText() {
        #expect(String(decoding: encode([ClientFrame.publish(PublishFrame(topic: "orders", requestID: 42, body: bytes("hello"), groupID: "g"))]), as: UTF8.self)
            == "PUB orders 42 0 5 group=g\r\nhello\r\n")
        #expect(String(decoding: encode([ClientFrame.subscribe(SubscribeFrame(sid: 1, topic: "orders", credit: 10, policy: bytes("{}")))]), as: UTF8.self)
            == "SUB 1 orders MessageAttributes ack 10 2\r\n{}\r\n")
        #expect(String(decoding: encode([ClientFrame.ack(sid: 1, tags: [1...1, 3...5])]), as: UTF8.self) == "ACK 1 1,3-5\r\n")
        #expect(String(decoding: encode([ServerFrame.message(DeliveryFrame(sid: 1, deliveryTag: 2, topic: "t", messageID: MessageID(text: "m"), body: bytes("x"), redelivered: true))]), as: UTF8.self)
            == "MSG 1 2 t m 0 1 redelivered\r\nx\r\n")
        #expect(String(decoding: encode([ServerFrame.error(ErrorFrame(code: .notFound, reference: .subscription(4), message: "a\r\nb"))]), as: UTF8.self)
            == "ERR NotFound sid=4 a  b\r\n")
        #expect(String(decoding: encode([ServerFrame.published(requestID: 9, messageID: MessageID(text: "abc"))]), as: UTF8.self) == "PUBOK 9 abc\r\n")
        #expect(String(decoding: encode([ClientFrame.connect(ConnectOptions(token: "t"))]), as: UTF8.self) == #"CONNECT {"proto":1,"token":"t"}"# + "\r\n")
    }

    @Test func errorMessagesAreCappedAtAUTF8Boundary() {
        let long = String(repeating: "é", count: 2000)
        let decoded = decodeServer(encode([ServerFrame.error(ErrorFrame(code: .internal, message: long))]))
        guard case .frame(.error(let e)) = decoded.first else { Issue.record("\(decoded)"); return }
        #expect(e.message.utf8.count == ErrorFrame.maxMessageBytes)
        #expect(e.message == String(repeating: "é", count: ErrorFrame.maxMessageBytes / 2))
    }

    @Test func errorFramesFromErrors() {
        let wire = WireError(.invalidToken, "Invalid parameter: Topic Name", isFatal: false, reference: .request(3))
        #expect(ErrorFrame(wire) == ErrorFrame(code: .invalidParameter, reference: .request(3), message: "Invalid parameter: Topic Name"))
        #expect(WireError(.frameTooLarge, "x").heraldCode == .frameTooLarge)
        #expect(WireError(.unknownVerb, "x").heraldCode == .protocolError)
        let core = HeraldError(.parameterValueInvalid, "bad")
        #expect(ErrorFrame(core, reference: .request(1)).code == .parameterValueInvalid)
    }

    @Test func appendsToExistingBufferContent() {
        var out: [UInt8] = bytes("prefix")
        FrameEncoder.append(ClientFrame.ping, to: &out)
        FrameEncoder.append(ServerFrame.pong, to: &out)
        #expect(out == bytes("prefixPING\r\nPONG\r\n"))
    }

    @Test func decimalEncodingCoversAllWidths() {
        var value: UInt64 = 1
        for _ in 0..<20 {
            for candidate in [value - 1, value, value &+ 7] {
                var out: [UInt8] = []
                FrameEncoder.appendDecimal(candidate, to: &out)
                #expect(String(decoding: out, as: UTF8.self) == String(candidate))
            }
            value = value &* 10
        }
        var out: [UInt8] = []
        FrameEncoder.appendDecimal(UInt64.max, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "18446744073709551615")
    }
}
