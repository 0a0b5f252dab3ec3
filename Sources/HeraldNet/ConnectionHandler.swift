// The owner-facing vocabulary of a Connection: the handler protocol (all callbacks run on the
// connection's serial queue), the reasons a connection closes, per-connection options, and the peer
// certificate summary captured after the TLS handshake.

/// Receives a connection's events. Every method is called on `connection.queue`, never concurrently,
/// and never after `connectionDidClose`. The connection holds its handler strongly until it has
/// delivered `connectionDidClose`, then drops it.
public protocol ConnectionHandler: AnyObject {
    /// The TLS handshake finished (or, for plain TCP, the socket is connected/accepted).
    /// `peerCertificate`, `tlsVersion`, `remoteAddress` are readable from here on.
    func connectionDidOpen(_ connection: Connection)
    /// One decrypted chunk. `bytes` is valid only during the call (it is a shared loop buffer):
    /// copy or parse it before returning. Several chunks can arrive per read event.
    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer)
    /// All chunks of one read event were delivered. Writes made during the batch are flushed
    /// (coalesced into as few SSL_write calls as possible) right after this returns.
    func connectionDidFinishReadBatch(_ connection: Connection)
    /// No bytes were read for `options.idleTimeout`; called again every idle period while it lasts.
    /// Default: `close(.idleTimeout)`. An owner doing heartbeats sends a PING here instead.
    func connectionDidBecomeIdle(_ connection: Connection, idleFor: Duration)
    /// A `write` was refused because pending output would pass `options.outputHardLimit` (the peer
    /// does not read). Called once per connection, asynchronously after the refused write.
    /// Default: `close(.outputLimitExceeded(pendingBytes:))`.
    func connectionDidExceedOutputLimit(_ connection: Connection)
    /// Pending output fell back to `options.outputLowWaterMark` after it had passed the high-water
    /// mark (`isWritable` turned true again). Default: nothing.
    func connectionDidBecomeWritable(_ connection: Connection)
    /// The connection is closed: sockets and TLS state are released. Called exactly once, including
    /// for connections that never opened (connect/handshake failures, timeouts).
    func connectionDidClose(_ connection: Connection, reason: CloseReason)
}

extension ConnectionHandler {
    public func connectionDidOpen(_ connection: Connection) {}
    public func connectionDidFinishReadBatch(_ connection: Connection) {}
    public func connectionDidBecomeIdle(_ connection: Connection, idleFor: Duration) {
        connection.close(.idleTimeout)
    }
    public func connectionDidExceedOutputLimit(_ connection: Connection) {
        connection.close(.outputLimitExceeded(pendingBytes: connection.pendingOutputBytes))
    }
    public func connectionDidBecomeWritable(_ connection: Connection) {}
}

/// Why a connection closed.
public enum CloseReason: Sendable, Hashable, CustomStringConvertible {
    /// `close()` without a reason.
    case closedByOwner
    /// The peer closed (TLS close_notify or TCP EOF).
    case peerClosed
    /// The owner detected a protocol violation (its text).
    case protocolError(String)
    /// TLS handshake failed; OpenSSL's reason (e.g. "certificate verify failed", "wrong version number").
    case handshakeFailed(String)
    /// The TLS handshake did not finish within `options.handshakeTimeout`.
    case handshakeTimeout
    /// Client side: TCP connect failed or timed out.
    case connectFailed(String)
    /// No bytes read for `options.idleTimeout` (the default idle policy).
    case idleTimeout
    /// The peer did not read and pending output reached the hard limit.
    case outputLimitExceeded(pendingBytes: Int)
    /// A socket or TLS error after the handshake (reset, decrypt error...).
    case ioError(String)
    /// The accept callback returned no handler.
    case rejected

    /// True for reasons other than an orderly close by either side.
    public var isError: Bool {
        switch self {
        case .closedByOwner, .peerClosed, .idleTimeout: return false
        default: return true
        }
    }

    public var description: String {
        switch self {
        case .closedByOwner: return "closed"
        case .peerClosed: return "peer closed the connection"
        case .protocolError(let text): return "protocol error: \(text)"
        case .handshakeFailed(let text): return "TLS handshake failed: \(text)"
        case .handshakeTimeout: return "TLS handshake timed out"
        case .connectFailed(let text): return "connect failed: \(text)"
        case .idleTimeout: return "idle timeout"
        case .outputLimitExceeded(let bytes): return "peer too slow: \(bytes) bytes of output pending"
        case .ioError(let text): return "I/O error: \(text)"
        case .rejected: return "connection rejected"
        }
    }
}

/// Per-connection limits and timeouts.
public struct ConnectionOptions: Sendable, Hashable {
    /// TCP connect (client) plus TLS handshake must finish within this.
    public var handshakeTimeout: Duration = .seconds(10)
    /// Nil: no idle detection. Otherwise `connectionDidBecomeIdle` after this long without input.
    public var idleTimeout: Duration? = nil
    /// Above this many pending output bytes the connection stops reading its peer (if
    /// `pauseReadingAboveHighWater`) and `isWritable` is false.
    public var outputHighWaterMark: Int = 1 << 20
    /// Reading resumes and `connectionDidBecomeWritable` fires once output drains to this.
    public var outputLowWaterMark: Int = 256 << 10
    /// Writes that would take pending output above this are refused and reported.
    public var outputHardLimit: Int = 8 << 20
    /// Stop reading the peer while our own output to it is above the high-water mark. Nil (default)
    /// means yes for accepted (server) connections and no for clients: if both ends paused, a
    /// pipelining client and its server could each wait for the other to read (deadlock).
    public var pauseReadingAboveHighWater: Bool? = nil

    public init() {}
}

/// The verified peer certificate, when the peer sent one.
public struct PeerCertificate: Sendable, Hashable {
    /// RFC 2253 subject, e.g. "CN=dev-client,O=Herald DEV ONLY".
    public let subject: String
    /// The subject's common name, if any.
    public let commonName: String?
}
