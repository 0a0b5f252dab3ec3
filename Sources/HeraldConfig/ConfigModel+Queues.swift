/// The parts of `HeraldConfig` for queues and durability: declared queues (SQS semantics),
/// where data lives and how often it is synced, topic idempotency keys, and the SNS signing key.
/// HeraldConfig cannot import HeraldStore or HeraldNet: the server maps these values onto them.
extension HeraldConfig {
    /// A queue declared under `queues:`. Durations are whole seconds, as SQS's attributes.
    public struct Queue: Sendable, Hashable {
        /// 1–80 characters of `A-Za-z0-9-_`, a FIFO queue's ending in `.fifo` (counted in the 80).
        public var name: String
        public var isFIFO: Bool
        /// SQS `VisibilityTimeout`: 0–43200 s, default 30.
        public var visibilityTimeoutSeconds: Int
        /// SQS `MessageRetentionPeriod`: 60–1209600 s, default 345600 (4 days).
        public var retentionSeconds: Int
        /// SQS `DelaySeconds`: 0–900, default 0.
        public var delaySeconds: Int
        /// SQS `ReceiveMessageWaitTimeSeconds`: 0–20, default 0.
        public var receiveWaitTimeSeconds: Int
        /// SQS `MaximumMessageSize`: 1024–1048576 bytes, default 1048576.
        public var maxMessageSize: Int
        /// SQS `ContentBasedDeduplication` (FIFO queues only).
        public var contentBasedDeduplication: Bool
        public var deadLetter: DeadLetter?

        public static let defaultVisibilityTimeoutSeconds = 30
        public static let defaultRetentionSeconds = 345_600
        public static let defaultMaxMessageSize = 1_048_576

        public init(
            name: String, isFIFO: Bool? = nil, visibilityTimeoutSeconds: Int = defaultVisibilityTimeoutSeconds,
            retentionSeconds: Int = defaultRetentionSeconds, delaySeconds: Int = 0, receiveWaitTimeSeconds: Int = 0,
            maxMessageSize: Int = defaultMaxMessageSize, contentBasedDeduplication: Bool = false, deadLetter: DeadLetter? = nil
        ) {
            self.name = name
            self.isFIFO = isFIFO ?? name.hasSuffix(".fifo")
            self.visibilityTimeoutSeconds = visibilityTimeoutSeconds
            self.retentionSeconds = retentionSeconds
            self.delaySeconds = delaySeconds
            self.receiveWaitTimeSeconds = receiveWaitTimeSeconds
            self.maxMessageSize = maxMessageSize
            self.contentBasedDeduplication = contentBasedDeduplication
            self.deadLetter = deadLetter
        }
    }

    /// SQS `RedrivePolicy`: after `maxReceiveCount` receives a message moves to `queue`.
    public struct DeadLetter: Sendable, Hashable {
        /// A queue declared in the same file, of the same type (FIFO or standard).
        public var queue: String
        /// 1–1000.
        public var maxReceiveCount: Int

        public init(queue: String, maxReceiveCount: Int) {
            self.queue = queue
            self.maxReceiveCount = maxReceiveCount
        }
    }

    /// When the queue journal is synced to disk.
    public enum FsyncSetting: Sendable, Hashable {
        /// Before a publish is confirmed (no acknowledged message is lost on power failure).
        case always
        /// Left to the operating system (a crash of the machine can lose recent messages).
        case never
        /// At most this long after a write (what is lost on power failure is bounded by it).
        case interval(Duration)

        public static let defaultInterval = Duration.seconds(1)
    }

    public struct Durability: Sendable, Hashable {
        public var fsync: FsyncSetting

        public init(fsync: FsyncSetting = .always) {
            self.fsync = fsync
        }
    }

    /// Opt-in idempotency keys on a standard topic: a publish whose key was seen within `window`
    /// is confirmed with the first message's id and not delivered again.
    public struct TopicDeduplication: Sendable, Hashable {
        public enum Key: Sendable, Hashable {
            /// The value of this message attribute (messages without it are not deduplicated).
            case attribute(String)
            /// The SHA-256 of the message body.
            case body
        }

        public var window: Duration
        public var key: Key

        public static let defaultWindow = Duration.seconds(300)
        public static let maxWindow = Duration.seconds(3_600)

        public init(window: Duration = defaultWindow, key: Key) {
            self.window = window
            self.key = key
        }
    }

    /// The key and certificate the server signs SNS envelopes with (PEM files, resolved paths).
    public struct Signing: Sendable, Hashable {
        public var keyFile: String
        public var certificateFile: String

        public init(keyFile: String, certificateFile: String) {
            self.keyFile = keyFile
            self.certificateFile = certificateFile
        }
    }

    /// Declared queue by name.
    public func queue(named name: String) -> Queue? {
        queues.first { $0.name == name }
    }
}
