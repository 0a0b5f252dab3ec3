import HeraldCore

/// What `herald queue create` asks for, turned into CreateQueue attributes (SQS names, string
/// values) with SQS's ranges checked before anything is sent. Pure, so the CLI's rules are tested
/// here (the `herald` executable cannot be imported by tests). nil means "the server's default".
public struct QueueSettings: Sendable, Hashable {
    public var name: String
    /// Also implied by a name ending in `.fifo`.
    public var fifo: Bool
    public var visibilitySeconds: Int?
    /// Dead-letter queue: a queue name or an SQS ARN; needs `maxReceives`.
    public var deadLetterQueue: String?
    public var maxReceives: Int?
    public var retentionSeconds: Int?
    public var delaySeconds: Int?
    public var contentBasedDeduplication: Bool

    public init(
        name: String, fifo: Bool = false, visibilitySeconds: Int? = nil, deadLetterQueue: String? = nil, maxReceives: Int? = nil,
        retentionSeconds: Int? = nil, delaySeconds: Int? = nil, contentBasedDeduplication: Bool = false
    ) {
        self.name = name
        self.fifo = fifo
        self.visibilitySeconds = visibilitySeconds
        self.deadLetterQueue = deadLetterQueue
        self.maxReceives = maxReceives
        self.retentionSeconds = retentionSeconds
        self.delaySeconds = delaySeconds
        self.contentBasedDeduplication = contentBasedDeduplication
    }

    /// Herald's fixed region and account in ARNs (docs/PROTOCOL.md §"Queues").
    public static let arnPrefix = "arn:aws:sqs:us-east-1:000000000000:"

    /// `name` as an SQS ARN (an ARN is returned unchanged).
    public static func queueArn(_ name: String) -> String {
        name.hasPrefix("arn:") ? name : arnPrefix + name
    }

    /// The CreateQueue `Attributes`, or `ClientError` "InvalidParameterValue" naming the problem.
    public func attributes() throws(ClientError) -> [String: String] {
        let isFIFO = fifo || name.hasSuffix(".fifo")
        if fifo && !name.hasSuffix(".fifo") { throw Self.invalid("a FIFO queue's name must end in .fifo, got '\(name)'") }
        if contentBasedDeduplication && !isFIFO { throw Self.invalid("content-based deduplication is for FIFO queues only") }
        if (deadLetterQueue == nil) != (maxReceives == nil) {
            throw Self.invalid("a dead-letter queue and its maximum receive count go together")
        }
        var attributes: [String: String] = [:]
        if isFIFO { attributes["FifoQueue"] = "true" }
        if contentBasedDeduplication { attributes["ContentBasedDeduplication"] = "true" }
        if let visibilitySeconds {
            try Self.check(visibilitySeconds, in: 0...43_200, "visibility timeout (seconds)")
            attributes["VisibilityTimeout"] = String(visibilitySeconds)
        }
        if let retentionSeconds {
            try Self.check(retentionSeconds, in: 60...1_209_600, "retention period (seconds, 1 minute to 14 days)")
            attributes["MessageRetentionPeriod"] = String(retentionSeconds)
        }
        if let delaySeconds {
            try Self.check(delaySeconds, in: 0...900, "delay (seconds)")
            attributes["DelaySeconds"] = String(delaySeconds)
        }
        if let deadLetterQueue, let maxReceives {
            try Self.check(maxReceives, in: 1...1000, "maximum receive count")
            guard !deadLetterQueue.isEmpty else { throw Self.invalid("the dead-letter queue name is empty") }
            let policy = JSONValue.object([
                .init(key: "deadLetterTargetArn", value: .string(Self.queueArn(deadLetterQueue))),
                .init(key: "maxReceiveCount", value: .number(String(maxReceives))),
            ])
            attributes["RedrivePolicy"] = policy.text
        }
        return attributes
    }

    static func check(_ value: Int, in range: ClosedRange<Int>, _ what: String) throws(ClientError) {
        guard range.contains(value) else { throw invalid("\(what) must be in \(range.lowerBound)...\(range.upperBound), got \(value)") }
    }

    static func invalid(_ message: String) -> ClientError { ClientError(code: "InvalidParameterValue", message: message) }
}

/// Durations on the command line: plain seconds (`30`) or a number with one unit `s`, `m`, `h`, `d`
/// (`30s`, `5m`, `12h`, `4d`). No signs, fractions, spaces or mixed units.
public enum DurationText {
    /// The duration in seconds, or nil when `text` is not one of the forms above (or overflows).
    public static func seconds(_ text: String) -> Int? {
        var digits = Substring(text)
        var unit = 1
        if let last = text.last, !last.isASCII || !last.isNumber {
            switch last {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            default: return nil
            }
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(digits) else { return nil }
        let (total, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow ? nil : total
    }
}
