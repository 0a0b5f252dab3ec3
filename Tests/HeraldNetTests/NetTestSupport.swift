// Shared fixtures for HeraldNet tests: recording handlers and an echo listener (paths, waiting and
// raw sockets are in HeraldTestSupport).
import Dispatch
import Foundation
@testable import HeraldNet
import Synchronization

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
