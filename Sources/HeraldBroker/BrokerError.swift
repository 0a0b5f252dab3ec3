/// Every error the broker reports. `code` is stable and client-visible (error frames, admin API);
/// `message` is for humans and may change.
public enum BrokerError: Error, Sendable, Hashable {
    /// Publishing or subscribing to a topic that does not exist (and auto-create is off).
    case topicNotFound(topic: String)
    /// `sid` names no subscription of this session.
    case subscriptionNotFound(sid: String)
    /// A malformed or out-of-range argument: topic name, sid, credit, duplicate names, ….
    case invalidParameter(String)
    /// The session already holds `limit` subscriptions.
    case tooManySubscriptionsForSession(limit: Int)
    /// The topic already holds `limit` subscriptions.
    case tooManySubscriptionsForTopic(topic: String, limit: Int)
    /// The broker already holds `limit` subscriptions on all topics together.
    case tooManySubscriptions(limit: Int)
    /// Creating one more topic would exceed the configured maximum.
    case tooManyTopics(limit: Int)
    /// The session handle is stale: the session was detached, taken over by a newer connection, or
    /// disconnected as a slow consumer.
    case sessionClosed

    public var code: String {
        switch self {
        case .topicNotFound, .subscriptionNotFound: return "NotFound"
        case .invalidParameter: return "InvalidParameter"
        case .tooManySubscriptionsForSession: return "TooManySubscriptions"
        case .tooManySubscriptionsForTopic, .tooManySubscriptions: return "SubscriptionLimitExceeded"
        case .tooManyTopics: return "TopicLimitExceeded"
        case .sessionClosed: return "SessionClosed"
        }
    }

    public var message: String {
        switch self {
        case .topicNotFound(let topic): return "Topic does not exist: \(topic)"
        case .subscriptionNotFound(let sid): return "No subscription with sid \(sid)"
        case .invalidParameter(let text): return "Invalid parameter: \(text)"
        case .tooManySubscriptionsForSession(let limit):
            return "Too many subscriptions on this session (limit \(limit))"
        case .tooManySubscriptionsForTopic(let topic, let limit):
            return "Subscription limit exceeded: topic \(topic) already has \(limit) subscriptions (limits.maxSubscriptionsPerTopic)"
        case .tooManySubscriptions(let limit):
            return "Subscription limit exceeded: the server already has \(limit) subscriptions (limits.maxSubscriptions)"
        case .tooManyTopics(let limit): return "Topic limit exceeded: the server already has \(limit) topics"
        case .sessionClosed: return "The session is closed"
        }
    }
}
