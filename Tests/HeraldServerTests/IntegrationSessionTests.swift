// Session ownership end to end over real TLS: a session belongs to the identity that created it
// (a user, however it signed in; anonymous clients only by a server-issued id). Anyone else naming
// it is refused at CONNECT and the owner's connection and messages stay untouched.
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
    @Suite struct Sessions {
        static let topic = "orders"

        static func users(_ config: inout HeraldConfig) {
            config.auth = HeraldConfig.Auth(allowAnonymous: true, anonymousPermissions: .all, users: [
                HeraldConfig.User(name: "alice", token: "alice-token", permissions: .all),
                HeraldConfig.User(name: "carol", token: "carol-token", permissions: .all),
                // No permission on any topic: still must not be able to knock alice off.
                HeraldConfig.User(name: "mallory", token: "mallory-token", permissions: .none),
            ])
        }

        /// A raw connection with an ack-mode subscription (sid 1) that has received `bodies` and
        /// acked none of them.
        static func subscriberWithUnacked(
            _ server: TestServer, token: String? = nil, session: String? = nil, withClientCertificate: Bool = false,
            bodies: [String]
        ) throws -> (RawClient, ConnectAccepted) {
            let raw = try server.raw(withClientCertificate: withClientCertificate)
            let accepted = try raw.accept(token: token, session: session)
            try raw.send(.subscribe(SubscribeFrame(sid: 1, topic: topic, ackMode: .ack, credit: 100)))
            guard case .subscribed(1)? = try raw.next(where: { if case .ping = $0 { false } else { true } }) else {
                throw NetError(.closed, "expected SUBOK")
            }
            let publisher = try server.client(token: "alice-token")
            defer { publisher.close() }
            for body in bodies { _ = try publisher.publish(topic: topic, body: Array(body.utf8)) }
            let got = try raw.deliveries(bodies.count)
            #expect(got.map(\.body.text) == bodies && got.allSatisfy { !$0.redelivered })
            return (raw, accepted)
        }

        /// The owner's connection is still attached and its messages are still its own: a new
        /// message arrives as a first delivery, with no ERR before it, and PING still gets PONG.
        static func expectStillConnected(_ raw: RawClient, _ server: TestServer, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let publisher = try server.client(token: "alice-token")
            defer { publisher.close() }
            _ = try publisher.publish(topic: topic, body: Array("after".utf8))
            var frames: [ServerFrame] = []
            let delivery = try raw.next { frame in
                frames.append(frame)
                if case .message = frame { return true }
                return false
            }
            #expect(frames.compactMap(\.errorFrame).isEmpty, "no ERR reached the owner", sourceLocation: sourceLocation)
            guard case .message(let message)? = delivery else {
                Issue.record("the owner was disconnected", sourceLocation: sourceLocation)
                return
            }
            #expect(message.body.text == "after" && !message.redelivered, sourceLocation: sourceLocation)
            try raw.send(.ping)
            #expect(try raw.next(where: { $0 == .pong }) == .pong, sourceLocation: sourceLocation)
        }

        /// CONNECT naming `session` as someone else: fatal `ERR NotAuthorized -`, then the close.
        static func expectRefused(
            _ server: TestServer, token: String?, session: String, withClientCertificate: Bool = false, saying words: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            let raw = try server.raw(withClientCertificate: withClientCertificate)
            defer { raw.close() }
            guard case .info? = try raw.next() else { throw NetError(.closed, "expected INFO") }
            // CONNECT with a SUB pipelined in the same write: after a failed CONNECT it is not acted on.
            var out: [UInt8] = []
            FrameEncoder.append(ClientFrame.connect(ConnectOptions(token: token, session: session)), to: &out)
            FrameEncoder.append(ClientFrame.subscribe(SubscribeFrame(sid: 1, topic: topic, ackMode: .ack, credit: 100)), to: &out)
            try raw.send(out)
            let frames = raw.readUntilClosed()
            #expect(raw.isClosed, "CONNECT failed: the connection closes", sourceLocation: sourceLocation)
            #expect(frames.count == 1, "\(frames)", sourceLocation: sourceLocation)
            let error = frames.first?.errorFrame
            #expect(error?.code == .notAuthorized && error?.reference == ErrorReference.none, sourceLocation: sourceLocation)
            #expect(error?.message.contains(words) == true, "\(error?.message ?? "")", sourceLocation: sourceLocation)
            #expect(error?.message.contains("connect without \"session\"") == true, sourceLocation: sourceLocation)
        }

        @Test func anotherUserCanNeitherResumeNorKnockOffASession() throws {
            let server = try TestServer(Self.users)
            defer { server.stop() }
            let (alice, accepted) = try Self.subscriberWithUnacked(server, token: "alice-token", session: "s1", bodies: ["m0", "m1", "m2"])
            #expect(accepted == ConnectAccepted(session: "s1", resumed: false))

            try Self.expectRefused(server, token: "carol-token", session: "s1", saying: "belongs to another identity")
            try Self.expectRefused(server, token: "mallory-token", session: "s1", saying: "belongs to another identity")
            try Self.expectRefused(server, token: nil, session: "s1", saying: "anonymous clients may only resume")
            try Self.expectStillConnected(alice, server)
            // The publishers' connections close asynchronously; then only alice's session is left.
            #expect(waitUntil { server.server.broker.gauges.sessions == 1 }, "the refusals created no session")

            // Alice's unacked messages are still hers: her next connection gets them back.
            alice.close()
            #expect(waitUntil { server.server.broker.gauges.attachedSessions == 0 })
            let again = try server.raw()
            defer { again.close() }
            #expect(try again.accept(token: "alice-token", session: "s1") == ConnectAccepted(session: "s1", resumed: true))
            try again.send(.subscribe(SubscribeFrame(sid: 1, topic: Self.topic, ackMode: .ack, credit: 100)))
            let redelivered = try again.deliveries(4)
            #expect(redelivered.map(\.body.text) == ["m0", "m1", "m2", "after"])
            #expect(redelivered.allSatisfy { $0.redelivered })
        }

        @Test func theSameUserTakesOverItsSessionFromAnotherConnection() throws {
            let server = try TestServer(Self.users)
            defer { server.stop() }
            let (first, _) = try Self.subscriberWithUnacked(server, token: "alice-token", session: "s1", bodies: ["m0", "m1"])
            defer { first.close() }
            let second = try server.raw()
            defer { second.close() }
            #expect(try second.accept(token: "alice-token", session: "s1") == ConnectAccepted(session: "s1", resumed: true))

            let ended = first.readUntilClosed().compactMap(\.errorFrame)
            #expect(ended.map(\.code) == [.sessionTakenOver])
            #expect(HeraldErrorCode.all.contains(.sessionTakenOver), "the code is in the catalog")
            #expect(first.isClosed)

            try second.send(.subscribe(SubscribeFrame(sid: 1, topic: Self.topic, ackMode: .ack, credit: 100)))
            let redelivered = try second.deliveries(2)
            #expect(redelivered.map(\.body.text) == ["m0", "m1"] && redelivered.allSatisfy { $0.redelivered })
        }

        @Test func aCertificateUsersSessionIsItsOwnAcrossConnections() throws {
            let server = try TestServer { config in
                config.listeners[0].tls.clientCAFile = TestPaths.ca
                config.listeners[0].tls.clientAuth = .optional
                config.auth = HeraldConfig.Auth(allowAnonymous: true, anonymousPermissions: .all, users: [
                    HeraldConfig.User(name: "alice", token: "alice-token", permissions: .all),
                    HeraldConfig.User(name: "cert-user", certificateCommonName: "dev-client", permissions: .all),
                ])
            }
            defer { server.stop() }
            let (holder, _) = try Self.subscriberWithUnacked(
                server, session: "c1", withClientCertificate: true, bodies: ["m0"])
            try Self.expectRefused(server, token: "alice-token", session: "c1", saying: "belongs to another identity")
            try Self.expectRefused(server, token: nil, session: "c1", saying: "anonymous clients may only resume")
            try Self.expectStillConnected(holder, server)
            holder.close()
            #expect(waitUntil { server.server.broker.gauges.attachedSessions == 0 })

            // The same certificate is the same identity: it resumes.
            let again = try server.raw(withClientCertificate: true)
            defer { again.close() }
            #expect(try again.accept(session: "c1") == ConnectAccepted(session: "c1", resumed: true))
            try again.send(.subscribe(SubscribeFrame(sid: 1, topic: Self.topic, ackMode: .ack, credit: 100)))
            #expect(try again.deliveries(2).map(\.body.text) == ["m0", "after"])
        }

        @Test func anonymousClientsResumeOnlyTheSessionIDTheServerIssuedThem() throws {
            let server = try TestServer(Self.users)
            defer { server.stop() }
            // An id the server never issued: refused, whether made up or well-formed.
            try Self.expectRefused(server, token: nil, session: "demo-1", saying: "anonymous clients may only resume")
            try Self.expectRefused(
                server, token: nil, session: "0123456789abcdef0123456789abcdef", saying: "anonymous clients may only resume")
            #expect(server.server.broker.gauges.sessions == 0)

            // Without a session id: the server issues one (128 bits, hex).
            let (anonymous, accepted) = try Self.subscriberWithUnacked(server, bodies: ["m0"])
            #expect(!accepted.resumed)
            let issued = accepted.session
            #expect(issued.count == 32 && issued.allSatisfy(\.isHexDigit) && issued == issued.lowercased(), "\(issued)")

            // A named user cannot take the anonymous session.
            try Self.expectRefused(server, token: "alice-token", session: issued, saying: "belongs to another identity")
            try Self.expectStillConnected(anonymous, server)
            anonymous.close()
            #expect(waitUntil { server.server.broker.gauges.attachedSessions == 0 })

            // The holder of the issued id resumes it.
            let again = try server.raw()
            defer { again.close() }
            #expect(try again.accept(session: issued) == ConnectAccepted(session: issued, resumed: true))
            try again.send(.subscribe(SubscribeFrame(sid: 1, topic: Self.topic, ackMode: .ack, credit: 100)))
            let redelivered = try again.deliveries(2)
            #expect(redelivered.map(\.body.text) == ["m0", "after"] && redelivered.allSatisfy { $0.redelivered })
        }

        @Test func connokSaysResumedOnlyWhenASessionWasResumed() throws {
            let server = try TestServer(Self.users)
            defer { server.stop() }
            let fresh = try server.raw()
            #expect(try fresh.accept(token: "alice-token", session: "fresh") == ConnectAccepted(session: "fresh", resumed: false))
            fresh.close()
            #expect(waitUntil { server.server.broker.gauges.sessions == 0 }, "nothing to keep: the session ended")
            let again = try server.raw()
            defer { again.close() }
            #expect(try again.accept(token: "alice-token", session: "fresh") == ConnectAccepted(session: "fresh", resumed: false))
            let issued = try server.raw()
            defer { issued.close() }
            let accepted = try issued.accept(token: "alice-token")
            #expect(!accepted.resumed && accepted.session.count == 32)
            // The library client sees the id the server issued.
            let client = try server.client(token: "alice-token")
            defer { client.close() }
            #expect(client.session.count == 32 && client.session != accepted.session)
        }
    }
}

extension RawClient {
    /// Reads INFO, sends CONNECT and returns CONNOK's content; throws on anything else.
    func accept(token: String? = nil, session: String? = nil) throws -> ConnectAccepted {
        guard case .info? = try next() else { throw NetError(.closed, "expected INFO") }
        try send(.connect(ConnectOptions(token: token, session: session)))
        let answer = try next()
        guard case .connected(let accepted)? = answer else {
            throw NetError(.closed, "expected CONNOK, got \(String(describing: answer))")
        }
        return accepted
    }

    /// The next `count` MSG frames (other frames skipped; an ERR or a close fails).
    func deliveries(_ count: Int, timeout: Duration = .seconds(10)) throws -> [DeliveryFrame] {
        var got: [DeliveryFrame] = []
        while got.count < count {
            let frame = try next(timeout: timeout) { frame in
                switch frame {
                case .message, .error: return true
                default: return false
                }
            }
            guard case .message(let delivery)? = frame else {
                throw NetError(.closed, "expected MSG, got \(String(describing: frame))")
            }
            got.append(delivery)
        }
        return got
    }
}
