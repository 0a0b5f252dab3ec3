import Dispatch
import HeraldBroker
import HeraldCore
import HeraldHTTP
import HeraldWire

/// Delivers one confirmed HTTP/S subscription. The topic fans out into the subscription's own
/// journal-backed queue (so a publish is confirmed once it is durable there, and a message waiting
/// for a retry survives a restart); this pump receives from that queue and POSTs each message as
/// SNS does. The queue's visibility timeout is the retry timer: a failed attempt makes the message
/// visible again after the delivery policy's next delay (with jitter), and `ApproximateReceiveCount`
/// says which attempt the next one is. The same MessageId goes out on every attempt.
///
/// Outcomes (spec §5.2): 2xx deletes the message; 5xx, 429, timeouts, refused connections and TLS
/// failures are retried under the policy; any other status fails at once. A message that failed
/// for good goes to the subscription's dead-letter queue (the body the endpoint would have had,
/// attributes mapped as SNS does) or, without one, is dropped.
///
/// Contract: all state is confined to `queue`, which is the queue manager's own callback queue
/// (serial): the manager's replies arrive on it and HTTP completions are sent to it, so a delivery
/// costs no extra thread hop (each hop is a worker wake-up, the main cost at high rates). No thread
/// is held: receives park as long polls, POSTs are client completions, throttling is a timer.
final class HTTPSubscriptionPump: @unchecked Sendable {
    struct Settings: Sendable {
        var subscription: String
        var topic: String
        /// The subscription's queue (`HTTPEndpoints.queueName`).
        var queue: String
        var endpoint: HTTPURL
        var raw: Bool
        var policy: EffectiveHTTPDeliveryPolicy
        var deadLetterQueue: String?
        var maxConcurrent: Int
        var timeout: Duration
        var topicArn: String
        var subscriptionArn: String
    }

    /// Longest a receive waits on an empty queue before it is re-issued.
    static let pollSeconds = 20

    let settings: Settings
    let counters = HTTPDeliveryCounters()
    private let manager: QueueManager
    private let client: HTTPClient
    private let queue: DispatchQueue
    /// Invisible this long while a POST is out (connect + response timeouts, and a margin).
    private let inFlightVisibility: Int
    private var inFlight = 0
    private var polling: LongPoll?
    private var stopped = false
    private var throttle: ThrottleBucket?
    private var throttleWaiting = false
    private var random = SystemRandomNumberGenerator()
    /// Receipt handles of delivered messages, deleted together once the completions queued in
    /// this turn have run (one journal append for many deliveries).
    private var deliveredHandles: [String] = []

    init(settings: Settings, manager: QueueManager, client: HTTPClient, connectTimeout: Duration) {
        self.settings = settings
        self.manager = manager
        self.client = client
        self.queue = manager.replyQueue
        self.inFlightVisibility = Int((connectTimeout + settings.timeout).components.seconds) + 5
        self.throttle = settings.policy.maxReceivesPerSecond.map { ThrottleBucket(ratePerSecond: $0) }
    }

    func start() { queue.async { self.pull() } }

    /// Stops pulling; POSTs in flight finish and settle their messages.
    func stop() {
        queue.async {
            self.stopped = true
            self.polling?.cancel()
        }
    }

    private func pull() {
        guard !stopped, polling == nil, !throttleWaiting, inFlight < settings.maxConcurrent else { return }
        // Throttled: one message per receive, and a token per POST (`postWhenAllowed`), so the rate
        // is the policy's whatever the batch.
        let max = throttle == nil ? min(10, settings.maxConcurrent - inFlight) : 1
        // The reply runs on the manager's callback queue, which is this pump's queue.
        polling = manager.receive(settings.queue, max: max, wait: Self.pollSeconds, visibilityTimeout: inFlightVisibility) { result in
            self.received(result)
        }
    }

    private func received(_ result: Result<[ReceivedQueueMessage], HeraldError>) {
        polling = nil
        let messages: [ReceivedQueueMessage]
        switch result {
        case .success(let received): messages = received
        case .failure:
            // The queue went away (the subscription was removed): nothing more to deliver.
            stopped = true
            return
        }
        if stopped {
            release(messages)
            return
        }
        for message in messages {
            inFlight += 1
            postWhenAllowed(message)
        }
        pull()
    }

