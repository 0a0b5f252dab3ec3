import Dispatch
import HeraldBroker
import HeraldCore
import HeraldHTTP
import HeraldWire
import Synchronization

/// One managed consumer (Lambda's SQS event-source mapping): collects batches from a queue, POSTs
/// each as Lambda's SQS event to an HTTP(S) endpoint and deletes what the endpoint took.
///
/// Contract:
/// - `start`/`stop` may be called from any thread; `statistics` too. Everything else runs on the
///   consumer's own serial `queue` (not a thread: a Dispatch queue): queue-manager replies and
///   HTTP completions hop onto it, the batching window and the back-off are `asyncAfter` timers.
///   No thread is held per delivery: receives park in the manager (`LongPoll`), POSTs are
///   `HTTPClient` completions.
/// - At most one batch is being collected at a time; at most `limit` (≤ `maxConcurrency`)
///   batches are posted at once. `limit` follows the AIMD rule of docs/CONSUMERS.md.
/// - At least once: a message is deleted only after its endpoint answered 2xx for it. On any other
///   outcome nothing is deleted: the queue's visibility timeout brings the messages back and its
///   redrive policy dead-letters them after `maxReceiveCount` receives.
/// - `stop()`: no new receive; messages collected but not posted become visible again at once;
///   POSTs in flight finish and their deletes still happen.
final class QueueConsumer: @unchecked Sendable {  // mutable state only touched on `queue`
    struct Settings: Sendable {
        var name: String
        var queueName: String
        var endpoint: HTTPURL
        var batchSize: Int
        var maxBatchingWindow: Duration
        var maxConcurrency: Int
        var reportBatchItemFailures: Bool
        var timeout: Duration
        var source: LambdaSQSEvent.Source
    }

    /// Counters since start (read from any thread).
    struct Statistics: Sendable, Hashable {
        var batchesPosted = 0
        /// 2xx with every message taken.
        var batchesSucceeded = 0
        /// 2xx with some messages reported failed.
        var batchesPartiallyFailed = 0
        /// Non-2xx, timeout, connection failure or a malformed partial-failure answer.
        var batchesFailed = 0
        var messagesPosted = 0
        var messagesDeleted = 0
        /// The current limit on batches in flight (AIMD).
        var concurrencyLimit = 1
        var inFlight = 0
        var peakInFlight = 0
        var lastError: String?
    }

    /// Longest a receive waits on an empty queue (SQS's long-poll maximum); it is then re-issued.
    static let pollSeconds = 20
    /// The back-off after a failed batch doubles from this…
    static let firstBackoff = Duration.milliseconds(100)
    /// …up to this.
    static let maxBackoff = Duration.seconds(5)

    let settings: Settings
    private let manager: QueueManager
    private let client: HTTPClient
    private let queue: DispatchQueue
    private let log: @Sendable (String) -> Void
    private let counters = Mutex(Statistics())

    // On `queue` only.
    private var stopped = false
    private var limit = 1
    private var posting = 0
    private var collecting: Batch?
    private var nextBatchID: UInt64 = 1
    /// The pending receive of the batch being collected.
    private var poll: LongPoll?
    /// Messages a receive brought after the batch it was for had left (its window closed while the
    /// reply was on its way): the next batch starts with them.
    private var carry: [ReceivedQueueMessage] = []
    private var consecutiveErrors = 0
    private var pausedUntil: DispatchTime?
    private var resumeArmed = false

    private struct Batch {
        let id: UInt64
        var messages: [ReceivedQueueMessage]
        /// Set when the first message arrives: the window runs from then.
        var deadline: DispatchTime?
    }

    init(settings: Settings, manager: QueueManager, client: HTTPClient, log: @escaping @Sendable (String) -> Void) {
        self.settings = settings
        self.manager = manager
        self.client = client
        self.log = log
        self.queue = DispatchQueue(label: "herald.consumer.\(settings.name)")
    }

    func start() { queue.async { self.pump() } }

