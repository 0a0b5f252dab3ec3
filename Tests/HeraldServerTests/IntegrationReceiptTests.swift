import HeraldBroker
import HeraldCore
import HeraldTestSupport
import HeraldWire
import Synchronization
import Testing
@testable import HeraldServer

/// PUBOK waits for the receipts of every target a message reached, goes out in request order per
/// connection, never blocks the connection meanwhile, and a failed receipt becomes that request's
/// ERR (docs/ARCHITECTURE.md, the publish path).
@Suite struct IntegrationReceiptTests {
    final class DeferringEndpoint: MessageEndpoint {
        let tokens = Mutex<[ReceiptToken]>([])
        func deliver(_ messages: [Message]) -> DeliveryReceipt {
            let token = ReceiptToken()
            tokens.withLock { $0.append(token) }
            return .pending(token)
        }
        var count: Int { tokens.withLock { $0.count } }
        func token(_ index: Int) -> ReceiptToken? { tokens.withLock { index < $0.count ? $0[index] : nil } }
    }

    @Test func confirmationsWaitForReceiptsInRequestOrderWithoutBlockingTheConnection() throws {
        let server = try TestServer()
        defer { server.stop() }
        let deferring = DeferringEndpoint()
        try server.server.broker.applyConfiguration([
            TopicConfiguration(name: "slow", subscriptions: [ConfiguredSubscription(name: "held", policy: nil, target: .endpoint(deferring))]),
            TopicConfiguration(name: "fast"),
        ])
        let raw = try server.raw()
        defer { raw.close() }
        try raw.handshake()
        func pub(_ topic: String, _ id: UInt64) throws {
            try raw.send(.publish(PublishFrame(topic: topic, requestID: id, body: Array("m\(id)".utf8))))
        }
        func pong() throws -> [ServerFrame] {
            try raw.send(.ping)
            var before: [ServerFrame] = []
            while let frame = try raw.next() {
                if case .pong = frame { return before }
                before.append(frame)
            }
            return before
        }
        try pub("slow", 1)
        #expect(try pong().isEmpty, "request 1 waits for its receipt; the connection still answers PING")
        #expect(deferring.count == 1)
        try pub("fast", 2)
        #expect(try pong().isEmpty, "request 2 needs no receipt but is confirmed after 1")
        try pub("slow", 3)
        #expect(try pong().isEmpty)
        #expect(deferring.count == 2)
        deferring.token(1)?.settle(HeraldError(.throttled, "queue full"))
        #expect(try pong().isEmpty, "request 3 settled, but 1 has not")
        deferring.token(0)?.settle()
        var frames: [ServerFrame] = []
        while frames.count < 3, let frame = try raw.next() { frames.append(frame) }
        guard frames.count == 3, case .published(let first, _) = frames[0], case .published(let second, _) = frames[1],
              case .error(let third) = frames[2] else {
            Issue.record("expected PUBOK 1, PUBOK 2, ERR 3: \(frames)")
            return
        }
        #expect([first, second] == [1, 2])
        #expect(third.reference == .request(3) && third.code == .throttled && third.message == "queue full")
        try pub("fast", 4)  // nothing waits any more: confirmed at once
        guard case .published(4, _)? = try raw.next() else {
            Issue.record("expected PUBOK 4")
            return
        }
    }
}
