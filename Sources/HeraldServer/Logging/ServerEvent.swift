// ServerEvent: the operator-facing events of a running server (one log line each) and how a
// closed connection maps to one. Pure values; `ServerEventLog` writes them.
import HeraldCore
import HeraldNet
import Logging

/// One event worth a log line: its kind (the rate limiter's key and the `event` field of the
/// line), level, message and structured fields. Secrets (tokens, keys) never go into one.
public struct ServerEvent: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case started, stopping
        case reloaded = "reload"
        case reloadRejected = "reload_rejected"
        case handshakeFailed = "handshake_failed"
        case handshakeTimeout = "handshake_timeout"
        case protocolError = "protocol_error"
        case slowConsumer = "slow_consumer"
        case authFailed = "auth_failed"
        /// CONNECT refused for another reason than credentials (protocol version, session ownership).
        case connectRefused = "connect_refused"
        /// No CONNECT in time, or no traffic and no PONG within two heartbeats.
        case timeout
        case sessionTakenOver = "session_taken_over"
        case ioError = "io_error"
        /// An orderly close (debug level).
        case closed
    }

    public var kind: Kind
    public var level: Logger.Level
    public var message: String
    public var metadata: Logger.Metadata

    public init(_ kind: Kind, _ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata = [:]) {
        self.kind = kind
        self.level = level
        self.message = message
        self.metadata = metadata
    }
}

// MARK: - Lifecycle

extension ServerEvent {
    /// The one start-up line: every listener and what else is served.
    public static func started(version: String, listeners: [String], fields: Logger.Metadata) -> ServerEvent {
        var metadata = fields
        metadata["version"] = .string(version)
        metadata["listen"] = .string(listeners.joined(separator: ","))
        return ServerEvent(.started, .notice, "herald started", metadata)
    }

    public static func stopping(signal: String) -> ServerEvent {
        ServerEvent(.stopping, .notice, "herald stopping", ["signal": .string(signal)])
    }

    /// A configuration file applied; `notes` are changes that need a restart or that apply later.
    public static func reloaded(file: String, summary: String, notes: [String]) -> ServerEvent {
        var metadata: Logger.Metadata = ["file": .string(file), "summary": .string(summary)]
        if !notes.isEmpty { metadata["notes"] = .array(notes.map { .string($0) }) }
        return ServerEvent(.reloaded, .notice, "configuration reloaded", metadata)
    }

    /// A configuration file refused as a whole; the running configuration stays.
    public static func reloadRejected(file: String, problems: String) -> ServerEvent {
        ServerEvent(.reloadRejected, .error, "configuration reload rejected, keeping the running configuration",
                    ["file": .string(file), "reason": .string(problems)])
    }
}

// MARK: - Connections

extension ServerEvent {
    /// What ended a session before the connection closed: the last ERR the server sent.
    public struct HangUp: Sendable, Hashable {
        public var code: HeraldErrorCode
        public var message: String
        public init(code: HeraldErrorCode, message: String) {
            self.code = code
            self.message = message
        }
    }

    /// The event for a closed stream connection (an orderly close is a debug line). `hangUp` is the
    /// ERR the server ended the session with; `cause` what the counters recorded; `user` the
    /// authenticated principal, if any; `certificate` the client certificate's CN, if any.
    public static func connectionClosed(
        reason: CloseReason, cause: DisconnectCause, hangUp: HangUp?, peer: String, user: String?,
        certificate: String?, handshakeTimeout: Duration
    ) -> ServerEvent {
        var base: Logger.Metadata = ["peer": .string(peer)]
        if let user { base["user"] = .string(user) }
        let metadata = base
        func with(_ extra: Logger.Metadata) -> Logger.Metadata { metadata.merging(extra) { _, new in new } }
        // Credentials first: a refused CONNECT and a user removed by a reload both say so.
        if let hangUp, hangUp.code == .authenticationFailed {
            var extra: Logger.Metadata = ["reason": .string(hangUp.message)]
            if let certificate { extra["certificate"] = .string(certificate) }
            return ServerEvent(.authFailed, .warning, "authentication failed", with(extra))
        }
        switch reason {
        case .handshakeFailed(let text):
            return ServerEvent(.handshakeFailed, .warning, "TLS handshake failed", with(["reason": .string(text)]))
        case .handshakeTimeout:
            return ServerEvent(.handshakeTimeout, .warning, "TLS handshake timed out",
                               with(["reason": .string("no TLS handshake within \(handshakeTimeout)")]))
        default: break
        }
        let detail = hangUp?.message ?? reason.description
        switch cause {
        case .protocolError:
            var extra: Logger.Metadata = ["reason": .string(detail)]
            if let code = hangUp?.code { extra["code"] = .string(code.rawValue) }
            return ServerEvent(.protocolError, .warning, "protocol error, connection closed", with(extra))
        case .slowConsumer, .outputLimit:
            return ServerEvent(.slowConsumer, .warning, "slow consumer disconnected", with(["reason": .string(detail)]))
        case .connectRefused:
            var extra: Logger.Metadata = ["reason": .string(detail)]
            if let code = hangUp?.code { extra["code"] = .string(code.rawValue) }
            return ServerEvent(.connectRefused, .warning, "CONNECT refused", with(extra))
        case .timeout:
            return ServerEvent(.timeout, .info, "connection timed out", with(["reason": .string(detail)]))
        case .sessionTakenOver:
            return ServerEvent(.sessionTakenOver, .info, "session taken over by a newer connection", metadata)
        case .ioError:
            return ServerEvent(.ioError, .info, "connection error", with(["reason": .string(reason.description)]))
        case .handshakeFailed:
            return ServerEvent(.handshakeFailed, .warning, "TLS handshake failed", with(["reason": .string(reason.description)]))
        case .clientClosed, .closedByServer:
            return ServerEvent(.closed, .debug, "connection closed", with(["reason": .string(reason.description)]))
        }
    }
}
