import HeraldCore
import HeraldStore

/// A topic subscription whose protocol is `sqs`: a `DeliveryTarget` that stages its messages in
/// the publish batch's `QueueFanOutBatch`, so every queue a publish reaches shares ONE journal
/// record and the whole batch is ONE append (DeliveryTarget.swift: effects are applied after every
/// target was called). Its receipt settles when that append is durable.
final class QueueSubscription: DeliveryTarget {
    let route: QueueSubscriptionRoute
    let manager: QueueManager
    let counter: SubscriptionMatchCounter

    init(route: QueueSubscriptionRoute, manager: QueueManager, counter: SubscriptionMatchCounter) {
        self.route = route
        self.manager = manager
        self.counter = counter
    }

    func accept(_ slice: DeliverySlice, effects: inout DeliveryEffects) -> DeliveryReceipt {
        let batch: QueueFanOutBatch
        if let staged = effects.queueBatch {
            batch = staged
        } else {
            batch = QueueFanOutBatch(manager: manager, messages: slice.messages)
            effects.queueBatch = batch
        }
        var count = 0
        slice.forEach {
            batch.add(message: $0.message, route: route)
            count += 1
        }
        counter.addMatched(count)
        effects.endpointDeliveries += count
        return .pending(batch.token)
    }
}

/// The queue deliveries of one publish batch, collected on the publisher's thread while the
/// targets are called, written by `commit()` once all were.
final class QueueFanOutBatch {
    let manager: QueueManager
    let messages: [Message]
    let token = ReceiptToken()
    /// Per message of the batch, the queue routes it reached (in target order).
    private(set) var routes: [Int: [QueueSubscriptionRoute]] = [:]

    init(manager: QueueManager, messages: [Message]) {
        self.manager = manager
        self.messages = messages
    }

    func add(message: Int, route: QueueSubscriptionRoute) {
        routes[message, default: []].append(route)
    }

    func commit() {
        manager.commitPublished(messages: messages, routes: routes.sorted { $0.key < $1.key }, token: token)
    }
}

extension QueueManager {
    /// Writes a publish batch's queue deliveries as one append (one record per message, listing
    /// every queue it reached) and enqueues them once durable; then settles `token`.
    func commitPublished(messages: [Message], routes: [(key: Int, value: [QueueSubscriptionRoute])], token: ReceiptToken) {
        let now = clock()
        let records = state.withLock { state -> [StoredMessage] in
            var records: [StoredMessage] = []
            records.reserveCapacity(routes.count)
            for (index, reached) in routes {
                let message = messages[index]
                // One record per distinct body: one in all unless an SNS MessageStructure=json
                // publish gave the protocols different texts (then each text is its own entry).
                var groups: [(body: [UInt8], routes: [QueueSubscriptionRoute])] = []
                if let bodies = message.protocolBodies {
                    for route in reached {
                        let body = bodies.body(for: route.protocolName)
                        if let at = groups.firstIndex(where: { $0.body == body }) {
                            groups[at].routes.append(route)
                        } else {
                            groups.append((body, [route]))
                        }
                    }
                } else {
                    groups = [(message.body, reached)]
                }
                for group in groups {
                    var targets: [StoredMessage.QueueTarget] = []
                    var hashForDeduplication = false
                    for route in group.routes {
                        guard let id = state.ids[route.queue], let slot = state.queues[id] else { continue }
                        let attributes = slot.core.attributes
                        if attributes.fifo && attributes.contentBasedDeduplication { hashForDeduplication = true }
                        targets.append(.init(
                            queue: id, subscription: route.subscription, raw: route.raw,
                            visibleAtMillis: now + Int64(attributes.delaySeconds) * 1000))
                    }
                    guard !targets.isEmpty else { continue }
                    var deduplicationID = message.deduplicationID
                    if deduplicationID == nil && hashForDeduplication { deduplicationID = contentHash(group.body) }
                    let entry = state.nextEntry
                    state.nextEntry += 1
                    records.append(StoredMessage(
                        entry: entry, messageID: message.id.text, topic: message.topic, subject: message.subject, sentAtMillis: now,
                        attributes: message.attributes, body: group.body, groupID: message.groupID,
                        deduplicationID: deduplicationID, targets: targets))
                }
            }
            return records
        }
        guard !records.isEmpty else { return token.settle() }
        store.append(records.map { .message($0) }, on: callbackQueue) { [self] result in
            switch result {
            case .success(let positions):
                _ = enqueueDurable(Array(zip(records, positions)))
                token.settle()
            case .failure(let error):
                token.settle(Self.storageError(error))
            }
        }
    }
}
