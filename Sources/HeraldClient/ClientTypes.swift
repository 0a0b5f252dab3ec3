import HeraldCore
import HeraldWire

/// Where and how to connect.
public struct ClientOptions: Sendable {
    public var host: String
    public var port: Int
    /// CA bundle that signs the server certificate (nil: the system default paths).
    public var caFile: String?
    /// Client certificate and key for mutual TLS.
    public var certificateFile: String?
    public var privateKeyFile: String?
    /// Name checked against the server certificate and sent as SNI (default: `host`).
    public var serverName: String?
    public var token: String?
    /// Resume this session (unacked messages are redelivered when subscribing again with the same sid).
    /// Only the identity that created it may; an anonymous client only an id the server issued it
    /// (`HeraldClient.session` after a connect without one). Nil: the server issues a new id.
    public var session: String?
    public var clientName: String?
    public var connectTimeout: Duration

    public init(
        host: String = "127.0.0.1", port: Int = 4433, caFile: String? = nil,
        certificateFile: String? = nil, privateKeyFile: String? = nil, serverName: String? = nil,
        token: String? = nil, session: String? = nil, clientName: String? = nil,
        connectTimeout: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.serverName = serverName
        self.token = token
        self.session = session
        self.clientName = clientName
        self.connectTimeout = connectTimeout
    }
}

/// A message delivered to one of this client's subscriptions.
public struct ClientDelivery: Sendable {
    public var sid: UInt64
    public var deliveryTag: UInt64
    public var topic: String
    public var messageID: MessageID
    public var attributes: MessageAttributes
    public var body: [UInt8]
    public var redelivered: Bool
    public var groupID: String?
}

/// How a subscription confirms deliveries.
public enum ClientAckMode: Sendable {
    /// At-most-once: the server forgets a message once sent; the client returns credit as it
    /// processes messages.
    case auto
    /// At-least-once, acked by the client library right after the handler returns.
    case afterHandler
    /// At-least-once, acked by the application with `HeraldClient.ack(sid:tag:)`.
    case manual

    var wire: AckMode { self == .auto ? .auto : .ack }
}

/// A failure the client reports: the server's error frame (code and text), or a transport failure.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    init(_ frame: ErrorFrame) { self.init(code: frame.code.rawValue, message: frame.message) }

    public var description: String { "\(code): \(message)" }
}
