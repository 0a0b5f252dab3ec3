import FilterPolicy
import HeraldCore

/// The broker's whole configuration as a validated value: produced by `ConfigLoader` from a YAML
/// file or by `HeraldConfig.defaults(certsDirectory:)`, swapped as a unit on reload. Every path in
/// it is already resolved against the config file's folder.
public struct HeraldConfig: Sendable, Hashable {
    public var listeners: [Listener]
    public var limits: Limits
    public var timeouts: Timeouts
    public var sessions: Sessions
    public var auth: Auth
    /// Publishing or subscribing to an undeclared topic creates it (and config subscriptions may
    /// name undeclared topics). When false, only `topics` exist.
    public var autoCreateTopics: Bool
    public var topics: [Topic]
    public var subscriptions: [Subscription]
    /// Queues declared under `queues:` (SQS semantics), in file order.
    public var queues: [Queue] = []
    /// Where durable state (queue journals, the signing key) lives, resolved against the config
    /// file's folder; nil: the server's default (`./data`).
    public var dataDir: String?
    public var durability: Durability = Durability()
    /// The SNS signing key and certificate; nil: the server generates/loads its own in `dataDir`.
    public var signing: Signing?
    /// SNS `SignatureVersion` of signed envelopes: 1 (SHA1withRSA, SNS's default) or 2 (SHA256withRSA).
    public var signatureVersion: Int = 1
    /// The AWS-compatible HTTP API listener (`http:`); nil: none.
    public var http: HTTPAPI?
    /// The metrics and health listener (`admin:`, ConfigModel+Admin.swift); nil: none.
    public var admin: Admin?
    /// How HTTP/S subscriptions are delivered (`httpDelivery:`): trust, timeout, connections.
    public var httpDelivery = HTTPDelivery()
    /// Region and account in ARNs and queue URLs (`aws:`).
    public var aws = AWSIdentity()
    /// Managed queue consumers (`consumers:`), in file order.
    public var consumers: [Consumer] = []
    /// The file this came from (as named by the user); nil for the embedded default.
    public var sourceFile: String?

    public init(
        listeners: [Listener], limits: Limits = Limits(), timeouts: Timeouts = Timeouts(),
        sessions: Sessions = Sessions(), auth: Auth = Auth(), autoCreateTopics: Bool = false,
        topics: [Topic] = [], subscriptions: [Subscription] = [], sourceFile: String? = nil
    ) {
        self.listeners = listeners
        self.limits = limits
        self.timeouts = timeouts
        self.sessions = sessions
        self.auth = auth
        self.autoCreateTopics = autoCreateTopics
        self.topics = topics
        self.subscriptions = subscriptions
        self.sourceFile = sourceFile
    }
}

extension HeraldConfig {
    /// One TLS listening socket.
    public struct Listener: Sendable, Hashable {
        /// Name used in logs and metrics; defaults to the listen address text.
        public var name: String
        public var address: ListenAddress
        public var tls: TLS

        public init(name: String, address: ListenAddress, tls: TLS) {
            self.name = name
            self.address = address
            self.tls = tls
        }
    }

    /// Certificate files of a listener (PEM), as paths resolved against the config file's folder.
    public struct TLS: Sendable, Hashable {
        public var certificateFile: String
        public var privateKeyFile: String
        /// CA bundle that client certificates must chain to; required unless `clientAuth` is `.none`.
        public var clientCAFile: String?
        public var clientAuth: ClientAuth

        public init(certificateFile: String, privateKeyFile: String, clientCAFile: String? = nil, clientAuth: ClientAuth = .none) {
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
            self.clientCAFile = clientCAFile
            self.clientAuth = clientAuth
        }
    }

    /// Whether a listener asks for client certificates (mutual TLS).
    public enum ClientAuth: String, Sendable, Hashable, CaseIterable {
        /// No client certificate is requested.
        case none
        /// A certificate is requested; if one is sent it must verify against `clientCAFile`.
        case optional
        /// The handshake fails without a certificate that verifies against `clientCAFile`.
        case required
    }

    /// Bounds on what a client can make the broker hold. SNS's values are the defaults; each may be
    /// lowered, or raised up to `Limits.ceilings` (see docs/CONFIG.md).
    public struct Limits: Sendable, Hashable {
        public var message: MessageLimits
        public var filterPolicy: FilterPolicyLimits
        /// Subscriptions one stream connection may hold at once.
        public var maxSubscriptionsPerConnection: Int
        /// Subscriptions of every kind one topic may hold (SNS `SubscriptionLimitExceeded` past it).
        public var maxSubscriptionsPerTopic: Int = 100_000
        /// Subscriptions of every kind on all topics together (SNS `SubscriptionLimitExceeded`).
        public var maxSubscriptions: Int = 1_000_000
        /// Messages queued for one subscriber before the slow-consumer policy applies.
        public var maxPendingMessagesPerSubscriber: Int

