import HeraldCore

/// What the SNS topic API needs of a topic beyond create/delete: whether the configuration
/// declares it (config wins: run-time attributes never apply to it) and the deduplication policy
/// of a run-time topic (SNS's `ContentBasedDeduplication`).
///
/// Contract: any thread; each call takes the registry lock once (lock order as in Broker.swift).
extension Broker {
    /// Whether the configuration declares `topic`; nil when the topic does not exist.
    public func isDeclaredTopic(_ topic: String) -> Bool? {
        registry.withLock { $0.topics[topic]?.declared }
    }

    /// The deduplication policy in force on `topic` (nil: none, or no such topic).
    public func deduplicationPolicy(topic: String) -> TopicDeduplicationPolicy? {
        registry.withLock { $0.topics[topic]?.deduplicator?.policy }
    }

    /// Sets the deduplication policy of a topic made at run time (`TopicNotFound` when it does not
    /// exist, `InvalidParameter` for a config-declared topic or a policy that cannot apply to it).
    /// The next route carries it; keys seen so far are forgotten when the policy changes.
    public func setDeduplication(topic: String, _ policy: TopicDeduplicationPolicy?) throws(BrokerError) {
        if let problem = policy?.problem(topic: topic) { throw .invalidParameter(problem) }
        if TopicName.isFIFO(topic) && policy == nil { throw .invalidParameter("Topic \(topic) is a FIFO topic: it always deduplicates") }
        try registry.withLock { (reg: inout Registry) throws(BrokerError) in
            guard let declared = reg.topics[topic]?.declared else { throw .topicNotFound(topic: topic) }
            guard !declared else { throw .invalidParameter("Topic \(topic) is declared in the configuration; change it there") }
            reg.topics[topic]?.setDeduplication(policy)  // in place: no entry copy
            publishRoute(topic, in: &reg)
        }
    }
}
