import HeraldBroker
import Synchronization

/// Deliveries handed to one session by publishers' threads (`StreamSink.deliver`), waiting for the
/// session's connection queue. Publishers append under the lock; only the append that finds the
/// inbox idle asks its caller to schedule a hop, and the hop takes every batch that arrived until
/// then. A subscriber that several publish batches reach before its queue runs (10 publishers, or
/// one publisher outpacing it) gets one hop, one write and one flush for all of them instead of
/// one each.
///
/// Contract: `add` from any thread; `take` only from the owning session's queue (the hop).
/// Batches come out in the order they were added, so a session's deliveries keep the broker's
/// order (the broker calls a session's sink under that session's lock).
final class DeliveryInbox: Sendable {
    private struct State: Sendable {
        var batches: [[StreamDelivery]] = []
        /// A hop is scheduled and has not taken the batches yet.
        var scheduled = false
    }

    private let state = Mutex(State())

    /// Adds a batch; true when the caller must schedule the hop that takes it.
    func add(_ batch: [StreamDelivery]) -> Bool {
        state.withLock { state in
            state.batches.append(batch)
            if state.scheduled { return false }
            state.scheduled = true
            return true
        }
    }

    /// Moves every waiting batch into `batches` (which the caller passes in empty, keeping its
    /// capacity for the next time); a later `add` schedules a new hop.
    func take(into batches: inout [[StreamDelivery]]) {
        state.withLock { state in
            swap(&state.batches, &batches)
            state.scheduled = false
        }
    }
}
