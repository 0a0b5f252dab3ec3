import HeraldCore
import Synchronization

extension Broker {
    /// Publishes one batch of one publisher connection. For each request: topic lookup (or
    /// auto-create), one matcher call for every matching subscription, and the message — one value,
    /// one shared payload — handed to each match. Matches are grouped by target, so each target
    /// (a stream session, an endpoint, …) is called once for the whole batch (DeliveryTarget.swift).
    ///
    /// A publish whose deduplication key (a FIFO topic's `MessageDeduplicationId` or content hash,
    /// a standard topic's idempotency key) was seen on its topic within the window is confirmed
    /// with the first message's id and delivered nowhere; within a batch, the later one is the
    /// duplicate.
    ///
    /// Returns, per request in order, the assigned message id or why it was refused
    /// (`topicNotFound`, `invalidParameter` for a bad name under auto-create, a FIFO topic
    /// without a group id or deduplication id, or a deduplication id on a standard topic,
    /// `tooManyTopics`, `deliveryFailed` when a target refused it at once).
    /// Never blocks on subscribers: a subscriber without credit gets its messages queued, and one
    /// whose queue overflows is disconnected (`DisconnectReason.slowConsumer`).
    public func publish(_ batch: [PublishRequest]) -> [Result<MessageID, BrokerError>] {
        var congestion: PublishCongestion?
        var receipts: PublishReceipts?
        return publish(batch, congestion: &congestion, receipts: &receipts)
    }

    /// `publish(_:)`, also reporting in `congestion` the receivers this batch left backlogged
    /// (nil when none), so the caller can pace itself, and in `receipts` the accepted requests whose
    /// confirmation waits for a target's receipt (nil when every target answered at once).
    public func publish(
        _ batch: [PublishRequest], congestion: inout PublishCongestion?, receipts: inout PublishReceipts?
    ) -> [Result<MessageID, BrokerError>] {
        var taken = batch
        return publish(taking: &taken, congestion: &congestion, receipts: &receipts)
    }

    /// `publish(_:congestion:receipts:)` that moves each accepted request's attributes, body and
    /// optional fields into its message instead of sharing them, and drops a refused or duplicate
    /// request's attributes and body: `batch` is left holding emptied requests for the caller to
    /// clear or fill again. The stream protocol's path: sharing cost a retain per field per message
    /// here and a release per field when the caller cleared its batch.
    public func publish(
        taking batch: inout [PublishRequest], congestion: inout PublishCongestion?, receipts: inout PublishReceipts?
    ) -> [Result<MessageID, BrokerError>] {
        publish(taking: &batch, count: batch.count, congestion: &congestion, receipts: &receipts)
    }

