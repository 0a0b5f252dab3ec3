// Shared helpers for the end-to-end integration suites: a real `Server` on an ephemeral loopback
// port with the dev certificates and a raw TLS client speaking frames by hand (paths, waiting,
// collectors and the plain TCP socket are in HeraldTestSupport).
import Dispatch
import Foundation
import HeraldClient
import HeraldConfig
import HeraldCore
import HeraldNet
import HeraldTestSupport
import HeraldWire
import Synchronization
import Testing
@testable import HeraldServer

/// Every integration suite nests in this one, so they run one at a time (2 busy cores).
@Suite(.serialized) enum Integration {}

/// A running server on 127.0.0.1:<ephemeral>; `stop()` closes the listener.
final class TestServer: Sendable {
    let server: Server
    let port: Int

    init(_ configure: (inout HeraldConfig) -> Void = { _ in }) throws {
        var config = HeraldConfig.defaults(
            certsDirectory: TestPaths.certs, listen: ListenAddress(host: "127.0.0.1", port: 0))
        configure(&config)
        server = Server(config: config)
        try server.start()
        port = try #require(server.listenAddresses.first).port
    }

    static func baseConfig() -> HeraldConfig {
        HeraldConfig.defaults(certsDirectory: TestPaths.certs, listen: ListenAddress(host: "127.0.0.1", port: 0))
    }

    func options(token: String? = nil, session: String? = nil, name: String? = nil, withClientCertificate: Bool = false) -> ClientOptions {
        ClientOptions(
            host: "127.0.0.1", port: port, caFile: TestPaths.ca,
            certificateFile: withClientCertificate ? TestPaths.clientCert : nil,
            privateKeyFile: withClientCertificate ? TestPaths.clientKey : nil,
            token: token, session: session, clientName: name, connectTimeout: .seconds(10))
    }

    /// A connected library client.
    func client(token: String? = nil, session: String? = nil, withClientCertificate: Bool = false) throws -> HeraldClient {
        try HeraldClient.connect(options(token: token, session: session, withClientCertificate: withClientCertificate))
    }

    func raw(withClientCertificate: Bool = false) throws -> RawClient {
        try RawClient(port: port, withClientCertificate: withClientCertificate)
    }

    func stop() { server.stop() }

    /// A normal client can still connect, subscribe, publish and receive: the server is serving.
    func assertServing(topic: String = "health-check", sourceLocation: SourceLocation = #_sourceLocation) throws {
        let client = try self.client()
        defer { client.close() }
        let got = Collector<ClientDelivery>()
        _ = try client.subscribe(topic: topic, ackMode: .auto) { got.append($0) }
        _ = try client.publish(topic: topic, body: Array("ping".utf8), timeout: .seconds(10))
        #expect(got.waitForCount(1, timeout: .seconds(10)), "a normal client gets its message", sourceLocation: sourceLocation)
    }
}

/// Publishes `count` messages pipelined and waits for every confirmation; returns the results in
/// request order.
func publishAll(
    _ client: HeraldClient, topic: String, count: Int, timeout: Duration = .seconds(30),
    make: (Int) -> (MessageAttributes, [UInt8])
) -> [Result<MessageID, ClientError>?] {
    let results = Mutex<[Result<MessageID, ClientError>?]>(Array(repeating: nil, count: count))
    let done = Atomic<Int>(0)
    for index in 0..<count {
        let (attributes, body) = make(index)
        client.publish(topic: topic, attributes: attributes, body: body) { result in
            results.withLock { $0[index] = result }
            done.add(1, ordering: .relaxed)
        }
    }
    waitUntil(timeout) { done.load(ordering: .relaxed) == count }
    return results.withLock { $0 }
}

// MARK: - Raw TLS client

/// A TLS client that speaks frames by hand (for bad input and protocol-level checks).
final class RawClient {
    let connection: BlockingConnection
    private var decoder = ServerFrameDecoder()
    private(set) var info: ServerInfo?

    init(port: Int, withClientCertificate: Bool = false) throws {
        let tls = try TLSContext.client(
            caFile: TestPaths.ca,
            certificateChainFile: withClientCertificate ? TestPaths.clientCert : nil,
            privateKeyFile: withClientCertificate ? TestPaths.clientKey : nil)
        connection = try BlockingConnection.connect(host: "127.0.0.1", port: port, tls: tls, timeout: .seconds(10))
    }

    func send(_ bytes: [UInt8]) throws { try connection.write(bytes) }
    func send(_ text: String) throws { try send(Array(text.utf8)) }
    func send(_ frame: ClientFrame) throws {
        var out: [UInt8] = []
        FrameEncoder.append(frame, to: &out)
        try send(out)
    }

    /// The next frame; nil when the server closed the connection. Throws on timeout.
    func next(timeout: Duration = .seconds(10)) throws -> ServerFrame? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let frame = try decoder.next() {
                if case .info(let info) = frame { self.info = info }
                return frame
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw NetError(.timeout, "no frame within \(timeout)") }
            let bytes = try connection.read(timeout: remaining)
            if bytes.isEmpty { return nil }
            decoder.append(bytes)
        }
    }

    /// Frames until one satisfies `match` (skipping PING/INFO and others); nil if closed first.
    func next(timeout: Duration = .seconds(10), where match: (ServerFrame) -> Bool) throws -> ServerFrame? {
        let deadline = ContinuousClock.now + timeout
        while true {
            guard let frame = try next(timeout: deadline - ContinuousClock.now) else { return nil }
            if match(frame) { return frame }
        }
    }

    /// Reads INFO, sends CONNECT, waits for CONNOK.
    func handshake(token: String? = nil, session: String? = nil) throws {
        guard case .info? = try next() else { throw NetError(.closed, "expected INFO") }
        try send(.connect(ConnectOptions(token: token, session: session)))
        guard case .connected? = try next() else { throw NetError(.closed, "expected CONNOK") }
    }

    /// Frames until the server closes or `timeout` passes (check `isClosed` for which).
    func readUntilClosed(timeout: Duration = .seconds(10)) -> [ServerFrame] {
        let deadline = ContinuousClock.now + timeout
        var frames: [ServerFrame] = []
        while true {
            // A timeout, or a close mid-frame: what came before still counts.
            guard let frame = try? next(timeout: deadline - ContinuousClock.now) else { return frames }
            frames.append(frame)
        }
    }

    /// Everything the server sends until it closes: the frames, and whether the byte stream
    /// ended on a frame boundary (no bytes of a cut-off frame left over). Throws on a malformed
    /// frame or when the server keeps the connection open past `timeout`.
    func readToEnd(timeout: Duration = .seconds(10)) throws -> (frames: [ServerFrame], endedOnFrameBoundary: Bool) {
        let deadline = ContinuousClock.now + timeout
        var frames: [ServerFrame] = []
        while let frame = try next(timeout: deadline - ContinuousClock.now) {
            frames.append(frame)
        }
        return (frames, decoder.bufferedByteCount == 0)
    }

    /// Stops reading from the server (the client's socket buffers fill, the server's output
    /// queues up) until `resumeReading()`.
    func pauseReading() { connection.pauseReading() }
    func resumeReading() { connection.resumeReading() }

    /// True once the connection is closed (by either side).
    var isClosed: Bool { connection.closeReason != nil }

    func close() { connection.close(timeout: .seconds(2)) }
}

extension ServerFrame {
    var errorFrame: ErrorFrame? {
        if case .error(let e) = self { return e }
        return nil
    }
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}
