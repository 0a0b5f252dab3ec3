/// A subscription's `RedrivePolicy` attribute: where messages go that could not be delivered (a
/// client error at once, a server error once the retry policy ran out; spec §5.3).
///
/// Two spellings:
/// - SNS's `{"deadLetterTargetArn":"arn:aws:sqs:REGION:ACCOUNT:NAME"}` — `arn:<partition>:sqs:` with
///   a non-empty region and account; the account and region are kept so the caller can check they
///   are the subscription's own (SNS requires it).
/// - Herald's shorthand `{"deadLetterTarget":"NAME"}` for a queue of this server.
///
/// NAME must be an SQS queue name: 1–80 of `A-Za-z0-9_-`, a trailing `.fifo` included. Whether the
/// queue exists, and whether a FIFO subscription names a FIFO queue, the caller checks.
///
/// Texts: "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn" and
/// "Invalid parameter: RedrivePolicy: failed to parse JSON. …" are SNS's [VERIFIED]; the others
/// (no target, both spellings, a bad shorthand name, wrong types, "Unexpected JSON member") are
/// Herald's, in the same style. Pure; any thread.
public struct SubscriptionRedrivePolicy: Sendable, Hashable {
    /// The dead-letter queue's name.
    public var deadLetterQueue: String
    /// Region and account of the ARN; nil for the shorthand.
    public var region: String?
    public var account: String?

    public init(deadLetterQueue: String, region: String? = nil, account: String? = nil) {
        self.deadLetterQueue = deadLetterQueue
        self.region = region
        self.account = account
    }

    static let reader = PolicyDocumentReader(attribute: "RedrivePolicy")

    public static func parse(_ json: [UInt8]) throws(HeraldError) -> SubscriptionRedrivePolicy {
        try parse(reader.parse(json))
    }

    public static func parse(_ value: JSONValue) throws(HeraldError) -> SubscriptionRedrivePolicy {
        let reader = Self.reader
        let members = try reader.members(of: value, at: nil, allowed: ["deadLetterTargetArn", "deadLetterTarget"])
        let arn = try reader.string(members, "deadLetterTargetArn", path: nil)
        let name = try reader.string(members, "deadLetterTarget", path: nil)
        switch (arn, name) {
        case (let arn?, nil):
            guard let policy = fromARN(arn) else { throw reader.failure("deadLetterTargetArn is an invalid arn") }
            return policy
        case (nil, let name?):
            guard isQueueName(name) else { throw reader.failure("deadLetterTarget is an invalid queue name") }
            return SubscriptionRedrivePolicy(deadLetterQueue: name)
        case (.some, .some):
            throw reader.failure("specify either deadLetterTargetArn or deadLetterTarget, not both")
        case (nil, nil):
            throw reader.failure("deadLetterTargetArn must be specified")
        }
    }

    /// `arn:<partition>:sqs:<region>:<account>:<name>`, every part non-empty, the name a queue name.
    static func fromARN(_ arn: String) -> SubscriptionRedrivePolicy? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", !parts[1].isEmpty, parts[2] == "sqs",
              !parts[3].isEmpty, !parts[4].isEmpty, isQueueName(parts[5])
        else { return nil }
        return SubscriptionRedrivePolicy(deadLetterQueue: String(parts[5]), region: String(parts[3]), account: String(parts[4]))
    }

    /// SQS's queue-name rule: 1–80 characters of `A-Za-z0-9_-`, where a final `.fifo` may stand.
    static func isQueueName(_ name: some StringProtocol) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 80 else { return false }
        let stem = name.hasSuffix(".fifo") ? bytes.dropLast(5) : bytes[...]
        return !stem.isEmpty && stem.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}
