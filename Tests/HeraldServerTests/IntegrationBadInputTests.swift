// Bad input over the real listener: each case gets a clear error (or a clean close), never a
// crash, hang or unbounded memory, and the server keeps serving normal clients.
import Dispatch
import Foundation
import HeraldClient
import HeraldCore
import HeraldNet
import HeraldTestSupport
import HeraldWire
import Synchronization
import Testing
@testable import HeraldServer

extension Integration {
    @Suite struct BadInput {
        // MARK: Before and instead of TLS

        @Test func garbageBeforeTheTLSHandshakeIsClosed() throws {
            let server = try TestServer()
            defer { server.stop() }
            let socket = try PlainSocket(port: server.port)
            defer { socket.close() }
            var rng = SplitMix64(seed: 7)
            #expect(socket.send((0..<2048).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))
            #expect(socket.waitForServerClose(timeout: .seconds(10)), "the server hangs up on non-TLS bytes")
            try server.assertServing()
        }

        @Test func plainTextOnTheTLSPortIsClosed() throws {
            let server = try TestServer()
            defer { server.stop() }
            let socket = try PlainSocket(port: server.port)
            defer { socket.close() }
            #expect(socket.send(Array("CONNECT {\"proto\":1}\r\nPUB t 1 0 2\r\nhi\r\n".utf8)))
            #expect(socket.waitForServerClose(timeout: .seconds(10)))
            try server.assertServing()
        }

        // MARK: Framing after CONNECT

        @Test func anOversizeFrameIsRefusedAndTheConnectionClosed() throws {
            let server = try TestServer()
            defer { server.stop() }
            let raw = try server.raw()
            defer { raw.close() }
            try raw.handshake()
            let limit = try #require(raw.info).limits.maxPayloadBytes
            try raw.send("PUB big 1 0 \(limit + 1)\r\n")
            let frames = raw.readUntilClosed()
            let errors = frames.compactMap(\.errorFrame)
            #expect(errors.count == 1)
            #expect(errors.first.map { ["FrameTooLarge", "ProtocolError"].contains($0.code.rawValue) } == true, "\(errors)")
            #expect(raw.isClosed)
            #expect(server.server.broker.stats.published == 0)
            try server.assertServing()
        }

        /// A fatal framing error after CONNECT: the ERR is the last frame, then EOF, and the broker
        /// session is detached (it stayed attached before, fed by nobody's reads).
        @Test func aFatalFrameErrorAfterCONNECTEndsTheStreamAndDetachesTheSession() throws {
            let server = try TestServer()
            defer { server.stop() }
            let raw = try server.raw()
            defer { raw.close() }
            try raw.handshake()
            #expect(server.server.broker.gauges.attachedSessions == 1)
            try raw.send("BOGUS 1 2 3\r\n")
            let (frames, endedOnFrameBoundary) = try raw.readToEnd()
            #expect(endedOnFrameBoundary)
            #expect(frames.last?.errorFrame?.code == .protocolError, "\(frames)")
            #expect(raw.connection.closeReason == .peerClosed)
            #expect(waitUntil { server.server.broker.gauges.attachedSessions == 0 }, "the session was detached")
            try server.assertServing()
        }

        /// An ACK range covering every tag (2^64 of them) used to overflow the tag count and crash
        /// the server; it is refused like any range past the per-frame bound.
        @Test func anAckRangeOfEveryTagIsRefusedNotACrash() throws {
            let server = try TestServer()
            defer { server.stop() }
            let raw = try server.raw()
            defer { raw.close() }
            try raw.handshake()
            try raw.send("SUB 1 acks MessageAttributes ack 10 0\r\n\r\n")
            _ = try raw.next { if case .subscribed = $0 { return true } else { return false } }
            try raw.send("ACK 1 0-18446744073709551615\r\n")
            let refusal = try raw.next { if case .error = $0 { return true } else { return false } }
            #expect(refusal?.errorFrame?.code == .invalidParameter, "\(String(describing: refusal))")
            try raw.send(.ping)
            #expect(try raw.next { if case .pong = $0 { return true } else { return false } } != nil, "the connection stays")
            try server.assertServing()
        }

        @Test func aControlLineOverTheLimitIsRefused() throws {
            let server = try TestServer()
            defer { server.stop() }
            let raw = try server.raw()
            defer { raw.close() }
            try raw.handshake()
            try raw.send("PUB " + String(repeating: "t", count: 10_000))
            let errors = raw.readUntilClosed().compactMap(\.errorFrame)
            #expect(raw.isClosed)
            #expect(errors.map(\.code.rawValue).first.map { ["FrameTooLarge", "ProtocolError"].contains($0) } == true, "\(errors)")
            try server.assertServing()
        }