    func stop() {
        queue.async { [self] in
            guard !stopped else { return }
            stopped = true
            poll?.cancel()
            poll = nil
            release((collecting?.messages ?? []) + carry)
            collecting = nil
            carry = []
        }
    }

    var statistics: Statistics { counters.withLock { $0 } }

    // MARK: - Collecting

    /// Starts collecting the next batch when a slot is free.
    private func pump() {
        guard !stopped, collecting == nil, posting < limit else { return }
        if let until = pausedUntil {
            guard DispatchTime.now() >= until else {
                if !resumeArmed {
                    resumeArmed = true
                    queue.asyncAfter(deadline: until) { [self] in
                        resumeArmed = false
                        pausedUntil = nil
                        pump()
                    }
                }
                return
            }
            pausedUntil = nil
        }
        let id = nextBatchID
        nextBatchID += 1
        collecting = Batch(id: id, messages: [], deadline: nil)
        let carried = carry
        carry = []
        add(carried, to: id)
    }

    /// Adds received messages to batch `id` and decides what comes next: receive more, or post.
    private func add(_ messages: [ReceivedQueueMessage], to id: UInt64) {
        guard var batch = collecting, batch.id == id else { return }
        if batch.messages.isEmpty && !messages.isEmpty {
            let deadline = DispatchTime.now() + Self.interval(settings.maxBatchingWindow)
            batch.deadline = deadline
            if settings.maxBatchingWindow > .zero {
                queue.asyncAfter(deadline: deadline) { [self] in windowClosed(id) }
            }
        }
        batch.messages.append(contentsOf: messages)
        collecting = batch
        if batch.messages.count >= settings.batchSize { return finish() }
        guard let deadline = batch.deadline else {
            return receive(for: id, wait: Self.pollSeconds)  // empty: long-poll for a first message
        }
        if messages.isEmpty {
            // The queue had nothing more right now: post, or wait out the window for more.
            let now = DispatchTime.now()
            guard deadline > now else { return finish() }
            let seconds = (deadline.uptimeNanoseconds - now.uptimeNanoseconds + 999_999_999) / 1_000_000_000
            return receive(for: id, wait: Int(seconds))
        }
        receive(for: id, wait: 0)
    }

    private func receive(for id: UInt64, wait: Int) {
        let max = min(10, settings.batchSize - (collecting?.messages.count ?? 0))
        let queue = self.queue
        poll = manager.receive(settings.queueName, max: max, wait: wait, visibilityTimeout: nil) { [self] result in
            queue.async { self.received(result, for: id) }
        }
    }

    private func received(_ result: Result<[ReceivedQueueMessage], HeraldError>, for id: UInt64) {
        let current = collecting?.id == id
        if current { poll = nil }
        let messages: [ReceivedQueueMessage]
        switch result {
        case .success(let got): messages = got
        case .failure(let error):
            guard current, !stopped else { return }
            note(error: "receive from \(settings.queueName): \(error.message)")
            if collecting?.messages.isEmpty ?? true {
                collecting = nil
                pause(for: .seconds(1))  // the queue may come back (a reload re-creates it)
                return pump()
            }
            return finish()
        }
        if stopped { return release(messages) }
        guard current else {
            // Its batch left when the window closed; the next one takes these first.
            carry.append(contentsOf: messages)
            return pump()
        }
        add(messages, to: id)  // nothing after a long poll: `add` polls again
    }

    /// The batching window of batch `id` ran out: post what it has.
    private func windowClosed(_ id: UInt64) {
        guard !stopped, let batch = collecting, batch.id == id, !batch.messages.isEmpty else { return }
        poll?.cancel()  // a cancelled receive is handed nothing more (a reply already on its way is carried)
        poll = nil
        finish()
    }

    // MARK: - Posting

    private func finish() {
        guard let batch = collecting else { return }
        collecting = nil
        poll = nil
        post(batch.messages)
        pump()
    }

