import HeraldBroker
import HeraldCore
import HeraldNet
import HeraldWire

/// Serves a stream client attached (`SUB … subscription=<name>`) to a subscription declared in
/// the configuration. Such a subscription is durable, like a JetStream durable consumer: its topic
/// fans out into a journal-backed queue (`NamedSubscription.queueName`), which keeps messages
/// while no client is attached (bounded by the subscription's `retention`) and hands them out in
/// order to the client that attaches. Clients attached to the same subscription share its
/// messages.
///
/// Contract: confined to its connection's queue (the session's), like the session that owns it;
/// queue-manager replies hop onto that queue. `MSG` frames carry the subscription's sid and tags
/// of this pump; in ack mode an `ACK` deletes the message from the queue, and messages not acked
/// when the client leaves (UNSUB, disconnect) become visible again at once; an unacked message
/// also comes back after `ackTimeout` (redelivered). In auto mode a message is deleted when it is
/// written.
final class DurableSubscriptionPump: @unchecked Sendable {
    /// How long a delivered, unacked message stays invisible to other attached clients.
    static let ackTimeout = 30
    /// Longest a pull waits on an empty queue (SQS's long-poll maximum); it is then re-issued.
    static let pollSeconds = 20

    let sid: UInt64
    let queue: String
    let topic: String
    let autoAck: Bool
    private let manager: QueueManager
    private let connection: Connection
    private let write: (DeliveryFrame) -> Void
    private var credit: Int
    private let maxCredit: Int
    private var nextTag: UInt64 = 1
    /// Delivery tag → receipt handle, in ack mode.
    private var outstanding: [UInt64: String] = [:]
    private var polling: LongPoll?
    private var stopped = false

    init(
        sid: UInt64, queue: String, topic: String, autoAck: Bool, credit: Int, maxCredit: Int,
        manager: QueueManager, connection: Connection, write: @escaping (DeliveryFrame) -> Void
    ) {
        self.sid = sid
        self.queue = queue
        self.topic = topic
        self.autoAck = autoAck
        self.credit = min(credit, maxCredit)
        self.maxCredit = maxCredit
        self.manager = manager
        self.connection = connection
        self.write = write
    }

    func start() { pull() }

    func addCredit(_ amount: Int) {
        credit = min(credit + amount, maxCredit)
        pull()
    }

    /// Deletes the acked messages (tags that are not outstanding are ignored, as for any ACK).
    func ack(_ ranges: [ClosedRange<UInt64>]) {
        var handles: [String] = []
        for range in ranges {
            // No `range.count`: 0-18446744073709551615 is a valid ACK and its count is no Int.
            if range.upperBound - range.lowerBound < UInt64(outstanding.count) {
                for tag in range { if let handle = outstanding.removeValue(forKey: tag) { handles.append(handle) } }
            } else {
                for tag in outstanding.keys where range.contains(tag) {
                    if let handle = outstanding.removeValue(forKey: tag) { handles.append(handle) }
                }
            }
        }
        guard !handles.isEmpty else { return }
        manager.delete(queue, receiptHandles: handles) { _ in }
    }

    /// UNSUB or disconnect: unacked messages become visible to the next client at once.
    func stop() {
        stopped = true
        polling?.cancel()  // a parked pull takes nothing more
        release(Array(outstanding.values))
        outstanding = [:]
    }

    private func pull() {
        guard !stopped, polling == nil, credit > 0 else { return }
        let connection = self.connection
        polling = manager.receive(queue, max: min(credit, 10), wait: Self.pollSeconds, visibilityTimeout: Self.ackTimeout) { [self] result in
            connection.execute { self.received(result) }
        }
    }

    private func received(_ result: Result<[ReceivedQueueMessage], HeraldError>) {
        polling = nil
        guard case .success(let messages) = result else {
            // The queue went away (a reload removed the subscription): nothing more to pull.
            return
        }
        if stopped { return release(messages.map(\.receiptHandle)) }
        var delivered: [String] = []
        for message in messages {
            let tag = nextTag
            nextTag += 1
            credit -= 1
            write(DeliveryFrame(
                sid: sid, deliveryTag: tag, topic: topic, messageID: MessageID(text: message.messageID),
                attributes: message.attributes.isEmpty ? [] : AttributeCodec.encode(message.attributes),
                body: message.body, redelivered: message.receiveCount > 1, groupID: message.groupID))
            if autoAck { delivered.append(message.receiptHandle) } else { outstanding[tag] = message.receiptHandle }
        }
        if !delivered.isEmpty { manager.delete(queue, receiptHandles: delivered) { _ in } }
        pull()
    }

    private func release(_ handles: [String]) {
        guard !handles.isEmpty else { return }
        manager.changeVisibility(queue, handles.map { (receiptHandle: $0, timeout: 0) }) { _ in }
    }
}
