// What the server answers is what docs/PROTOCOL.md says it answers: the CONNECT-required error,
// DuplicateSubscription for a sid in use, SNS's FIFO message-group error, and the error catalog.
import Foundation
import HeraldClient
import HeraldConfig
import HeraldCore
import HeraldNet
import HeraldTestSupport
import HeraldWire
import Testing
@testable import HeraldServer

extension Integration {
    @Suite struct ProtocolDoc {
        static let protocolDoc: String = {
            (try? String(contentsOfFile: TestPaths.repository + "/docs/PROTOCOL.md", encoding: .utf8)) ?? ""
        }()

        @Test func aFrameBeforeCONNECTGetsTheDocumentedError() throws {
            let server = try TestServer()
            defer { server.stop() }
            for first in [ClientFrame.ping, .subscribe(SubscribeFrame(sid: 1, topic: "t", credit: 1))] {
                let raw = try server.raw()
                defer { raw.close() }
                guard case .info? = try raw.next() else { throw NetError(.closed, "expected INFO") }
                try raw.send(first)
                let frames = raw.readUntilClosed()
                #expect(raw.isClosed)
                #expect(frames == [.error(ErrorFrame(code: .protocolError, message: "CONNECT required"))])
            }
            #expect(Self.protocolDoc.contains("`ERR ProtocolError - CONNECT required`"), "§2 shows the same text")
            try server.assertServing()
        }

        @Test func aSidInUseGetsDuplicateSubscriptionAndTheConnectionStays() throws {
            let server = try TestServer()
            defer { server.stop() }
            let raw = try server.raw()
            defer { raw.close() }
            try raw.handshake()
            let sub = SubscribeFrame(sid: 3, topic: "dup", ackMode: .auto, credit: 10)
            try raw.send(.subscribe(sub))
            #expect(try raw.next(where: { $0 != .ping }) == .subscribed(sid: 3))
            try raw.send(.subscribe(sub))
            let answer = try raw.next(where: { $0 != .ping })?.errorFrame
            #expect(answer?.code == .duplicateSubscription && answer?.reference == .subscription(3), "\(String(describing: answer))")
            #expect(Self.protocolDoc.contains("| `DuplicateSubscription` | SUB with a sid already in use | no |"))
            // Not fatal: the first subscription still works.
            try raw.send(.ping)
            #expect(try raw.next(where: { $0 == .pong }) == .pong)
            #expect(server.server.broker.subscriptionCount(topic: "dup") == 1)
        }

        @Test func aPublishToAFIFOTopicWithoutAMessageGroupGetsSNSsError() throws {
            let server = try TestServer { config in
                config.autoCreateTopics = false
                config.topics = [HeraldConfig.Topic(name: "orders.fifo"), HeraldConfig.Topic(name: "orders")]
            }
            defer { server.stop() }
            let raw = try server.raw()
            defer { raw.close() }
            try raw.handshake()
            let body = Array("hi".utf8)
            try raw.send(.publish(PublishFrame(topic: "orders.fifo", requestID: 1, body: body)))
            try raw.send(.publish(PublishFrame(topic: "orders.fifo", requestID: 2, body: body, groupID: "g1", deduplicationID: "d1")))
            try raw.send(.publish(PublishFrame(topic: "orders", requestID: 3, body: body)))
            var answers: [ServerFrame] = []
            while answers.count < 3, let frame = try raw.next(where: { $0 != .ping }) { answers.append(frame) }
            let text = "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
            #expect(answers.first == .error(ErrorFrame(code: .invalidParameter, reference: .request(1), message: text)))
            #expect(answers.dropFirst().map(\.publishedRequestID) == [2, 3])
            #expect(Self.protocolDoc.contains("`InvalidParameter` `\(text)`"), "§8 shows the same text")
            #expect(server.server.broker.stats.published == 2)
        }

        /// Every code in `HeraldErrorCode.all` has a row in §7.1 and every row is in `all`.
        @Test func theCatalogTableListsExactlyTheCatalogCodes() throws {
            let doc = Self.protocolDoc
            let start = try #require(doc.range(of: "### 7.1 Catalog"))
            let end = try #require(doc.range(of: "### 7.2", range: start.upperBound..<doc.endIndex))
            var documented: [String] = []
            for line in doc[start.upperBound..<end.lowerBound].split(separator: "\n") where line.hasPrefix("| `") {
                let cell = line.dropFirst(3)
                if let tick = cell.firstIndex(of: "`") { documented.append(String(cell[..<tick])) }
            }
            #expect(documented == HeraldErrorCode.all.map(\.rawValue))
        }
    }
}

extension ServerFrame {
    var publishedRequestID: UInt64? {
        if case .published(let requestID, _) = self { return requestID }
        return nil
    }
}
