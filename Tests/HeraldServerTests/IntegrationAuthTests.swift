// Identity and permissions end to end: mutual TLS, tokens, and live reloads of both.
import Foundation
import HeraldClient
import HeraldConfig
import HeraldCore
import HeraldTestSupport
import Testing
@testable import HeraldServer

extension Integration {
    @Suite struct Auth {
        static func patterns(_ texts: [String]) -> [TopicPattern] { texts.compactMap(TopicPattern.init) }

        @Test func mutualTLSRefusesClientsWithoutACertificateAndAppliesTheCertificateUsersPermissions() throws {
            let server = try TestServer { config in
                config.listeners[0].tls.clientCAFile = TestPaths.ca
                config.listeners[0].tls.clientAuth = .required
                config.auth = HeraldConfig.Auth(allowAnonymous: false, users: [
                    HeraldConfig.User(
                        name: "cert-user", certificateCommonName: "dev-client",
                        permissions: Permissions(publish: Self.patterns(["allowed*"]), subscribe: Self.patterns(["allowed*"]))),
                ])
            }
            defer { server.stop() }

            // No certificate: the handshake (or the connection right after it) fails.
            #expect(throws: ClientError.self) { try server.client() }
            #expect(throws: (any Error).self) {
                let raw = try server.raw()
                defer { raw.close() }
                // TLS 1.3 may report the refusal only after the client's side finished: then the
                // server's alert closes the connection before any INFO.
                guard case .info? = try raw.next(timeout: .seconds(5)) else { throw ClientError(code: "closed", message: "no INFO") }
            }

            // With the dev client certificate, no token: identified by its CN.
            let client = try server.client(withClientCertificate: true)
            defer { client.close() }
            let got = Collector<ClientDelivery>()
            _ = try client.subscribe(topic: "allowed-events", ackMode: .auto) { got.append($0) }
            _ = try client.publish(topic: "allowed-events", body: Array("hi".utf8))
            #expect(got.waitForCount(1))

