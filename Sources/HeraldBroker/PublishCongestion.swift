import Synchronization

/// Receivers a publish batch left backlogged. The broker never blocks a publisher; a publishing
/// connection that gets one of these may stop reading until `isRelieved` (its own pacing policy:
/// the server waits a bounded time, then lets the slow-consumer bound decide). Without pacing, a
/// publisher that outruns its subscribers for long gets them disconnected as slow consumers.
public struct PublishCongestion: Sendable {
    let sessions: [StreamSessionCore]

    /// True once every backlogged receiver drained under its low mark (or went away).
    public var isRelieved: Bool {
        sessions.allSatisfy { !$0.congested.load(ordering: .relaxed) }
    }
}

extension StreamSessionCore {
    /// Called with the session lock held after a drain: clears `congested` once every queue is low.
    func relieveIfCleared(_ state: SessionState, limits: BrokerLimits) {
        if congested.load(ordering: .relaxed), state.backlogCleared(limits) {
            congested.store(false, ordering: .relaxed)
        }
    }
}