    /// `publish(taking:congestion:receipts:)` for the first `count` requests of `batch` (a stream
    /// session keeps its emptied requests and fills them again for the next call).
    public func publish(
        taking batch: inout [PublishRequest], count: Int, congestion: inout PublishCongestion?,
        receipts: inout PublishReceipts?
    ) -> [Result<MessageID, BrokerError>] {
        var results: [Result<MessageID, BrokerError>] = []
        let requestCount = min(max(count, 0), batch.count)
        guard requestCount > 0 else { return results }
        results.reserveCapacity(requestCount)
        let ids = messageIDs.next(requestCount)
        var messages: [Message] = []
        messages.reserveCapacity(requestCount)
        /// The request each message came from (messages skip refused requests).
        var requestOfMessage: [Int] = []
        requestOfMessage.reserveCapacity(requestCount)
        var fanOut = FanOut()
        var route: TopicRoute?
        /// Accepted publishes to `route` not yet added to its counter: one atomic add per run of a
        /// topic, not per message (publishers on every loop add to the same counter).
        var routePublished = 0
        /// The clock, read once per batch and only when a topic of it deduplicates.
        var now: UInt64?
        var deduplicated = 0

        // Requests are read in place, not copied out of the batch: a copy retains every field of a
        // request, and this loop runs per message.
        batch.withUnsafeMutableBufferPointer { requests in
            for index in 0..<requestCount {
                // A refused or duplicate request's payload is dropped too: the batch is taken
                // whole, and a stream session keeps its requests to fill them again.
                var taken = false
                defer {
                    if !taken {
                        requests[index].attributes = [:]
                        requests[index].body = []
                        requests[index].transportCache = nil
                        requests[index].protocolBodies = nil
                    }
                }
                if route?.topic != requests[index].topic {
                    if routePublished > 0 { route?.publishCounter?.add(routePublished) }
                    routePublished = 0
                    switch resolveRoute(requests[index].topic) {
                    case .success(let resolved): route = resolved
                    case .failure(let error):
                        route = nil
                        results.append(.failure(error))
                        continue
                    }
                }
                guard let route else { continue }
                if let problem = Self.topicProblem(
                    groupID: requests[index].groupID, deduplicationID: requests[index].deduplicationID, topic: route.topic) {
                    route.publishCounter?.addRejected()
                    results.append(.failure(problem))
                    continue
                }
                var deduplicationID = requests[index].deduplicationID
                if let deduplicator = route.deduplicator {
                    switch deduplicator.key(for: requests[index], contentHash: contentHash) {
                    case .refused(let error):
                        route.publishCounter?.addRejected()
                        results.append(.failure(error))
                        continue
                    case .none:
                        break
                    case .key(let key):
                        let time = now ?? clock()
                        now = time
                        if let first = deduplicator.admit(key, id: ids[index], now: time) {
                            results.append(.success(first))
                            deduplicated += 1
                            continue
                        }
                        // A FIFO message carries its id downstream (SNS forwards the content hash).
                        if case .messageDeduplicationID = deduplicator.policy.key { deduplicationID = key }
                    }
                }
                let message = Message(
                    id: ids[index], topic: route.topic,
                    attributes: moveOut(&requests[index].attributes, leaving: [:]),
                    body: moveOut(&requests[index].body, leaving: []),
                    groupID: moveOut(&requests[index].groupID, leaving: nil), deduplicationID: deduplicationID,
                    subject: moveOut(&requests[index].subject, leaving: nil),
                    transportCache: moveOut(&requests[index].transportCache, leaving: nil),
                    protocolBodies: moveOut(&requests[index].protocolBodies, leaving: nil))
                results.append(.success(message.id))
                routePublished += 1
                if route.hasTargets {
                    let messageIndex = messages.count
                    let size = message.retainedBytes
                    if route.unfilteredCount > 0 {
                        fanOut.reserve(matches: route.unfilteredCount, messages: requestCount)
                        fanOut.addUnfiltered(route, messageIndex: messageIndex, size: size)
                    }
                    for matcher in route.matchers {
                        let ids = matcher.matches(attributes: message.attributes, body: message.body)
                        fanOut.reserve(matches: ids.count, messages: requestCount)
                        for id in ids {
                            guard let target = route.targets[id] else { continue }  // removed since the build
                            fanOut.add(target, messageIndex: messageIndex, size: size)
                        }
                    }
                }
                messages.append(message)  // last use: moved, not retained again
                requestOfMessage.append(index)
                taken = true
            }
        }
        if routePublished > 0 { route?.publishCounter?.add(routePublished) }

        counters.published.add(messages.count)
        counters.publishRejected.add(requestCount - messages.count - deduplicated)
        counters.publishDeduplicated.add(deduplicated)
        let pending = deliver(fanOut, messages: messages, congestion: &congestion)
        guard !pending.isEmpty else { return results }
        // Some target answered later or refused: map its slice's messages back to requests.
        var waiting = PublishReceipts?.none
        for (receipt, messageIndices) in pending {
            let requests = messageIndices.map { requestOfMessage[$0] }
            switch receipt {
            case .failed(let error):
                for request in requests { results[request] = .failure(.deliveryFailed(error)) }
            case .pending:
                let tracker = waiting ?? PublishReceipts()
                waiting = tracker
                tracker.wait(for: requests)
            case .done:
                break
            }
        }
        if let waiting {
            for case (.pending(let token), let messageIndices) in pending {
                waiting.watch(token, requests: messageIndices.map { requestOfMessage[$0] })
            }
            receipts = waiting
        }
        return results
    }

    /// The topic's current snapshot, creating the topic when auto-create is on.
    private func resolveRoute(_ topic: String) -> Result<TopicRoute, BrokerError> {
        if let route = routes.withLock({ $0[topic] }) { return .success(route) }
        guard options.autoCreateTopics else { return .failure(.topicNotFound(topic: topic)) }
        do throws(BrokerError) {
            try createTopic(topic)
        } catch {
            return .failure(error)
        }
        if let route = routes.withLock({ $0[topic] }) { return .success(route) }
        // Deleted by a concurrent reload between the two looks; treat as absent.
        return .failure(.topicNotFound(topic: topic))
    }

    /// Calls every target of the batch once with its slice, then applies what they reported.
    /// Returns the receipts that were not `.done`, each with its slice's message indices.
    private func deliver(
        _ fanOut: consuming FanOut, messages: [Message], congestion: inout PublishCongestion?
    ) -> [(DeliveryReceipt, [Int])] {
        var effects = DeliveryEffects()
        var notDone: [(DeliveryReceipt, [Int])] = []
        let limits = self.limits
        let (items, groups) = fanOut.grouped()
        for group in groups {
            let slice = DeliverySlice(
                items: items, range: group.range, messages: messages, limits: limits, soleTarget: groups.count == 1)
            let receipt = group.target.accept(slice, effects: &effects)
            if case .done = receipt { continue }
            var indices: [Int] = []
            slice.forEach { item in
                if indices.last != item.message { indices.append(item.message) }
            }
            notDone.append((receipt, indices))
        }
        effects.queueBatch?.commit()
        counters.streamDeliveries.add(effects.streamDeliveries)
        counters.endpointDeliveries.add(effects.endpointDeliveries)
        if !effects.droppedDormant.isEmpty {
            counters.detachedOverflowDrops.add(effects.droppedDormant.count)
            registry.withLock { removeFromTopics(effects.droppedDormant, in: &$0) }
        }
        for slow in effects.slowConsumers {
            slow.session.clearCongestion()
            counters.slowConsumerDisconnects.add(1)
            registry.withLock { reg in
                removeFromTopics(slow.removed, in: &reg)
                if reg.sessions[slow.session.id] === slow.session { reg.sessions.removeValue(forKey: slow.session.id) }
            }
            slow.sink.disconnect(reason: .slowConsumer)
        }
        congestion = effects.backlogged.isEmpty ? nil : PublishCongestion(sessions: effects.backlogged)
        return notDone
    }
}