            let publishError = #expect(throws: ClientError.self) {
                try client.publish(topic: "private", body: Array("no".utf8))
            }
            #expect(publishError?.code == "NotAuthorized")
            let subscribeError = #expect(throws: ClientError.self) {
                try client.subscribe(topic: "private", ackMode: .auto) { _ in }
            }
            #expect(subscribeError?.code == "NotAuthorized")
            // Still usable afterwards.
            _ = try client.publish(topic: "allowed-events", body: Array("again".utf8))
            #expect(got.waitForCount(2))
            #expect(server.server.counters.snapshot.authenticationFailures == 0)
        }

        static func tokenConfig(_ config: inout HeraldConfig) {
            config.auth = HeraldConfig.Auth(allowAnonymous: false, users: [
                HeraldConfig.User(name: "writer", token: "writer-token", permissions: .all),
                HeraldConfig.User(
                    name: "reader", token: "reader-token",
                    permissions: Permissions(publish: [], subscribe: patterns(["*"]))),
            ])
        }

        @Test func aTokenWithoutPublishRightsGetsNotAuthorizedAndStaysConnected() throws {
            let server = try TestServer(Self.tokenConfig)
            defer { server.stop() }
            let reader = try server.client(token: "reader-token")
            defer { reader.close() }
            let error = #expect(throws: ClientError.self) {
                try reader.publish(topic: "news", body: Array("x".utf8))
            }
            #expect(error?.code == "NotAuthorized")
            #expect(error?.message.contains("reader") == true)

            // The connection is still usable: it subscribes and receives the writer's message.
            let got = Collector<ClientDelivery>()
            _ = try reader.subscribe(topic: "news", ackMode: .auto) { got.append($0) }
            let writer = try server.client(token: "writer-token")
            defer { writer.close() }
            let id = try writer.publish(topic: "news", body: Array("hello".utf8))
            #expect(got.waitForCount(1))
            #expect(got.all.first?.messageID == id)
        }

        @Test func unknownOrMissingTokensFailAuthentication() throws {
            let server = try TestServer(Self.tokenConfig)
            defer { server.stop() }
            let unknown = #expect(throws: ClientError.self) { try server.client(token: "not-a-token") }
            #expect(unknown?.code == "AuthenticationFailed")
            let missing = #expect(throws: ClientError.self) { try server.client() }
            #expect(missing?.code == "AuthenticationFailed")
            #expect(waitUntil { server.server.counters.snapshot.authenticationFailures == 2 })
            #expect(waitUntil { server.server.counters.snapshot.disconnects[.connectRefused] == 2 })

            // On the wire: ERR AuthenticationFailed, then the server closes.
            let raw = try server.raw()
            defer { raw.close() }
            guard case .info? = try raw.next() else { Issue.record("no INFO"); return }
            try raw.send(.connect(.init(token: "wrong")))
            let frames = raw.readUntilClosed()
            #expect(frames.compactMap(\.errorFrame).map(\.code.rawValue) == ["AuthenticationFailed"])
            #expect(raw.isClosed)
            try server.assertServingWithToken("writer-token")
        }

        @Test func reloadAppliesLimitsToTheNextFrameAndPermissionsToNewConnections() throws {
            var config = TestServer.baseConfig()
            Self.tokenConfig(&config)
            config.auth.users[1].permissions.publish = Self.patterns(["orders"])
            let running = config
            let server = try TestServer { $0 = running }
            defer { server.stop() }

            let reader = try server.client(token: "reader-token")
            defer { reader.close() }
            let got = Collector<ClientDelivery>()
            _ = try reader.subscribe(topic: "orders", ackMode: .auto) { got.append($0) }
            _ = try reader.publish(topic: "orders", body: Array(repeating: UInt8(ascii: "x"), count: 2000))
            #expect(got.waitForCount(1))
            let before = #expect(throws: ClientError.self) { try reader.publish(topic: "payments", body: Array("no".utf8)) }
            #expect(before?.code == "NotAuthorized")

            // Lower the message size and grant publish on payments.
            var changed = running
            changed.auth.users[1].permissions.publish = Self.patterns(["orders", "payments"])
            changed.limits.message.maxMessageBytes = 1000
            #expect(try server.server.reload(changed).isEmpty)
            // The limit applies to the very next frame of the existing connection.
            let tooLong = #expect(throws: ClientError.self) {
                try reader.publish(topic: "orders", body: Array(repeating: UInt8(ascii: "x"), count: 2000))
            }
            #expect(tooLong?.code == "InvalidParameter")
            #expect(tooLong?.message == "Invalid parameter: Message too long")
            _ = try reader.publish(topic: "orders", body: Array(repeating: UInt8(ascii: "x"), count: 900))
            #expect(got.waitForCount(2))
            // The new permission applies to a new connection of the same user.
            let second = try server.client(token: "reader-token")
            defer { second.close() }
            _ = try second.publish(topic: "payments", body: Array("allowed now".utf8))

            // A bad file never becomes a config; the broker refuses an invalid one; either way the
            // running config stays and connections keep working.
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-itest-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let file = folder.appendingPathComponent("herald.yaml").path
            try "listeners: [ {address: 127.0.0.1:0\nlimits: nonsense: [\n".write(toFile: file, atomically: true, encoding: .utf8)
            #expect(throws: ConfigError.self) { try ConfigLoader.load(file: file) }

            var invalid = changed
            invalid.topics = [HeraldConfig.Topic(name: "not a topic")]
            #expect(throws: ServerError.self) { try server.server.reload(invalid) }
            #expect(server.server.configuration == changed)
            _ = try reader.publish(topic: "orders", body: Array("still flowing".utf8))
            #expect(got.waitForCount(3))
            let stillLimited = #expect(throws: ClientError.self) {
                try reader.publish(topic: "orders", body: Array(repeating: UInt8(ascii: "x"), count: 2000))
            }
            #expect(stillLimited?.message == "Invalid parameter: Message too long", "the running limits stayed")
        }

        /// A session decides publish permission once per run of PUBs to one topic: alternating
        /// topics must still be decided each for its own topic.
        @Test func publishPermissionIsDecidedPerTopicAcrossAlternatingPublishes() throws {
            let server = try TestServer { config in
                Self.tokenConfig(&config)
                config.auth.users[1].permissions.publish = Self.patterns(["payments"])
            }
            defer { server.stop() }
            let reader = try server.client(token: "reader-token")
            defer { reader.close() }
            for topic in ["payments", "news", "payments", "payments", "news"] {
                if topic == "payments" {
                    _ = try reader.publish(topic: topic, body: Array("ok".utf8))
                } else {
                    let error = #expect(throws: ClientError.self) { try reader.publish(topic: topic, body: Array("no".utf8)) }
                    #expect(error?.code == "NotAuthorized")
                }
            }
        }

        @Test func reloadAppliesPermissionsToTheNextFrameOfAnOpenConnection() throws {
            var config = TestServer.baseConfig()
            Self.tokenConfig(&config)
            let running = config
            let server = try TestServer { $0 = running }
            defer { server.stop() }
            let reader = try server.client(token: "reader-token")
            defer { reader.close() }
            let writer = try server.client(token: "writer-token")
            defer { writer.close() }
            #expect(throws: ClientError.self) { try reader.publish(topic: "payments", body: Array("no".utf8)) }

            var granted = running
            granted.auth.users[1].permissions.publish = Self.patterns(["payments"])
            var revoked = running
            revoked.auth.users[0].permissions = .none
            try server.server.reload(granted)
            _ = try reader.publish(topic: "payments", body: Array("granted".utf8))
            // Allowed before the reload: the session's per-topic decision must not outlive it.
            _ = try writer.publish(topic: "payments", body: Array("allowed".utf8))
            try server.server.reload(revoked)
            let error = #expect(throws: ClientError.self) { try writer.publish(topic: "payments", body: Array("revoked".utf8)) }
            #expect(error?.code == "NotAuthorized")
        }
    }
}

extension TestServer {
    func assertServingWithToken(_ token: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let client = try self.client(token: token)
        defer { client.close() }
        let got = Collector<ClientDelivery>()
        _ = try client.subscribe(topic: "health-check", ackMode: .auto) { got.append($0) }
        _ = try client.publish(topic: "health-check", body: Array("ping".utf8))
        #expect(got.waitForCount(1), sourceLocation: sourceLocation)
    }
}
