// Shared helpers for the end-to-end integration suites: a real `Server` on an ephemeral loopback
// port with the dev certificates, blocking waits with deadlines, thread-safe collectors, a raw
// TLS client speaking frames by hand, and a plain TCP socket for bytes that are not TLS.
import Dispatch
import Foundation
import HeraldClient
import HeraldCore
import HeraldNet
import HeraldWire
import Synchronization
import Testing
@testable import HeraldServer

/// Every integration suite nests in this one, so they run one at a time (2 busy cores).
@Suite(.serialized) enum Integration {}

enum IntegrationPaths {
    /// The repository root, from this file's location (Tests/HeraldServerTests/…).
    static let repo: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let certs = repo + "/certs"
    static let ca = certs + "/dev-ca.pem"
    static let clientCert = certs + "/dev-client.pem"
    static let clientKey = certs + "/dev-client-key.pem"
}

/// A running server on 127.0.0.1:<ephemeral>; `stop()` closes the listener.
final class TestServer: Sendable {
    let server: Server
    let port: Int

    init(_ configure: (inout HeraldConfig) -> Void = { _ in }) throws {
        var config = HeraldConfig.defaults(
            certsDirectory: IntegrationPaths.certs, listen: ListenAddress(host: "127.0.0.1", port: 0))
        configure(&config)
        server = Server(config: config)
        try server.start()
        port = try #require(server.listenAddresses.first).port
    }

    static func baseConfig() -> HeraldConfig {
        HeraldConfig.defaults(certsDirectory: IntegrationPaths.certs, listen: ListenAddress(host: "127.0.0.1", port: 0))
    }

    func options(token: String? = nil, session: String? = nil, name: String? = nil, withClientCertificate: Bool = false) -> ClientOptions {
        ClientOptions(
            host: "127.0.0.1", port: port, caFile: IntegrationPaths.ca,
            certificateFile: withClientCertificate ? IntegrationPaths.clientCert : nil,
            privateKeyFile: withClientCertificate ? IntegrationPaths.clientKey : nil,
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

/// Connects retried because CONNOK was lost (the HeraldClient.connect race), over the whole run.

/// Waits (polling, with a deadline) until `condition` holds; true when it did.
@discardableResult
func waitUntil(_ timeout: Duration = .seconds(10), poll: Duration = .milliseconds(5), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: Double(poll.components.attoseconds) / 1e18 + Double(poll.components.seconds))
    }
    return condition()
}

/// A thread-safe list that handlers append to and tests wait on.
final class Collector<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var all: [Element] { items.withLock { $0 } }
    var count: Int { items.withLock { $0.count } }

    func waitForCount(_ n: Int, timeout: Duration = .seconds(10)) -> Bool {
        waitUntil(timeout) { count >= n }
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
            caFile: IntegrationPaths.ca,
            certificateChainFile: withClientCertificate ? IntegrationPaths.clientCert : nil,
            privateKeyFile: withClientCertificate ? IntegrationPaths.clientKey : nil)
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

// MARK: - Plain TCP socket (no TLS)

/// A blocking plain TCP socket to loopback, for bytes that are not a TLS handshake.
final class PlainSocket: @unchecked Sendable {
    let fd: Int32
    /// Closing twice could close a descriptor number the process reused meanwhile.
    private let closed = Atomic<Bool>(false)

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NetError(.socket, "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            Glibc.close(fd)
            throw NetError(.socket, "connect() failed: errno \(errno)")
        }
    }

    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Reads until EOF or reset (true) or until `timeout` passes with the socket still open (false).
    func waitForServerClose(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline - ContinuousClock.now
            let ms = Int32(max(1, min(1000, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)))
            let ready = poll(&poller, 1, ms)
            if ready <= 0 { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return true }
            if n < 0 { return errno != EAGAIN && errno != EINTR }
        }
        return false
    }

    func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Glibc.close(fd)
    }
}

/// Open file descriptors of this process (server and test clients share it).
func openFileDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}

/// Descriptors of this process that are TCP connections to or from `port` (listening sockets and
/// TIME_WAIT leftovers excluded). Unlike `openFileDescriptorCount`, suites running meanwhile in
/// this process (`swift test` in parallel) and dispatch's own descriptors do not change it; a dup'ed
/// descriptor of a connection still counts twice.
func connectionDescriptorCount(port: Int) -> Int {
    var inodes = Set<Substring>()
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        // Read to EOF: /proc files report size 0, so no size-based read.
        guard let data = FileHandle(forReadingAtPath: table)?.readDataToEndOfFile() else { continue }
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n").dropFirst() {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[3] != "0A", fields[9] != "0" else { continue }
            let ports = [fields[1], fields[2]].compactMap { $0.split(separator: ":").last.flatMap { Int($0, radix: 16) } }
            if ports.contains(port) { inodes.insert(fields[9]) }
        }
    }
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return fds.count { fd in
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + fd),
              target.hasPrefix("socket:["), target.hasSuffix("]") else { return false }
        return inodes.contains(target.dropFirst(8).dropLast())
    }
}

/// Resident set size of this process, in bytes.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}
