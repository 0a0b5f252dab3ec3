import Synchronization

/// What one HTTP/S subscription's deliveries came to since the server started: `delivered`
/// (a 2xx), `retried` (a failed attempt scheduled again), `failed` (given up: a permanent error
/// or retries exhausted), `deadLettered` (of the failed, moved to the subscription's DLQ).
/// Written by its pump, read from any thread.
final class HTTPDeliveryCounters: Sendable {
    let delivered = Atomic<Int>(0)
    let retried = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let deadLettered = Atomic<Int>(0)

    struct Snapshot: Sendable, Hashable {
        var delivered, retried, failed, deadLettered: Int
    }

    var snapshot: Snapshot {
        Snapshot(
            delivered: delivered.load(ordering: .relaxed), retried: retried.load(ordering: .relaxed),
            failed: failed.load(ordering: .relaxed), deadLettered: deadLettered.load(ordering: .relaxed))
    }

    static func add(_ counter: borrowing Atomic<Int>) { counter.wrappingAdd(1, ordering: .relaxed) }
}
