// Heartbeats end to end: peers that answer PING stay, peers that go silent are closed after
// about two intervals.
import Foundation
import HeraldClient
import HeraldTestSupport
import HeraldWire
import Testing
@testable import HeraldServer

extension Integration {
    @Suite struct Heartbeat {
        static let interval: Duration = .seconds(1)

        @Test func clientsThatAnswerPingsStayConnected() throws {
            let server = try TestServer { $0.timeouts.heartbeat = Self.interval }
            defer { server.stop() }
            try Self.pingsAreAnswered(server)
        }

        static func pingsAreAnswered(_ server: TestServer) throws {
            let library = try server.client()
            defer { library.close() }
            let libraryClosed = Collector<String>()
            library.onClose { libraryClosed.append($0) }

            // A raw peer that answers each PING (and sends nothing else) over four intervals.
            let raw = try server.raw()
            defer { raw.close() }
            try raw.handshake()
            var pings = 0
            let until = ContinuousClock.now + Self.interval * 4
            while ContinuousClock.now < until {
                let frame: ServerFrame?
                do { frame = try raw.next(timeout: until - ContinuousClock.now) } catch { break }
                guard let frame else {
                    Issue.record("the server closed a peer that answered its PINGs")
                    return
                }
                #expect(frame.errorFrame == nil, "\(frame)")
                if case .ping = frame {
                    pings += 1
                    try raw.send(.pong)
                }
            }
            #expect(pings >= 2, "the server pinged the quiet peer (\(pings))")
            #expect(!raw.isClosed)
            try raw.send(.ping)
            #expect(try raw.next(where: { $0 == .pong }) == .pong)

            // The library client answered PINGs on its own the whole time.
            #expect(libraryClosed.all.isEmpty)
            let got = Collector<ClientDelivery>()
            _ = try library.subscribe(topic: "hb", ackMode: .auto) { got.append($0) }
            _ = try library.publish(topic: "hb", body: Array("alive".utf8))
            #expect(got.waitForCount(1))
            #expect(server.server.counters.snapshot.heartbeatTimeouts == 0)
        }

        @Test func aPeerThatNeverAnswersPingIsClosedAfterAboutTwoIntervals() throws {
            let server = try TestServer { $0.timeouts.heartbeat = Self.interval }
            defer { server.stop() }
            let raw = try server.raw()
            defer { raw.close() }
            try raw.handshake()
            let quietSince = ContinuousClock.now
            let frames = raw.readUntilClosed(timeout: Self.interval * 8)
            let after = ContinuousClock.now - quietSince
            #expect(raw.isClosed, "closed")
            #expect(frames.first == .ping)
            #expect(frames.compactMap(\.errorFrame).map(\.code.rawValue) == ["Timeout"])
            #expect(after >= Self.interval * 1.5, "not before two intervals (\(after))")
            #expect(after < Self.interval * 6, "about two intervals (\(after))")
            #expect(server.server.counters.snapshot.heartbeatTimeouts == 1)
            try server.assertServing()
        }

        @Test func infoAnnouncesASubSecondHeartbeatExactly() throws {
            let server = try TestServer { $0.timeouts.heartbeat = .milliseconds(1500) }
            defer { server.stop() }
            let raw = try server.raw()
            defer { raw.close() }
            guard case .info(let info)? = try raw.next() else { Issue.record("no INFO"); return }
            #expect(info.heartbeatIntervalMilliseconds == 1500)
        }
    }
}
