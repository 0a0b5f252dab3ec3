import Testing
import HeraldWire

/// `SUB … subscription=<name>` round-trips, and a bad name is a per-frame error, not fatal.
@Suite struct SubscriptionOptionTests {
    @Test func nameRoundTripsThroughEncoderAndDecoder() throws {
        let frame = SubscribeFrame(sid: 3, topic: "orders", credit: 10, subscriptionName: "eu.orders-1")
        var bytes: [UInt8] = []
        FrameEncoder.append(ClientFrame.subscribe(frame), to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("SUB 3 orders MessageAttributes ack 10 0 subscription=eu.orders-1\r\n"))
        var decoder = ClientFrameDecoder()
        decoder.append(bytes)
        #expect(try decoder.next() == .subscribe(frame))
    }

    @Test func aBadNameIsRefusedForThatFrameOnly() throws {
        var decoder = ClientFrameDecoder()
        decoder.append(Array("SUB 4 orders MessageAttributes ack 10 0 subscription=bad/name\r\n\r\nPING\r\n".utf8))
        do {
            _ = try decoder.next()
            Issue.record("a bad subscription name was accepted")
        } catch {
            #expect(!error.isFatal)
            #expect(error.reference == .subscription(4))
        }
        #expect(try decoder.next() == .ping)
    }
}
