/// `consumers:`: managed queue consumers, Herald's take on Lambda's SQS event-source mapping.
/// Herald receives from a declared queue and POSTs batches to an HTTP(S) endpoint in the shape of
/// Lambda's SQS event (docs/CONSUMERS.md). The server runs them; this module only parses.
extension HeraldConfig {
    public struct Consumer: Sendable, Hashable {
        /// Unique among consumers; defaults to the queue's name (a second consumer of the same
        /// queue needs a name of its own).
        public var name: String
        /// A queue declared under `queues:`.
        public var queue: String
        /// `http://` or `https://` URL; Basic credentials may ride in it (`user:pass@host`).
        /// Kept as written: the server parses it with HeraldWire's `HTTPURL`.
        public var endpoint: String
        /// Most messages in one POST: 1–10 000 (FIFO queues: 1–10, as Lambda's), default 10.
        public var batchSize: Int
        /// How long to keep collecting a batch after its first message: 0–300 s, default 0 (post
        /// what one pass of receives found).
        public var maxBatchingWindow: Duration
        /// Most batches in flight at once: 2–1000 (Lambda's range), default 5 (Lambda's starting
        /// pollers). Herald starts at one and scales up to this with backlog (docs/CONSUMERS.md).
        public var maxConcurrency: Int
        /// Honour `{"batchItemFailures":[{"itemIdentifier":…}]}` answers (Lambda's
        /// `ReportBatchItemFailures`): delete only the messages not named.
        public var reportBatchItemFailures: Bool
        /// Per POST, from connect to the whole response: 1 s–15 min (Lambda's timeout range), default 30 s.
        public var timeout: Duration

        public static let defaultBatchSize = 10
        public static let batchSizeRange = 1...10_000
        /// Lambda's limit for FIFO queues.
        public static let fifoBatchSizeRange = 1...10
        public static let maxBatchingWindowRange = Duration.zero...Duration.seconds(300)
        public static let defaultMaxConcurrency = 5
        public static let maxConcurrencyRange = 2...1_000
        public static let defaultTimeout = Duration.seconds(30)
        public static let timeoutRange = Duration.seconds(1)...Duration.seconds(900)

        public init(
            name: String? = nil, queue: String, endpoint: String, batchSize: Int = defaultBatchSize,
            maxBatchingWindow: Duration = .zero, maxConcurrency: Int = defaultMaxConcurrency,
            reportBatchItemFailures: Bool = false, timeout: Duration = defaultTimeout
        ) {
            self.name = name ?? queue
            self.queue = queue
            self.endpoint = endpoint
            self.batchSize = batchSize
            self.maxBatchingWindow = maxBatchingWindow
            self.maxConcurrency = maxConcurrency
            self.reportBatchItemFailures = reportBatchItemFailures
            self.timeout = timeout
        }
    }
}