    /// Posts once the throttle has a token (at once when unthrottled); no receive meanwhile. The
    /// token is taken here, not before the receive: one taken before a long poll would be spent
    /// after the bucket refilled, a burst one larger than the policy's.
    private func postWhenAllowed(_ message: ReceivedQueueMessage) {
        let wait = throttle?.take(nowNanoseconds: DispatchTime.now().uptimeNanoseconds) ?? 0
        guard wait > 0 else { return post(message) }
        throttleWaiting = true
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: wait))) {
            self.throttleWaiting = false
            self.postWhenAllowed(message)
            self.pull()
        }
    }

    private func post(_ message: ReceivedQueueMessage) {
        let request = SNSHTTPRequest.notification(
            body: message.body, messageID: message.messageID, topicArn: settings.topicArn, subscriptionArn: settings.subscriptionArn,
            raw: settings.raw, contentType: settings.policy.headerContentType)
        let queue = self.queue
        client.send(request, to: settings.endpoint, timeout: settings.timeout, callbackQueue: queue) { result in
            self.finished(message, result)
        }
    }

    private func finished(_ message: ReceivedQueueMessage, _ result: Result<HTTPResponse, HTTPClientError>) {
        inFlight -= 1
        let outcome: HTTPDeliveryOutcome
        switch result {
        case .success(let response): outcome = HTTPDeliveryOutcome(status: response.status)
        case .failure(let error): outcome = error.code == .invalidRequest ? .permanent : .retryable
        }
        switch outcome {
        case .delivered:
            HTTPDeliveryCounters.add(counters.delivered)
            if deliveredHandles.isEmpty { queue.async { self.deleteDelivered() } }
            deliveredHandles.append(message.receiptHandle)
        case .retryable:
            if let delay = settings.policy.retry.delay(beforeRetry: message.receiveCount) {
                HTTPDeliveryCounters.add(counters.retried)
                let jittered = DeliveryJitter.apply(delay, using: &random)
                manager.changeVisibility(settings.queue, [(message.receiptHandle, jittered)]) { _ in }
            } else {
                giveUp(message)
            }
        case .permanent:
            giveUp(message)
        }
        pull()
    }

    private func deleteDelivered() {
        let handles = deliveredHandles
        deliveredHandles = []
        // SQS's batch limit is 10, the manager's is not: one call (one journal append) for all.
        // Unsynced: a delete lost in a crash delivers the message again (SNS is at least once too).
        manager.delete(settings.queue, receiptHandles: handles, synced: false) { _ in }
    }

    /// Retries are exhausted or the error is permanent: to the dead-letter queue, or dropped.
    private func giveUp(_ message: ReceivedQueueMessage) {
        HTTPDeliveryCounters.add(counters.failed)
        guard let deadLetterQueue = settings.deadLetterQueue else {
            manager.delete(settings.queue, receiptHandles: [message.receiptHandle]) { _ in }
            return
        }
        let copy = QueueSendRequest(
            body: message.body, attributes: message.attributes, groupID: message.groupID, deduplicationID: message.deduplicationID)
        let manager = self.manager
        let (source, handle, counters) = (settings.queue, message.receiptHandle, self.counters)
        manager.send(deadLetterQueue, [copy]) { results in
            // Deleted only once the DLQ holds it: a crash in between repeats the move, never loses it.
            guard case .success? = results.first else {
                // The DLQ is gone or refused it: leave the message to come back and try again later.
                manager.changeVisibility(source, [(handle, 60)]) { _ in }
                return
            }
            HTTPDeliveryCounters.add(counters.deadLettered)
            manager.delete(source, receiptHandles: [handle]) { _ in }
        }
    }

    private func release(_ messages: [ReceivedQueueMessage]) {
        guard !messages.isEmpty else { return }
        manager.changeVisibility(settings.queue, messages.map { (receiptHandle: $0.receiptHandle, timeout: 0) }) { _ in }
    }
}
