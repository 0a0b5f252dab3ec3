import FilterPolicy
import HeraldCore

/// Implemented by a stream session (one per connection). The broker calls it on whatever thread
/// triggered the push (a publisher's, or the session's own for `ack`/`addCredit`/`subscribe`),
/// while holding that session's lock, so calls for one session never overlap and arrive in
/// delivery-tag order. Both methods must return quickly (hop to the connection's queue) and must
/// NOT call the broker synchronously (that would deadlock on the session lock).
public protocol StreamSink: AnyObject, Sendable {
    /// Deliveries for this session from one publish batch (or one credit/ack/resume event), in
    /// order, possibly for several of its subscriptions (see `StreamDelivery.sid`).
    func deliver(_ deliveries: [StreamDelivery])
    /// `deliver(_:)` when `soleHolder`: the publish reached no other target, so once the sink is
    /// done these deliveries hold their messages' last references (the sink may choose the thread
    /// that frees them). Defaults to `deliver(_:)`.
    func deliver(_ deliveries: [StreamDelivery], soleHolder: Bool)
    /// The broker ended the session (slow consumer, taken over by a newer connection). The broker
    /// has already released the session's subscriptions as the reason describes; the session
    /// should send an error frame with `reason.code` and close. Called without broker locks held.
    func disconnect(reason: DisconnectReason)
    /// True while output handed to this sink is piling up unsent (a subscriber with ample credit
    /// whose socket does not keep up): publishers pace on it as on a queue backlog, instead of
    /// filling the connection's buffer until its hard limit cuts the subscriber off. Read under the
    /// session lock, so it must be a plain atomic read. The sink calls `Broker.sinkDrained` once
    /// it is false again.
    var isBackedUp: Bool { get }
}

extension StreamSink {
    public func deliver(_ deliveries: [StreamDelivery], soleHolder: Bool) { deliver(deliveries) }

    /// Sinks that write nowhere slow (tests, in-process) never back up.
    public var isBackedUp: Bool { false }
}

/// One message pushed to one stream subscription. `message` is the publish's single shared value:
/// its body buffer is the same storage for every subscriber.
public struct StreamDelivery: Sendable {
    /// The client's id of the subscription (the wire's sid).
    public var sid: UInt64
    /// Monotonic per subscription, never reused (also across a resume). Ack mode acks by it.
    public var deliveryTag: UInt64
    /// True when the message was delivered before (unacked when its session detached).
    public var redelivered: Bool
    public var message: Message

    public init(sid: UInt64, deliveryTag: UInt64, redelivered: Bool, message: Message) {
        self.sid = sid
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.message = message
    }
}

/// Why the broker ended a session.
public enum DisconnectReason: Sendable, Hashable {
    /// A subscription's pending queue exceeded its bound: every subscription of the session was
    /// dropped (ack mode too: nothing is kept for a resume) and its memory released.
    case slowConsumer
    /// Another connection of the same identity attached with the same session id; this
    /// connection's ack-mode subscriptions were detached for the newcomer, its auto-ack ones dropped.
    case sessionTakenOver

    public var code: HeraldErrorCode {
        switch self {
        case .slowConsumer: return .slowConsumer
        case .sessionTakenOver: return .sessionTakenOver
        }
    }
}

/// How a stream subscription confirms deliveries.
public enum AckMode: Sendable, Hashable {
    /// At-most-once: a delivery is done once handed to the sink. Credit is a window the client
    /// replenishes with CREDIT (`addCredit`) as it processes.
    case auto
    /// At-least-once: deliveries stay in flight until acked; an ack returns their credit (credit
    /// acts as max-in-flight). Unacked messages survive a disconnect for the resume window.
    case explicit
}

/// A session id: chosen by an authenticated client, or issued by the broker (`random()`).
/// Reconnecting with the same id (as the same identity) resumes detached subscriptions.
public struct SessionID: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    public init(_ text: String) { self.text = text }
    public var description: String { text }

    /// A fresh, unguessable id: 128 bits from the system's cryptographically secure generator
    /// (`SystemRandomNumberGenerator`: getrandom(2) on Linux, arc4random_buf on Darwin), written as
    /// 32 lower-case hex digits.
    public static func random() -> SessionID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    /// `random()` from `generator`; only a cryptographically secure generator makes the id
    /// unguessable.
    static func random<G: RandomNumberGenerator>(using generator: inout G) -> SessionID {
        let words = [generator.next() as UInt64, generator.next() as UInt64]
        var text = ""
        text.reserveCapacity(32)
        for word in words {
            let hex = String(word, radix: 16)
            text += String(repeating: "0", count: 16 - hex.utf8.count) + hex
        }
        return SessionID(text)
    }
}

/// The identity a stream session belongs to: the one that created it. Only the same identity may
/// resume the session or take it over (`Broker.attachSession`).
public enum SessionOwner: Sendable, Hashable, CustomStringConvertible {
    /// A client without credentials. Anonymous clients cannot name session ids of their own: they
    /// are given a broker-issued one, and may resume only such a session while it is retained.
    case anonymous
    /// An authenticated identity, by name (the server's user, however it signed in: token or
    /// client certificate).
    case user(String)

    public var description: String {
        switch self {
        case .anonymous: return "anonymous"
        case .user(let name): return "user \(name)"
        }
    }
}

/// A connection's claim on a session, returned by `Broker.attachSession`. Every session call takes
/// it; once the session is detached, taken over or disconnected, calls answer `sessionClosed`.
public struct StreamSessionHandle: Sendable {
    public let id: SessionID
    /// True when the attach found the session alive: attached to another connection (taken over)
    /// or holding detached subscriptions for a resume. False for a new session, and for one whose
    /// subscriptions had all expired.
    public let resumed: Bool
    let core: StreamSessionCore
    let epoch: UInt64
}

/// What `Broker.subscribe` did.
/// One subscribe of a batch (`Broker.subscribe(_:_:)`); see `Broker.subscribe(_:sid:…)`.
public struct SubscribeRequest: Sendable {
    public var sid: UInt64
    public var topic: String
    public var policy: FilterPolicy?
    public var ackMode: AckMode
    public var credit: Int
    /// The configuration subscription this one attaches to by name (its policy follows reloads).
    public var tag: String?

    public init(sid: UInt64, topic: String, policy: FilterPolicy?, ackMode: AckMode, credit: Int, tag: String? = nil) {
        self.sid = sid
        self.topic = topic
        self.policy = policy
        self.ackMode = ackMode
        self.credit = credit
        self.tag = tag
    }
}

public enum SubscribeOutcome: Sendable, Hashable {
    /// A new subscription.
    case created
    /// A detached subscription with the same sid, topic, policy and ack mode was taken back:
    /// `redelivered` unacked messages are re-sent first (flagged), then `pending` queued ones;
    /// whatever credit does not cover stays queued.
    case resumed(redelivered: Int, pending: Int)
}

/// A stream subscription's state, for the admin API and tests.
public struct StreamSubscriptionInfo: Sendable, Hashable {
    public var sid: UInt64
    public var topic: String
    public var policy: FilterPolicy?
    public var ackMode: AckMode
    public var credit: Int
    public var inFlight: Int
    public var pending: Int
    public var pendingBytes: Int
    /// Set while detached: the `now` value after which it expires.
    public var detachedUntil: UInt64?
}
