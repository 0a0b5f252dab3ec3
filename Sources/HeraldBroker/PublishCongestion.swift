import Synchronization

/// Receivers a publish batch left backlogged. The broker never blocks a publisher; a publishing
/// connection that gets one of these may stop reading until it is relieved (its own pacing policy:
/// the server waits a bounded time, then lets the slow-consumer bound decide). Without pacing, a
/// publisher that outruns its subscribers for long gets them disconnected as slow consumers.
///
/// Relief is signalled, not polled: `whenRelieved` runs its callback once every backlogged
/// receiver drained under its low mark (or went away) — on the thread that drained the last one
/// (a subscriber's CREDIT/ACK, or a detach), without broker locks held.
public struct PublishCongestion: Sendable {
    let sessions: [StreamSessionCore]

    /// True once every backlogged receiver drained under its low mark (or went away).
    public var isRelieved: Bool {
        sessions.allSatisfy { !$0.congested.load(ordering: .relaxed) }
    }

    /// Calls `relieved` once, as soon as `isRelieved` holds (at once if it already does).
    public func whenRelieved(_ relieved: @escaping @Sendable () -> Void) {
        Self.watch(sessions, ReliefOnce(relieved))
    }

    /// Waits on one still-congested session at a time and looks at all of them again when it
    /// clears. (Waiting on every session at once lost reliefs: a session that cleared first and
    /// was congested again by another publisher before the last one cleared had already used up
    /// its waiter, so nothing fired and the publisher sat out its whole pacing bound — 9 of 902
    /// pacing waits in 10→10 runs.)
    private static func watch(_ sessions: [StreamSessionCore], _ once: ReliefOnce) {
        guard let congested = sessions.first(where: { $0.congested.load(ordering: .relaxed) }) else {
            once.fire()
            return
        }
        congested.onRelief { watch(sessions, once) }
    }
}

/// Runs a callback at most once, whichever receiver's relief comes last.
private final class ReliefOnce: Sendable {
    private let callback: Mutex<(@Sendable () -> Void)?>

    init(_ callback: @escaping @Sendable () -> Void) { self.callback = Mutex(callback) }

    func fire() {
        let callback = self.callback.withLock { value -> (@Sendable () -> Void)? in
            defer { value = nil }
            return value
        }
        callback?()
    }
}

extension StreamSessionCore {
    /// Called with the session lock held after a drain: true when `congested` should clear (every
    /// queue is low). The caller calls `clearCongestion()` once the session lock is released.
    func shouldRelieve(_ state: SessionState, limits: BrokerLimits) -> Bool {
        congested.load(ordering: .relaxed) && state.backlogCleared(limits)
    }

    /// Marks the session as no longer backlogged and runs the publishers' relief callbacks.
    /// Call without the session lock (callbacks may hop to other queues, or touch this session).
    func clearCongestion() {
        let waiters = reliefWaiters.withLock { waiters -> [@Sendable () -> Void] in
            congested.store(false, ordering: .relaxed)
            defer { waiters.removeAll() }
            return waiters
        }
        for waiter in waiters { waiter() }
    }

    /// Runs `waiter` when the session stops being backlogged (at once when it is not).
    func onRelief(_ waiter: @escaping @Sendable () -> Void) {
        let now = reliefWaiters.withLock { waiters -> Bool in
            guard congested.load(ordering: .relaxed) else { return true }
            waiters.append(waiter)
            return false
        }
        if now { waiter() }
    }
}
