/// Limits a decoder enforces before it buffers a frame's sections. The server announces its values in
/// INFO; a client decoder uses generous defaults (it trusts its server more, but still bounds memory).
public struct WireLimits: Sendable, Hashable {
    /// Longest control line including its CRLF. INFO/CONNECT JSON must fit in it.
    public var maxControlLineBytes: Int = 4096
    /// Largest attributes section plus body of one PUB or MSG frame. The default leaves room above
    /// SNS's 256 KiB message size so a slightly-too-long message gets SNS's "Message too long" reply
    /// from validation rather than a fatal FrameTooLarge.
    public var maxPayloadBytes: Int = 262_144 + 65_536
    /// Largest attributes section of one PUB or MSG frame.
    public var maxAttributesBytes: Int = 65_536
    /// Largest filter policy of one SUB frame (SNS: 256 KiB).
    public var maxPolicyBytes: Int = 256 * 1024
    /// Largest JSON section of one QREQ frame (INFO `max_queue_request`): room for a SendMessageBatch
    /// at SQS's 1 MiB request size plus JSON escaping, so the server's SQS validation (not a fatal
    /// FrameTooLarge) reports a batch that is merely too long.
    public var maxQueueRequest: Int = 2_097_152
    /// Largest JSON section of one QRES frame a client accepts. Not announced: a client-side bound on
    /// memory (ten received 1 MiB messages with attributes, JSON-escaped, fit).
    public var maxQueueResponse: Int = 16 << 20

    public init() {}

    public init(
        maxControlLineBytes: Int = 4096, maxPayloadBytes: Int = 262_144 + 65_536, maxAttributesBytes: Int = 65_536, maxPolicyBytes: Int = 256 * 1024,
        maxQueueRequest: Int = 2_097_152, maxQueueResponse: Int = 16 << 20
    ) {
        self.maxControlLineBytes = maxControlLineBytes
        self.maxPayloadBytes = maxPayloadBytes
        self.maxAttributesBytes = maxAttributesBytes
        self.maxPolicyBytes = maxPolicyBytes
        self.maxQueueRequest = maxQueueRequest
        self.maxQueueResponse = maxQueueResponse
    }

    public static let `default` = WireLimits()
}

/// Protocol constants.
public enum HeraldProtocol {
    /// The protocol version this codec speaks; INFO and CONNECT carry it as `"proto"`.
    public static let version = 1
}