        public init(
            message: MessageLimits = .sns, filterPolicy: FilterPolicyLimits = .sns,
            maxSubscriptionsPerConnection: Int = 10_000, maxPendingMessagesPerSubscriber: Int = 1_000
        ) {
            self.message = message
            self.filterPolicy = filterPolicy
            self.maxSubscriptionsPerConnection = maxSubscriptionsPerConnection
            self.maxPendingMessagesPerSubscriber = maxPendingMessagesPerSubscriber
        }
    }

    /// Connection timers. A zero `idle` disables the idle timeout.
    public struct Timeouts: Sendable, Hashable {
        /// TCP accept to finished TLS handshake plus the protocol's hello.
        public var handshake: Duration
        /// A connection that sends nothing (not even a heartbeat reply) for this long is closed.
        public var idle: Duration
        /// How often the server pings a quiet connection.
        public var heartbeat: Duration

        public init(handshake: Duration = .seconds(10), idle: Duration = .seconds(120), heartbeat: Duration = .seconds(30)) {
            self.handshake = handshake
            self.idle = idle
            self.heartbeat = heartbeat
        }
    }

    public struct Sessions: Sendable, Hashable {
        /// How long a disconnected client's session (subscriptions, unacked messages) is kept for it
        /// to resume; zero disables resumption.
        public var resumeWindow: Duration

        public init(resumeWindow: Duration = .seconds(60)) {
            self.resumeWindow = resumeWindow
        }
    }

    public struct Auth: Sendable, Hashable {
        /// Whether a client may connect without a token or client certificate.
        public var allowAnonymous: Bool
        /// What an anonymous client may do (only meaningful when `allowAnonymous`).
        public var anonymousPermissions: Permissions
        public var users: [User]

        public init(allowAnonymous: Bool = false, anonymousPermissions: Permissions = .all, users: [User] = []) {
            self.allowAnonymous = allowAnonymous
            self.anonymousPermissions = anonymousPermissions
            self.users = users
        }

        /// The user a bearer token identifies (tokens are unique by validation). Every user's
        /// token is compared, each without an early exit, so timing does not reveal how much of
        /// a guess was right.
        public func user(token: String) -> User? {
            let presented = Array(token.utf8)
            var found: User?
            for user in users {
                guard let expected = user.token else { continue }
                if Self.constantTimeEquals(Array(expected.utf8), presented) { found = user }
            }
            return found
        }

        static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
            guard a.count == b.count else { return false }
            var difference: UInt8 = 0
            for index in a.indices { difference |= a[index] ^ b[index] }
            return difference == 0
        }