    private func post(_ messages: [ReceivedQueueMessage]) {
        posting += 1
        counters.withLock {
            $0.batchesPosted += 1
            $0.messagesPosted += messages.count
            $0.inFlight = posting
            $0.peakInFlight = max($0.peakInFlight, posting)
        }
        let request = HTTPRequest(
            method: "POST", target: "/", headers: ["Content-Type": "application/json"],
            body: LambdaSQSEvent.render(messages, source: settings.source))
        let queue = self.queue
        client.send(request, to: settings.endpoint, timeout: settings.timeout) { [self] result in
            queue.async { self.settle(messages, result) }
        }
    }

    private func settle(_ messages: [ReceivedQueueMessage], _ result: Result<HTTPResponse, HTTPClientError>) {
        posting -= 1
        counters.withLock { $0.inFlight = posting }
        switch result {
        case .failure(let error):
            failed(messages, "\(error)")
        case .success(let response) where !(200..<300).contains(response.status):
            failed(messages, "HTTP \(response.status) \(response.reason)")
        case .success where !settings.reportBatchItemFailures:
            succeeded(messages, failures: [])
        case .success(let response):
            switch LambdaSQSEvent.answer(response.body, batch: Set(messages.map(\.messageID))) {
            case .allSucceeded: succeeded(messages, failures: [])
            case .failed(let ids): succeeded(messages, failures: ids)
            case .malformed(let why): failed(messages, "HTTP \(response.status), but \(why): the whole batch is retried")
            }
        }
        pump()
    }

    /// 2xx: deletes every message not reported failed; with a backlog, one more batch may fly.
    private func succeeded(_ messages: [ReceivedQueueMessage], failures: Set<String>) {
        if consecutiveErrors > 0 { log("consumer \(settings.name): \(settings.endpoint) answers again") }
        consecutiveErrors = 0
        let backlog = messages.count >= settings.batchSize || (manager.summary(settings.queueName)?.visible ?? 0) > 0
        if backlog { limit = min(limit + 1, settings.maxConcurrency) }
        counters.withLock {
            if failures.isEmpty { $0.batchesSucceeded += 1 } else { $0.batchesPartiallyFailed += 1 }
            $0.concurrencyLimit = limit
        }
        let handles = messages.filter { !failures.contains($0.messageID) }.map(\.receiptHandle)
        guard !handles.isEmpty else { return }
        manager.delete(settings.queueName, receiptHandles: handles, synced: false) { [self] results in
            let deleted = results.filter { if case .success = $0 { return true } else { return false } }.count
            counters.withLock { $0.messagesDeleted += deleted }
        }
    }

    /// Nothing is deleted; half as many batches may fly, and the next one waits a back-off.
    private func failed(_ messages: [ReceivedQueueMessage], _ why: String) {
        limit = max(1, limit / 2)
        consecutiveErrors += 1
        counters.withLock {
            $0.batchesFailed += 1
            $0.concurrencyLimit = limit
        }
        note(error: "batch of \(messages.count) to \(settings.endpoint) failed: \(why); its messages return after the visibility timeout")
        let shift = min(consecutiveErrors - 1, 6)
        pause(for: min(Self.firstBackoff * (1 << shift), Self.maxBackoff))
    }

    // MARK: - Helpers

    private func pause(for duration: Duration) {
        let until = DispatchTime.now() + Self.interval(duration)
        if let current = pausedUntil, current > until { return }
        pausedUntil = until
    }

    /// Records the error; logs a new one, the first of a run and then every 100th (a dead endpoint
    /// must not flood the log).
    private func note(error: String) {
        let repeated = counters.withLock { counters in
            defer { counters.lastError = error }
            return counters.lastError == error
        }
        if !repeated || consecutiveErrors <= 1 || consecutiveErrors % 100 == 0 { log("consumer \(settings.name): \(error)") }
    }

    /// Messages this consumer holds but will not post become visible to the next receive at once.
    private func release(_ messages: [ReceivedQueueMessage]) {
        guard !messages.isEmpty else { return }
        manager.changeVisibility(settings.queueName, messages.map { (receiptHandle: $0.receiptHandle, timeout: 0) }) { _ in }
    }

    static func interval(_ duration: Duration) -> DispatchTimeInterval {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(Int(clamping: seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }
}
