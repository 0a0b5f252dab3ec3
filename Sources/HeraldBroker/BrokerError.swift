import HeraldCore

/// Every error the broker reports. `code` is stable and client-visible (error frames, admin API);
/// `message` is for humans and may change.
public enum BrokerError: Error, Sendable, Hashable {
    /// Publishing or subscribing to a topic that does not exist (and auto-create is off).
    case topicNotFound(topic: String)
    /// `sid` names no subscription of this session.
    case subscriptionNotFound(sid: UInt64)
    /// A malformed or out-of-range argument: topic name, session id, credit, duplicate names, ….
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
    /// `sid` already names an attached subscription of this session.
    case duplicateSubscription(sid: UInt64)
    /// The session exists and belongs to another identity: it may not be resumed or taken over.
    case sessionOwnedByAnotherIdentity(session: String)
    /// An anonymous client named a session that is not a retained, broker-issued anonymous session
    /// (anonymous clients cannot choose session ids).
    case sessionNotIssued(session: String)
    /// A delivery target refused the message (its receipt failed); the target's error.
    case deliveryFailed(HeraldError)

    /// The catalog code a client sees (docs/PROTOCOL.md §7.1).
    public var code: HeraldErrorCode {
        switch self {
        case .topicNotFound, .subscriptionNotFound: return .notFound
        case .invalidParameter: return .invalidParameter
        case .tooManySubscriptionsForSession: return .tooManySubscriptions
        case .tooManySubscriptionsForTopic, .tooManySubscriptions: return .subscriptionLimitExceeded
        case .tooManyTopics: return .topicLimitExceeded
        case .sessionClosed: return .sessionClosed
        case .duplicateSubscription: return .duplicateSubscription
        case .sessionOwnedByAnotherIdentity, .sessionNotIssued: return .notAuthorized
        case .deliveryFailed(let error): return error.code
        }
    }

    /// The client-visible error: catalog code and message.
    public var heraldError: HeraldError { HeraldError(code, message) }

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
        case .duplicateSubscription(let sid):
            return "sid \(sid) is already subscribed on this connection; UNSUB it first or use another sid"
        case .sessionOwnedByAnotherIdentity(let session):
            return "session \(session) belongs to another identity; connect without \"session\" to get a new one, or name a session of your own"
        case .sessionNotIssued(let session):
            return "anonymous clients may only resume a session id the server issued them (in CONNOK), while the server retains that session; \(session) is not one: connect without \"session\" to get a new one"
        case .deliveryFailed(let error): return error.message
        }
    }
}
