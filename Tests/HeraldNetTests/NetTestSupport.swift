// Shared fixtures for HeraldNet tests: dev certificate paths, recording handlers, raw sockets,
// and a polling wait.
import Dispatch
import Foundation
@testable import HeraldNet
import Synchronization

enum Certs {
    static let dir: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("certs").path
    }()
    static var ca: String { dir + "/dev-ca.pem" }
    static var serverCert: String { dir + "/dev-server.pem" }
    static var serverKey: String { dir + "/dev-server-key.pem" }
    static var clientCert: String { dir + "/dev-client.pem" }
    static var clientKey: String { dir + "/dev-client-key.pem" }

    static func server(clientCA: String? = nil, policy: TLSContext.ClientCertificatePolicy = .none) throws -> TLSContext {
        try TLSContext.server(certificateChainFile: serverCert, privateKeyFile: serverKey,
                              clientCAFile: clientCA, clientCertificates: policy)
    }

    static func client(withCertificate: Bool = false, ca: String? = nil) throws -> TLSContext {
        try TLSContext.client(caFile: ca ?? Certs.ca,
                              certificateChainFile: withCertificate ? clientCert : nil,
                              privateKeyFile: withCertificate ? clientKey : nil)
    }
}

/// Everything a test wants to know about a set of connections, behind one lock.
final class EventLog: Sendable {
    struct State {
        var opened = 0
        var bytes: [UInt8] = []
        var byteCount = 0
        var batches = 0
        var closes: [CloseReason] = []
        var peerNames: [String?] = []
        var tlsVersions: [String?] = []
        var limitReports = 0
        var maxPending = 0
        var backpressurePauses = 0
    }
    let state = Mutex(State())

    func read<T>(_ body: (State) -> T) -> T { state.withLock { body($0) } }
    var opened: Int { read { $0.opened } }
    var closes: [CloseReason] { read { $0.closes } }
    var byteCount: Int { read { $0.byteCount } }
}

/// A recording handler; optionally echoes what it reads (coalesced: flushed after the batch).
final class RecordingHandler: ConnectionHandler, @unchecked Sendable {
    let log: EventLog
    let echo: Bool
    let keepBytes: Bool
    var onOpen: ((Connection) -> Void)?

    init(log: EventLog, echo: Bool = false, keepBytes: Bool = true, onOpen: ((Connection) -> Void)? = nil) {
        self.log = log
        self.echo = echo
        self.keepBytes = keepBytes
        self.onOpen = onOpen
    }

    func connectionDidOpen(_ connection: Connection) {
        log.state.withLock {
            $0.opened += 1
            $0.peerNames.append(connection.peerCertificate?.commonName)
            $0.tlsVersions.append(connection.tlsVersion)
        }
        onOpen?(connection)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        log.state.withLock {
            $0.byteCount += bytes.count
            if keepBytes { $0.bytes.append(contentsOf: bytes) }
        }
        if echo { connection.write(bytes) }
    }

    func connectionDidFinishReadBatch(_ connection: Connection) {
        let pending = connection.pendingOutputBytes
        log.state.withLock {
            $0.batches += 1
            $0.maxPending = max($0.maxPending, pending)
            $0.backpressurePauses = max($0.backpressurePauses, connection.backpressurePauseCount)
        }
    }

    func connectionDidExceedOutputLimit(_ connection: Connection) {
        let pending = connection.pendingOutputBytes
        log.state.withLock {
            $0.limitReports += 1
            $0.maxPending = max($0.maxPending, pending)
        }
        connection.close(.outputLimitExceeded(pendingBytes: pending))
    }

    func connectionDidClose(_ connection: Connection, reason: CloseReason) {
        log.state.withLock { $0.closes.append(reason) }
    }
}

/// Polls `condition` until true or the timeout passes.
func eventually(_ timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

/// A blocking plain TCP socket for misbehaving-peer tests.
final class RawSocket {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else { throw NetError(.socket, "raw connect failed") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { Glibc.close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until EOF/reset (true) or the 5 s receive timeout (false).
    func readsUntilClosed() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n > 0 { continue }
            if n == 0 { return true }
            return errno == ECONNRESET
        }
    }
}

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

extension Listener {
    /// A TLS echo server on an ephemeral loopback port.
    static func echo(tls: TLSContext?, log: EventLog, host: String = "127.0.0.1",
                     options: ConnectionOptions = ConnectionOptions(), maxConnections: Int = 10_000,
                     keepBytes: Bool = true) throws -> Listener {
        try Listener(host: host, port: 0, tls: tls, options: options, maxConnections: maxConnections) { _ in
            RecordingHandler(log: log, echo: true, keepBytes: keepBytes)
        }
    }
}
