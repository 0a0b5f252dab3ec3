import HeraldCore

/// A queue's settable attributes, SQS's names and units (seconds unless said). `QueueCore` reads
/// them; the manager keeps read-only ones (QueueArn, counts, timestamps) itself. Parsing from and
/// writing to SQS's string map is in QueueAttributes+SQS.swift.
public struct QueueAttributes: Sendable, Hashable {
    public static let visibilityTimeoutRange = 0...43_200
    public static let messageRetentionPeriodRange = 60...1_209_600
    public static let delaySecondsRange = 0...900
    public static let receiveMessageWaitTimeSecondsRange = 0...20
    public static let maximumMessageSizeRange = 1024...1_048_576
    public static let maxReceiveCountRange = 1...1000

    public var visibilityTimeout: Int = 30
    public var messageRetentionPeriod: Int = 345_600
    public var delaySeconds: Int = 0
    public var receiveMessageWaitTimeSeconds: Int = 0
    /// Bytes.
    public var maximumMessageSize: Int = 1_048_576
    public var redrivePolicy: RedrivePolicy?
    /// Fixed at creation (the name ends in `.fifo`).
    public let fifo: Bool
    public var contentBasedDeduplication: Bool = false
    /// Attributes SQS accepts that Herald stores and echoes without acting on them (Policy,
    /// RedriveAllowPolicy, Kms*, SqsManagedSseEnabled, DeduplicationScope, FifoThroughputLimit).
    /// DeduplicationScope is always `queue` in effect.
    public var passthrough: [String: String]

    /// SQS's defaults for a new queue.
    public init(fifo: Bool) {
        self.fifo = fifo
        passthrough = fifo
            ? ["SqsManagedSseEnabled": "true", "DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue"]
            : ["SqsManagedSseEnabled": "true"]
    }
}

/// Where a queue's messages go after `maxReceiveCount` receives.
public struct RedrivePolicy: Sendable, Hashable {
    /// The dead-letter queue's name (the ARN's last field).
    public var deadLetterTargetQueue: String
    /// The ARN as given, echoed by GetQueueAttributes.
    public var deadLetterTargetArn: String
    public var maxReceiveCount: Int

    public init(deadLetterTargetQueue: String, deadLetterTargetArn: String, maxReceiveCount: Int) {
        self.deadLetterTargetQueue = deadLetterTargetQueue
        self.deadLetterTargetArn = deadLetterTargetArn
        self.maxReceiveCount = maxReceiveCount
    }
}
