import HeraldCore
import Synchronization

// Delivery targets and their receipts: the seam every kind of subscription plugs into.
//
// Contract:
// - Route and match decide which targets a publish batch reaches. Each reached target gets its
//   slice of the batch in ONE `accept` call (every message it matched, in publish order), on the
//   publisher's thread, without broker locks held. `accept` must not block and must not call
//   back into the broker synchronously.
// - The publish path groups the batch's matches by target identity (`===`), never by kind: a
//   stream session, a durable queue or an HTTP pusher are all just `DeliveryTarget`s.
// - `accept` answers with a receipt for its whole slice: `.done` (the target holds the messages:
//   a stream session queued them), `.pending(token)` (settled later, exactly once, from any
//   thread: a durable queue after the fsync that covers them, an HTTP pusher once its retry
//   worker holds them), or `.failed(error)`.
// - A message is confirmed to its publisher (PUBOK) when the receipts of all the targets it
//   reached have settled; a failed receipt makes that message's confirmation an error. Publishers
//   see this through `PublishReceipts` and must not block their connection's queue waiting.
// - Side effects a target cannot perform itself without broker locks (a stream session that
//   overflowed, a backlog the publisher should know of) go into `DeliveryEffects`, which the
//   broker applies after every target of the batch was called.

/// Something a subscription delivers to. See the contract above.
protocol DeliveryTarget: AnyObject, Sendable {
    func accept(_ slice: DeliverySlice, effects: inout DeliveryEffects) -> DeliveryReceipt
}

/// One target's part of a publish batch: a contiguous range of the batch's item array (the publish
/// path groups the batch's matches by target before calling any, so a target reads its items in
/// sequence instead of chasing them across the whole batch), and the batch's messages they index.
struct DeliverySlice {
    let items: [DeliveryItem]
    let range: Range<Int>
    let messages: [Message]
    let limits: BrokerLimits
    /// No other target of the batch received these messages.
    var soleTarget = false

    /// The items of this slice, in publish order.
    func forEach(_ body: (DeliveryItem) -> Void) {
        for index in range where index >= 0 && index < items.count { body(items[index]) }
    }

    var count: Int { range.count }
}

/// One match: where inside its target (`slot`, `subscriptionID`: a stream session's subscription;
/// other targets may ignore them), which message of the batch, and its retained size.
struct DeliveryItem {
    let slot: Int
    let subscriptionID: UInt64
    let message: Int
    let size: Int
}

/// What targets report back for the broker to act on once every target was called.
struct DeliveryEffects {
    var streamDeliveries = 0
    var endpointDeliveries = 0
    /// Stream sessions left past their backlog mark (the publisher may pace itself).
    var backlogged: [StreamSessionCore] = []
    /// Detached stream subscriptions whose queue overflowed: drop them from their topics.
    var droppedDormant: [RemovedSubscription] = []
    /// Stream sessions cut off as slow consumers: drop them and tell their sinks.
    var slowConsumers: [(session: StreamSessionCore, sink: any StreamSink, removed: [RemovedSubscription])] = []
    /// Queue deliveries staged by `QueueSubscription`s: committed as one journal append.
    var queueBatch: QueueFanOutBatch?
}

/// What a target says about the messages of its slice.
public enum DeliveryReceipt: Sendable {
    /// The target holds them.
    case done
    /// The target will say later, through the token.
    case pending(ReceiptToken)
    /// The target refused them; their publishers get this error.
    case failed(HeraldError)
}

/// A receipt a target settles later, exactly once (later calls are ignored), from any thread.
public final class ReceiptToken: Sendable {
    private enum State {
        case open([@Sendable (HeraldError?) -> Void])
        case settled(HeraldError?)
    }

    private let state = Mutex(State.open([]))

    public init() {}

    /// Settles the receipt: nil for success, or the error the messages' publishers get.
    public func settle(_ error: HeraldError? = nil) {
        let observers = state.withLock { state -> [@Sendable (HeraldError?) -> Void] in
            guard case .open(let observers) = state else { return [] }
            state = .settled(error)
            return observers
        }
        for observer in observers { observer(error) }
    }

    /// Runs `observer` when the token settles (at once if it has).
    func observe(_ observer: @escaping @Sendable (HeraldError?) -> Void) {
        let settled = state.withLock { state -> HeraldError?? in
            switch state {
            case .open(var observers):
                observers.append(observer)
                state = .open(observers)
                return .none
            case .settled(let error):
                return .some(error)
            }
        }
        if case .some(let error) = settled { observer(error) }
    }
}

/// The receipts of one publish batch that are still open, per request of the batch. Made by the
/// broker only when some target answered `.pending` (the common all-`.done` batch allocates none).
/// Requests not listed here settled at once with their result.
public final class PublishReceipts: Sendable {
    private struct State {
        /// Open receipts per request index; absent = settled.
        var open: [Int: Int] = [:]
        var errors: [Int: HeraldError] = [:]
        var observer: (@Sendable ([(request: Int, error: HeraldError?)]) -> Void)?
        var settledBeforeObserver: [(request: Int, error: HeraldError?)] = []
    }

    private let state = Mutex(State())

    init() {}

    /// The requests (indices into the published batch) whose confirmation waits for receipts:
    /// those still open, and those that settled before `whenSettled` (it reports them at once —
    /// with their error, if any — so they must be waited for too).
    public var waitingRequests: Set<Int> {
        state.withLock { Set($0.open.keys).union($0.settledBeforeObserver.map(\.request)) }
    }

    /// Registers the one observer: it is called, from any thread, with requests as their last
    /// receipt settles (with the first error a receipt gave, if any). Requests that settled before
    /// this call are reported to it at once.
    public func whenSettled(_ observer: @escaping @Sendable ([(request: Int, error: HeraldError?)]) -> Void) {
        let early = state.withLock { state -> [(request: Int, error: HeraldError?)] in
            state.observer = observer
            defer { state.settledBeforeObserver = [] }
            return state.settledBeforeObserver
        }
        if !early.isEmpty { observer(early) }
    }

    /// Before any token is observed: `requests` wait for one more receipt.
    func wait(for requests: [Int]) {
        state.withLock { state in
            for request in requests { state.open[request, default: 0] += 1 }
        }
    }

    /// Starts watching `token` for `requests` (registered with `wait(for:)`).
    func watch(_ token: ReceiptToken, requests: [Int]) {
        token.observe { [self] error in
            let (settled, observer) = state.withLock { state -> ([(request: Int, error: HeraldError?)], (@Sendable ([(request: Int, error: HeraldError?)]) -> Void)?) in
                var settled: [(request: Int, error: HeraldError?)] = []
                for request in requests {
                    if let error, state.errors[request] == nil { state.errors[request] = error }
                    guard let count = state.open[request] else { continue }
                    if count > 1 {
                        state.open[request] = count - 1
                    } else {
                        state.open.removeValue(forKey: request)
                        settled.append((request, state.errors.removeValue(forKey: request)))
                    }
                }
                if state.observer == nil { state.settledBeforeObserver += settled }
                return (settled, state.observer)
            }
            if let observer, !settled.isEmpty { observer(settled) }
        }
    }
}