        /// The user a verified client certificate's subject CN identifies.
        public func user(certificateCommonName name: String) -> User? {
            users.first { $0.certificateCommonName == name }
        }
    }

    /// A named client identity: a token, a certificate CN, or both.
    public struct User: Sendable, Hashable {
        public var name: String
        /// The bearer token, already read from `tokenEnv` when configured that way.
        public var token: String?
        /// The environment variable the token came from, if any (for messages; never the token).
        public var tokenEnvironmentVariable: String?
        /// Subject common name of a client certificate that identifies this user.
        public var certificateCommonName: String?
        public var permissions: Permissions
        /// AWS access keys this user signs HTTP API requests with (SigV4), secrets already read.
        public var accessKeys: [AccessKey] = []

        public init(name: String, token: String? = nil, tokenEnvironmentVariable: String? = nil, certificateCommonName: String? = nil, permissions: Permissions = .none) {
            self.name = name
            self.token = token
            self.tokenEnvironmentVariable = tokenEnvironmentVariable
            self.certificateCommonName = certificateCommonName
            self.permissions = permissions
        }
    }

    /// An AWS access key pair (`auth.users[].accessKeys`): the HTTP API verifies SigV4 signatures
    /// with `secret` and acts as the user.
    public struct AccessKey: Sendable, Hashable {
        public var id: String
        public var secret: String
        /// The environment variable the secret came from, if any (for messages; never the secret).
        public var secretEnvironmentVariable: String?

        public init(id: String, secret: String, secretEnvironmentVariable: String? = nil) {
            self.id = id
            self.secret = secret
            self.secretEnvironmentVariable = secretEnvironmentVariable
        }
    }

    public struct Topic: Sendable, Hashable {
        /// `[A-Za-z0-9_-]{1,256}`, or the same ending in `.fifo` (256 characters in all).
        public var name: String
        public var isFIFO: Bool { name.hasSuffix(".fifo") }
        /// Opt-in idempotency keys (standard topics only; FIFO topics dedupe by SNS's rules).
        public var deduplication: TopicDeduplication?
        /// SNS's `ContentBasedDeduplication` (FIFO topics only): a publish without a
        /// `MessageDeduplicationId` is deduplicated on the SHA-256 of its body.
        public var contentBasedDeduplication: Bool
        /// SNS's topic `DeliveryPolicy` (its `http` part): defaults for the topic's HTTP/S subscriptions.
        public var deliveryPolicy: HTTPTopicDeliveryPolicy?

        public init(
            name: String, deduplication: TopicDeduplication? = nil, contentBasedDeduplication: Bool = false,
            deliveryPolicy: HTTPTopicDeliveryPolicy? = nil
        ) {
            self.name = name
            self.deduplication = deduplication
            self.contentBasedDeduplication = contentBasedDeduplication
            self.deliveryPolicy = deliveryPolicy
        }
    }

    /// Where a subscription delivers: stream clients, a declared queue, or an HTTP/S endpoint.
    public enum SubscriptionProtocol: String, Sendable, Hashable, CaseIterable {
        /// Delivered to stream-protocol clients that attach to the subscription by name.
        case stream
        /// Delivered into the queue named by `Subscription.queue`.
        case sqs
        /// POSTed to `Subscription.endpoint` as SNS does (http:// and https:// URLs respectively).
        case http, https
    }

    /// A subscription declared in the config file.
    public struct Subscription: Sendable, Hashable {
        public var name: String
        public var topic: String
        public var `protocol`: SubscriptionProtocol
        /// nil: the subscription receives every message of its topic.
        public var filterPolicy: FilterPolicy?
        /// The policy's JSON text: the file's or inline string's text as written, or the JSON form of
        /// an inline YAML mapping. For display and for handing to clients.
        public var filterPolicyText: String?
        /// The resolved `filterPolicyFile`, when the policy came from a file.
        public var filterPolicyFile: String?
        /// Deliver the bare payload without an envelope (SNS `RawMessageDelivery`); kept for the
        /// queue and HTTP targets, stream deliveries always carry attributes.
        public var rawMessageDelivery: Bool
        /// The declared queue an `sqs` subscription delivers into (nil for `stream`).
        public var queue: String?
        /// How long a `stream` subscription keeps messages while no client is attached
        /// (nil for `sqs`: the queue's retention applies).
        public var retention: Duration?
        /// The URL an `http`/`https` subscription POSTs to (credentials in it become HTTP Basic).
        public var endpoint: String?
        /// SNS's subscription `DeliveryPolicy` (HTTP/S only), and its JSON text as given.
        public var deliveryPolicy: HTTPDeliveryPolicy?
        /// SNS's subscription `RedrivePolicy`: where messages go that could not be delivered.
        public var redrivePolicy: SubscriptionRedrivePolicy?
        /// An HTTP/S subscription waits for the endpoint to confirm it (SNS's handshake); false:
        /// declaring it in the file confirms it (the operator owns the endpoint).
        public var confirm: Bool = false

        public static let defaultStreamRetention = Duration.seconds(86_400)

        public init(
            name: String, topic: String, protocol: SubscriptionProtocol = .stream, filterPolicy: FilterPolicy? = nil,
            filterPolicyText: String? = nil, filterPolicyFile: String? = nil, rawMessageDelivery: Bool = false,
            queue: String? = nil, retention: Duration? = nil
        ) {
            self.queue = queue
            self.retention = retention ?? (`protocol` == .stream ? Self.defaultStreamRetention : nil)
            self.name = name
            self.topic = topic
            self.protocol = `protocol`
            self.filterPolicy = filterPolicy
            self.filterPolicyText = filterPolicyText
            self.filterPolicyFile = filterPolicyFile
            self.rawMessageDelivery = rawMessageDelivery
        }
    }
}

extension HeraldConfig {
    /// Declared topic by name.
    public func topic(named name: String) -> Topic? {
        topics.first { $0.name == name }
    }

    /// One line for `herald config check`: `ok: 1 listener, 3 topics, 2 queues, 6 subscriptions, 4 users`.
    public var summary: String {
        func count(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        return "ok: " + [
            count(listeners.count, "listener"), count(topics.count, "topic"), count(queues.count, "queue"),
            count(subscriptions.count, "subscription"), count(auth.users.count, "user"),
        ].joined(separator: ", ")
    }

    /// Config subscriptions of one topic, in file order.
    public func subscriptions(ofTopic name: String) -> [Subscription] {
        subscriptions.filter { $0.topic == name }
    }
}
