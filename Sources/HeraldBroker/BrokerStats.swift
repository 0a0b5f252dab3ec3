import Synchronization

/// Counters since start, for the metrics endpoint.
public struct BrokerStats: Sendable, Hashable {
    /// Messages accepted by `publish`.
    public var published: UInt64
    /// Publish requests refused (unknown topic, bad topic name, topic limit).
    public var publishRejected: UInt64
    /// Publishes confirmed as duplicates (FIFO deduplication id or idempotency key seen within the
    /// topic's window) and delivered nowhere; not counted in `published`.
    public var publishDeduplicated: UInt64
    /// Deliveries handed to stream sinks (redeliveries included).
    public var streamDeliveries: UInt64
    /// Messages handed to configured endpoints.
    public var endpointDeliveries: UInt64
    /// Sessions disconnected because a subscription's pending queue overflowed.
    public var slowConsumerDisconnects: UInt64
    /// Detached subscriptions dropped because their pending queue overflowed while detached.
    public var detachedOverflowDrops: UInt64
    /// Detached subscriptions dropped because their resume window ended.
    public var detachedExpired: UInt64
    /// Ack tags that named no in-flight delivery (ignored).
    public var unknownAckTags: UInt64
}

/// Current sizes, for the metrics endpoint (walks every session: call it at scrape rate, not per
/// message).
public struct BrokerGauges: Sendable, Hashable {
    public var topics: Int
    public var sessions: Int
    public var attachedSessions: Int
    public var streamSubscriptions: Int
    public var detachedSubscriptions: Int
    /// Messages waiting for credit, over all stream subscriptions (redeliveries included).
    public var pendingMessages: Int
    public var inFlightMessages: Int
}

/// The live counters behind `BrokerStats`; the publish path adds once per batch.
final class BrokerCounters: Sendable {
    let published = Atomic<UInt64>(0)
    let publishRejected = Atomic<UInt64>(0)
    let publishDeduplicated = Atomic<UInt64>(0)
    let streamDeliveries = Atomic<UInt64>(0)
    let endpointDeliveries = Atomic<UInt64>(0)
    let slowConsumerDisconnects = Atomic<UInt64>(0)
    let detachedOverflowDrops = Atomic<UInt64>(0)
    let detachedExpired = Atomic<UInt64>(0)
    let unknownAckTags = Atomic<UInt64>(0)

    var snapshot: BrokerStats {
        BrokerStats(
            published: published.load(ordering: .relaxed),
            publishRejected: publishRejected.load(ordering: .relaxed),
            publishDeduplicated: publishDeduplicated.load(ordering: .relaxed),
            streamDeliveries: streamDeliveries.load(ordering: .relaxed),
            endpointDeliveries: endpointDeliveries.load(ordering: .relaxed),
            slowConsumerDisconnects: slowConsumerDisconnects.load(ordering: .relaxed),
            detachedOverflowDrops: detachedOverflowDrops.load(ordering: .relaxed),
            detachedExpired: detachedExpired.load(ordering: .relaxed),
            unknownAckTags: unknownAckTags.load(ordering: .relaxed))
    }
}

extension Atomic where Value == UInt64 {
    /// Relaxed add of a non-negative count (counters only; nothing synchronises through them).
    func add(_ value: Int) {
        guard value > 0 else { return }
        wrappingAdd(UInt64(value), ordering: .relaxed)
    }
}