/// One publish batch's matches, collected in publish order and then grouped per target (one
/// `accept` call each, over a contiguous range). A batch costs two item arrays whatever the number
/// of targets (one when a single target is reached), no allocation per target.
///
/// Why contiguous: a large fan-out batch holds hundreds of thousands of items; a target whose items
/// were chained through the shared array (the earlier layout) took a cache miss per item, and that
/// walk was the biggest cost of a session's delivery.
struct FanOut {
    struct Group {
        let target: any DeliveryTarget
        /// Items of this target; after `grouped()`, where they start in the grouped array.
        var count: Int
        var start = 0

        var range: Range<Int> { start..<(start + count) }
    }

    private var groups: [Group] = []
    /// Matches in the order they were found (publish order), and each one's group.
    private var items: [DeliveryItem] = []
    private var itemGroups: [Int32] = []
    private var groupIndex: [ObjectIdentifier: Int] = [:]
    /// The route whose unfiltered targets `unfilteredRun` lists, as (group, slot, subscription id):
    /// the next message of the same topic reaches the same targets, so it repeats the run without
    /// walking the route's slots or hashing a target per match.
    private var unfilteredRoute: TopicRoute?
    private var unfilteredRun: [(group: Int32, slot: Int, subscriptionID: UInt64)] = []

    /// Sizes the tables from the batch's first matches (assuming later messages match alike), so
    /// they do not regrow match by match. Capped: a guess must not cost much when wrong (65,536
    /// items are 2 MiB of address space, touched only as far as they are used; a cap of 4,096
    /// made a 10→10 batch regrow twice, copying its items each time).
    mutating func reserve(matches: Int, messages: Int) {
        guard matches > 0, items.capacity == 0 else { return }
        let receivers = min(matches, 1_024)
        items.reserveCapacity(min(receivers * messages, 1 << 16))
        itemGroups.reserveCapacity(min(receivers * messages, 1 << 16))
        groups.reserveCapacity(receivers)
        groupIndex.reserveCapacity(receivers)
    }

    mutating func add(_ route: RouteTarget, messageIndex: Int, size: Int) {
        let group: Int
        if let last = groups.indices.last, groups[last].target === route.target {
            group = last  // the common run: skip the hash
        } else if let index = groupIndex[ObjectIdentifier(route.target)] {
            group = index
        } else {
            group = groups.count
            groupIndex[ObjectIdentifier(route.target)] = group
            groups.append(Group(target: route.target, count: 0))
        }
        groups[group].count += 1
        items.append(DeliveryItem(slot: route.slot, subscriptionID: route.subscriptionID, message: messageIndex, size: size))
        itemGroups.append(Int32(truncatingIfNeeded: group))
    }

    /// Every unfiltered target of `route` matches the message.
    mutating func addUnfiltered(_ route: TopicRoute, messageIndex: Int, size: Int) {
        if unfilteredRoute !== route {
            unfilteredRoute = route
            unfilteredRun.removeAll(keepingCapacity: true)
            route.unfiltered.forEach(below: route.unfilteredCount) { target in
                add(target, messageIndex: messageIndex, size: size)
                unfilteredRun.append((itemGroups[itemGroups.count - 1], target.slot, target.subscriptionID))
            }
            return
        }
        // By index, not `for in`: the iterator over this tuple array was not specialized and cost
        // a generic element read per target per message (3.4 % of 1→1 server samples).
        for index in unfilteredRun.indices {
            let entry = unfilteredRun[index]
            groups[Int(entry.group)].count += 1
            items.append(DeliveryItem(slot: entry.slot, subscriptionID: entry.subscriptionID, message: messageIndex, size: size))
            itemGroups.append(entry.group)
        }
    }

    /// The items ordered by target (a stable counting sort: publish order within each target) and
    /// the targets with their ranges in it, in the order they were first reached.
    consuming func grouped() -> (items: [DeliveryItem], groups: [Group]) {
        guard groups.count > 1 else { return (items, groups) }  // one target: already in order
        var next: [Int] = []
        next.reserveCapacity(groups.count)
        var start = 0
        for index in groups.indices {
            groups[index].start = start
            next.append(start)
            start += groups[index].count
        }
        let sorted = [DeliveryItem](unsafeUninitializedCapacity: items.count) { buffer, initialized in
            items.withUnsafeBufferPointer { found in
                itemGroups.withUnsafeBufferPointer { owners in
                    for index in found.indices {
                        let group = Int(owners[index])
                        buffer.initializeElement(at: next[group], to: found[index])
                        next[group] += 1
                    }
                }
            }
            initialized = items.count
        }
        return (sorted, groups)
    }
}
