import Testing
import HeraldCore
@testable import HeraldWire

@Suite struct SplitPointTests {
    @Test func clientStreamDecodesIdenticallyAtEverySplitPoint() {
        let stream = encode(sampleClientFrames)
        let expected = sampleClientFrames.map { Decoded<ClientFrame>.frame($0) }
        #expect(decodeClient(stream) == expected)
        for chunks in splits(stream) {
            let got = decodeClient(chunks: chunks)
            #expect(got == expected, "chunking \(chunks.map(\.count).prefix(3))")
            if got != expected { break }
        }
    }

    @Test func serverStreamDecodesIdenticallyAtEverySplitPoint() {
        let stream = encode(sampleServerFrames)
        let expected = sampleServerFrames.map { Decoded<ServerFrame>.frame($0) }
        #expect(decodeServer(stream) == expected)
        for chunks in splits(stream) {
            let got = decodeServer(chunks: chunks)
            #expect(got == expected, "chunking \(chunks.map(\.count).prefix(3))")
            if got != expected { break }
        }
    }

    @Test func errorsAreTheSameAtEverySplitPoint() {
        // A non-fatal error in the middle, then a fatal one: every chunking reports the same sequence.
        var stream = encode([ClientFrame.ping])
        stream += bytes("PUB bad!topic 5 0 3\r\nabc\r\n")
        stream += encode([ClientFrame.pong])
        stream += bytes("SUB 4 t Body ack 1 2\r\n{}\r\nACK 4 x\r\n")
        stream += bytes("PUB t 6 0 3\r\nabcX\r\n")
        let expected: [Decoded<ClientFrame>] = [
            .frame(.ping),
            .failure(.invalidToken, fatal: false, reference: .request(5)),
            .frame(.pong),
            .failure(.malformedLine, fatal: false, reference: .subscription(4)),
            .failure(.invalidNumber, fatal: false, reference: .subscription(4)),
            .failure(.missingTerminator, fatal: true, reference: .none),
        ]
        #expect(decodeClient(stream) == expected)
        for chunks in splits(stream) {
            #expect(decodeClient(chunks: chunks) == expected)
        }
    }

    @Test func serverErrorsAreTheSameAtEverySplitPoint() {
        var stream = bytes("MSG 1 2 t m!id 0 3\r\nPNG\r\nPONG\r\nMSG 1 3 t m 0 2 redelivered\r\nok\r\nERR X - y\r\nMSG 1 4 t m 0 1\r\nxx")
        stream += bytes("\r\n")
        let expected: [Decoded<ServerFrame>] = [
            .failure(.invalidToken, fatal: false, reference: .subscription(1)),
            .frame(.pong),
            .frame(.message(DeliveryFrame(sid: 1, deliveryTag: 3, topic: "t", messageID: MessageID(text: "m"), body: bytes("ok"), redelivered: true))),
            .frame(.error(ErrorFrame(code: HeraldErrorCode(rawValue: "X"), message: "y"))),
            .failure(.missingTerminator, fatal: true, reference: .none),
        ]
        #expect(decodeServer(stream) == expected)
        for chunks in splits(stream) {
            #expect(decodeServer(chunks: chunks) == expected)
        }
    }

    @Test func lineTooLongIsTheSameAtEverySplitPoint() {
        var limits = WireLimits()
        limits.maxControlLineBytes = 16
        let ok = bytes("SUB 1 t MessageAttributes ack 0 0\r\n\r\n")  // 35 bytes: too long for 16
        let expected: [Decoded<ClientFrame>] = [.failure(.lineTooLong, fatal: true, reference: .none)]
        for chunks in splits(ok) { #expect(decodeClient(chunks: chunks, limits: limits) == expected) }
        // Exactly at the limit (15 bytes + LF = 16) is fine.
        let fits = bytes("UNSUB 123456789\n")
        #expect(fits.count == 16)
        for chunks in splits(fits) { #expect(decodeClient(chunks: chunks, limits: limits) == [.frame(.unsubscribe(sid: 123_456_789))]) }
    }
}