        @Test func aTruncatedFrameThenCloseLeavesTheServerFine() throws {
            let server = try TestServer()
            defer { server.stop() }
            let raw = try server.raw()
            try raw.handshake()
            try raw.send("PUB cut 1 0 100\r\nonly a part of the body")
            raw.close()
            #expect(waitUntil { server.server.broker.gauges.attachedSessions == 0 }, "the session was released")
            #expect(server.server.broker.stats.published == 0, "nothing half-read was published")
            try server.assertServing()
        }

        // MARK: Validation errors keep the connection

        @Test(arguments: [
            InvalidPublish(
                "bad attribute name", attributes: ["a^b": .string("x")], code: "ParameterValueInvalid",
                text: "Invalid non-alphanumeric character '#x5E' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots."),
            InvalidPublish(
                "bad number", attributes: ["price": .number("12abc")], code: "ParameterValueInvalid",
                text: "Could not cast message attribute 'price' value to number."),
            InvalidPublish(
                "number out of range", attributes: ["price": .number("1e10")], code: "ParameterValueInvalid",
                text: "Value 1e10 for message attribute 'price' of type 'Number' is out of range. Number values must be between -1000000000 and 1000000000."),
            InvalidPublish(
                "too many attributes", attributes: Dictionary(uniqueKeysWithValues: (0..<11).map { ("a\($0)", MessageAttributeValue.string("v")) }),
                code: "InvalidParameter",
                text: "Invalid parameter: MessageAttributes Reason: Number of message attributes [11] exceeds the allowed maximum [10]."),
            InvalidPublish("message too long", bodySize: 262_145, code: "InvalidParameter", text: "Invalid parameter: Message too long"),
            InvalidPublish("empty message", bodySize: 0, code: "InvalidParameter", text: "Invalid parameter: Empty message"),
            InvalidPublish(
                "binary type with a string value", attributes: ["b": .init(dataType: "Binary", payload: .string("x"))],
                code: "ParameterValueInvalid", text: "The message attribute 'b' with type 'Binary' must use field 'Binary'."),
        ])
        func anInvalidPublishGetsTheSNSTextAndTheConnectionStays(_ bad: InvalidPublish) throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.client()
            defer { client.close() }
            let error = #expect(throws: ClientError.self) {
                try client.publish(topic: "validate", attributes: bad.attributes, body: Array(repeating: UInt8(ascii: "x"), count: bad.bodySize))
            }
            #expect(error?.code == bad.code)
            #expect(error?.message == bad.text)
            // Same connection, valid message: accepted.
            _ = try client.publish(topic: "validate", attributes: ["price": .number("12.5")], body: Array("fine".utf8))
            #expect(server.server.broker.stats.published == 1)
        }

        @Test func anInvalidFilterPolicyGetsTheSNSReason() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.client()
            defer { client.close() }
            let tooMany = #expect(throws: ClientError.self) {
                try client.subscribe(topic: "p", policy: #"{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}"#) { _ in }
            }
            #expect(tooMany?.code == "InvalidFilterPolicy")
            #expect(tooMany?.message.contains("Filter policy can not have more than 5 keys") == true, "\(String(describing: tooMany))")
            let broken = #expect(throws: ClientError.self) {
                try client.subscribe(topic: "p", policy: #"{"a": ["#) { _ in }
            }
            #expect(broken?.code == "InvalidFilterPolicy")
            #expect(broken?.message.hasPrefix("Invalid parameter: FilterPolicy:") == true, "\(String(describing: broken))")
            // The connection is still good.
            _ = try client.subscribe(topic: "p", policy: #"{"a":["1"]}"#) { _ in }
        }

        // MARK: CONNECT first

        @Test func aFrameBeforeCONNECTIsAnErrorAndCloses() throws {
            let server = try TestServer()
            defer { server.stop() }
            for first in ["SUB 1 t MessageAttributes auto 10 0\r\n\r\n", "PUB t 1 0 2\r\nhi\r\n", "HELLO\r\n"] {
                let raw = try server.raw()
                defer { raw.close() }
                guard case .info? = try raw.next() else { Issue.record("no INFO"); continue }
                try raw.send(first)
                let frames = raw.readUntilClosed()
                #expect(raw.isClosed, "\(first)")
                #expect(frames.compactMap(\.errorFrame).map(\.code.rawValue) == ["ProtocolError"], "\(first): \(frames)")
                #expect(!frames.contains { if case .subscribed = $0 { return true } else { return false } })
            }
            #expect(server.server.broker.stats.published == 0)
            try server.assertServing()
        }

        @Test func aPINGBeforeCONNECTIsAnErrorAndCloses() throws {
            let server = try TestServer()
            defer { server.stop() }
            let raw = try server.raw()
            defer { raw.close() }
            guard case .info? = try raw.next() else { Issue.record("no INFO"); return }
            try raw.send("PING\r\n")
            let frames = raw.readUntilClosed(timeout: .seconds(2))
            #expect(raw.isClosed)
            #expect(frames.compactMap(\.errorFrame).map(\.code.rawValue) == ["ProtocolError"], "\(frames)")
        }

        // MARK: Resource bounds

        @Test func tenThousandSubscriptionsOnOneConnectionThenTooMany() throws {
            let limit = 10_000
            let server = try TestServer { $0.limits.maxSubscriptionsPerConnection = limit }
            defer { server.stop() }
            let raw = try server.raw()
            defer { raw.close() }
            try raw.handshake()
            // Spread over 10 topics: the broker rebuilds a topic's route per subscription change,
            // O(n) each, so 10,000 on one topic costs O(n²) (≈10 s in a debug build).
            func topic(_ sid: UInt64) -> String { "many-\(sid % 10)" }
            var out: [UInt8] = []
            for sid in 1...UInt64(limit + 1) {
                FrameEncoder.append(.subscribe(SubscribeFrame(
                    sid: sid, topic: topic(sid), scope: .messageAttributes, ackMode: .auto, credit: 10,
                    policy: Array(#"{"k":["v\#(sid)"]}"#.utf8))), to: &out)
            }
            try raw.send(out)
            var subscribed = Set<UInt64>()
            var refused: [ErrorFrame] = []
            while subscribed.count + refused.count < limit + 1 {
                guard let frame = try raw.next(timeout: .seconds(30)) else { Issue.record("closed"); return }
                switch frame {
                case .subscribed(let sid): subscribed.insert(sid)
                case .error(let e): refused.append(e)
                default: break
                }
            }
            #expect(subscribed == Set(1...UInt64(limit)))
            #expect(refused.map(\.code.rawValue) == ["TooManySubscriptions"])
            #expect(refused.first?.reference == .subscription(UInt64(limit + 1)))
            #expect((0..<10).compactMap { server.server.broker.subscriptionCount(topic: "many-\($0)") }.reduce(0, +) == limit)

            // Still a working connection: a message for one policy reaches exactly that sid.
            try raw.send(.publish(PublishFrame(topic: topic(5000), requestID: 1, attributes: ["k": .string("v5000")], body: Array("one".utf8))))
            var delivered: [UInt64] = []
            var confirmed = false
            while !(confirmed && !delivered.isEmpty) {
                guard let frame = try raw.next(timeout: .seconds(10)) else { break }
                if case .published(1, _) = frame { confirmed = true }
                if case .message(let m) = frame { delivered.append(m.sid) }
            }
            try raw.send(.ping)
            while let frame = try raw.next(timeout: .seconds(10)) {
                if case .pong = frame { break }
                if case .message(let m) = frame { delivered.append(m.sid) }
            }
            #expect(confirmed)
            #expect(delivered == [5000])
        }

        @Test func aPeerThatNeverReadsIsDisconnectedAndOthersAreUnaffected() throws {
            let server = try TestServer()
            defer { server.stop() }
            let topic = "flood"
            let body = [UInt8](repeating: UInt8(ascii: "f"), count: 32 << 10)

            let stalled = try server.raw()
            defer { stalled.close() }
            try stalled.handshake()
            try stalled.send(.subscribe(SubscribeFrame(sid: 1, topic: topic, scope: .messageAttributes, ackMode: .auto, credit: UInt32.max)))
            guard case .subscribed? = try stalled.next(where: { if case .subscribed = $0 { return true } else { return false } }) else {
                Issue.record("no SUBOK"); return
            }
            // From here on the stalled peer never reads (its client buffers fill, then TCP's, then the server's).

            let fast = try server.client()
            defer { fast.close() }
            let fastCount = Atomic<Int>(0)
            _ = try fast.subscribe(topic: topic, ackMode: .auto, credit: 1000) { _ in fastCount.add(1, ordering: .relaxed) }

            let publisher = try server.client()
            defer { publisher.close() }
            let rssBefore = residentBytes()
            var published = 0
            let window = 64
            // 32 KiB messages in confirmed windows, until the server cuts the stalled peer off
            // (bounded: 3,000 messages ≈ 94 MiB would mean nobody ever did).
            while server.server.counters.snapshot.outputLimitDisconnects == 0 && published < 3000 {
                let results = publishAll(publisher, topic: topic, count: window) { _ in ([:], body) }
                let failed = results.filter { if case .success? = $0 { return false } else { return true } }
                try #require(failed.isEmpty, "publish failed: \(failed.prefix(3))")
                published += window
            }
            #expect(server.server.counters.snapshot.outputLimitDisconnects == 1, "the stalled peer was cut off after \(published) messages")
            #expect(published < 3000)
            #expect(waitUntil { server.server.broker.subscriptionCount(topic: topic) == 1 }, "its subscription is gone")
            // Others unaffected: the fast subscriber got every message, and publishing still works.
            #expect(waitUntil(.seconds(20)) { fastCount.load(ordering: .relaxed) == published }, "\(fastCount.load(ordering: .relaxed)) of \(published)")
            _ = try publisher.publish(topic: topic, body: Array("after".utf8))
            #expect(waitUntil { fastCount.load(ordering: .relaxed) == published + 1 })
            let growth = residentBytes() - rssBefore
            #expect(growth < 200 << 20, "memory stayed bounded (grew \(growth >> 20) MiB)")
            #expect(server.server.broker.gauges.pendingMessages == 0)
        }

        @Test func aThousandIdleConnectionsAreClosedAndTheirDescriptorsReleased() throws {
            let server = try TestServer { $0.timeouts.handshake = .seconds(2) }
            defer { server.stop() }
            try server.assertServing()
            let count = 1000

            // Opened concurrently; none of them ever starts TLS.
            let sockets = Mutex<[PlainSocket]>([])
            let failures = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: count) { _ in
                if let socket = try? PlainSocket(port: server.port) {
                    sockets.withLock { $0.append(socket) }
                } else {
                    failures.add(1, ordering: .relaxed)
                }
            }
            let open = sockets.withLock { $0 }
            defer { for socket in open { socket.close() } }
            #expect(failures.load(ordering: .relaxed) == 0)
            #expect(open.count == count)

            // Meanwhile a normal client is served (assertServing bounds each step by its own timeout).
            try server.assertServing(topic: "while-idle")

            // The handshake timeout closes every one of them on the server side…
            var closedByServer = 0
            for socket in open where socket.waitForServerClose(timeout: .seconds(15)) { closedByServer += 1 }
            #expect(closedByServer == count)
            // …and the server's descriptors are released: only our own sockets remain. Counted per
            // port, so suites running meanwhile in this process do not count.
            #expect(waitUntil { connectionDescriptorCount(port: server.port) <= count },
                    "fds on the port: \(connectionDescriptorCount(port: server.port)) for our \(count)")
            for socket in open { socket.close() }
            #expect(waitUntil { connectionDescriptorCount(port: server.port) == 0 },
                    "fds on the port after closing ours: \(connectionDescriptorCount(port: server.port))")
            try server.assertServing()
        }

        @Test func aTLSConnectionThatNeverSendsCONNECTIsClosedByTheHandshakeTimeout() throws {
            let server = try TestServer { config in
                config.timeouts.handshake = .seconds(1)
                config.timeouts.heartbeat = .seconds(30)
            }
            defer { server.stop() }
            let raw = try server.raw()
            defer { raw.close() }
            guard case .info? = try raw.next() else { Issue.record("no INFO"); return }
            let started = ContinuousClock.now
            let frames = raw.readUntilClosed(timeout: .seconds(3))
            let closed = raw.isClosed
            #expect(closed, "closed within the handshake timeout (waited \(ContinuousClock.now - started))")
            #expect(frames.compactMap(\.errorFrame).map(\.code.rawValue) == ["Timeout"])
        }
    }
}

struct InvalidPublish: Sendable, CustomTestStringConvertible {
    var name: String
    var attributes: MessageAttributes
    var bodySize: Int
    var code: String
    var text: String

    init(_ name: String, attributes: MessageAttributes = [:], bodySize: Int = 4, code: String, text: String) {
        self.name = name
        self.attributes = attributes
        self.bodySize = bodySize
        self.code = code
        self.text = text
    }

    var testDescription: String { name }
}
