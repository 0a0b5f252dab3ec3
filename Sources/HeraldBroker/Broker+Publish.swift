import HeraldCore
import Synchronization

extension Broker {
    /// Publishes one read batch of one publisher connection. For each request: topic lookup (or
    /// auto-create), one matcher call for every matching subscription, and the message — one value,
    /// one shared payload — handed to each match. Deliveries are grouped so each stream session's
    /// sink is called once for the whole batch and each endpoint gets one call.
    ///
    /// Returns, per request in order, the assigned message id or why it was refused
    /// (`topicNotFound`, `invalidParameter` for a bad name under auto-create or a FIFO topic
    /// without a group id, `tooManyTopics`).
    /// Never blocks on subscribers: a subscriber without credit gets its messages queued, and one
    /// whose queue overflows is disconnected (`DisconnectReason.slowConsumer`).
    public func publish(_ batch: [PublishRequest]) -> [Result<MessageID, BrokerError>] {
        var congestion: PublishCongestion?
        return publish(batch, congestion: &congestion)
    }

    /// `publish(_:)`, also reporting in `congestion` the receivers this batch left backlogged
    /// (nil when none), so the caller can pace itself.
    public func publish(
        _ batch: [PublishRequest], congestion: inout PublishCongestion?
    ) -> [Result<MessageID, BrokerError>] {
        var results: [Result<MessageID, BrokerError>] = []
        guard !batch.isEmpty else { return results }
        results.reserveCapacity(batch.count)
        let ids = messageIDs.next(batch.count)
        var messages: [Message] = []
        messages.reserveCapacity(batch.count)
        var fanOut = FanOut()
        var route: TopicRoute?

        for (index, request) in batch.enumerated() {
            if route?.topic != request.topic {
                switch resolveRoute(request.topic) {
                case .success(let resolved): route = resolved
                case .failure(let error):
                    route = nil
                    results.append(.failure(error))
                    continue
                }
            }
            guard let route else { continue }
            if let problem = Self.topicProblem(request, topic: route.topic) {
                results.append(.failure(problem))
                continue
            }
            let message = Message(
                id: ids[index], topic: route.topic, attributes: request.attributes, body: request.body,
                groupID: request.groupID, deduplicationID: request.deduplicationID,
                encodedAttributes: request.encodedAttributes)
            results.append(.success(message.id))
            if route.hasTargets {
                let messageIndex = messages.count
                let size = message.retainedBytes
                if route.unfilteredCount > 0 {
                    fanOut.reserve(matches: route.unfilteredCount, messages: batch.count)
                    route.unfiltered.forEach(below: route.unfilteredCount) { target in
                        fanOut.add(target, messageIndex: messageIndex, size: size, message: message)
                    }
                }
                for matcher in route.matchers {
                    let ids = matcher.matches(attributes: message.attributes, body: message.body)
                    fanOut.reserve(matches: ids.count, messages: batch.count)
                    for id in ids {
                        guard let target = route.targets[id] else { continue }  // removed since the build
                        fanOut.add(target, messageIndex: messageIndex, size: size, message: message)
                    }
                }
            }
            messages.append(message)  // last use: moved, not retained again
        }

        counters.published.add(messages.count)
        counters.publishRejected.add(batch.count - messages.count)
        let backlogged = deliver(fanOut, messages: messages)
        congestion = backlogged.isEmpty ? nil : PublishCongestion(sessions: backlogged)
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

    /// Returns the sessions left backlogged.
    private func deliver(_ fanOut: FanOut, messages: [Message]) -> [StreamSessionCore] {
        var backlogged: [StreamSessionCore] = []
        var streamDeliveries = 0
        for group in fanOut.sessions {
            let report = group.session.state.withLock {
                $0.deliver(fanOut.items, first: group.first, messages: messages, limits: limits)
            }
            streamDeliveries += report.delivered
            if report.backlogged {
                group.session.congested.store(true, ordering: .relaxed)
                backlogged.append(group.session)
            }
            if !report.droppedDormant.isEmpty {
                counters.detachedOverflowDrops.add(report.droppedDormant.count)
                registry.withLock { removeFromTopics(report.droppedDormant, in: &$0) }
            }
            if let slow = report.slowConsumer {
                group.session.clearCongestion()
                counters.slowConsumerDisconnects.add(1)
                registry.withLock { reg in
                    removeFromTopics(slow.removed, in: &reg)
                    if reg.sessions[group.session.id] === group.session {
                        reg.sessions.removeValue(forKey: group.session.id)
                    }
                }
                slow.sink.disconnect(reason: .slowConsumer)
            }
        }
        counters.streamDeliveries.add(streamDeliveries)

        var endpointDeliveries = 0
        for group in fanOut.endpoints {
            group.subscription.endpoint.deliver(group.messages)
            endpointDeliveries += group.messages.count
        }
        counters.endpointDeliveries.add(endpointDeliveries)
        return backlogged
    }
}

/// One publish batch's matches grouped per receiver: per stream session (one lock, one sink
/// call) and per endpoint subscription (one call). Stream items of all sessions share one array,
/// chained per session, so a batch costs no allocation per session beyond its delivery array.
struct FanOut {
    struct SessionGroup {
        let session: StreamSessionCore
        /// Index of the session's first item in `items`; items chain through `StreamItem.next`.
        let first: Int
        var last: Int
    }

    struct EndpointGroup {
        let subscription: EndpointSubscription
        var messages: [Message]
    }

    private(set) var sessions: [SessionGroup] = []
    private(set) var items: [StreamItem] = []
    private(set) var endpoints: [EndpointGroup] = []
    private var sessionIndex: [ObjectIdentifier: Int] = [:]
    private var endpointIndex: [ObjectIdentifier: Int] = [:]

    /// Sizes the tables from the batch's first matches (assuming later messages match alike), so
    /// they do not regrow match by match. Capped: a guess must not cost much when wrong.
    mutating func reserve(matches: Int, messages: Int) {
        guard matches > 0, items.capacity == 0 else { return }
        let receivers = min(matches, 1_024)
        items.reserveCapacity(min(receivers * messages, 4_096))
        sessions.reserveCapacity(receivers)
        sessionIndex.reserveCapacity(receivers)
    }

    mutating func add(_ target: RouteTarget, messageIndex: Int, size: Int, message: Message) {
        switch target {
        case .stream(let stream):
            let item = StreamItem(
                slot: stream.slot, subscriptionID: stream.subscriptionID, message: messageIndex, size: size)
            let group: Int
            if let last = sessions.indices.last, sessions[last].session === stream.session {
                group = last  // the common run: skip the hash
            } else if let index = sessionIndex[ObjectIdentifier(stream.session)] {
                group = index
            } else {
                sessionIndex[ObjectIdentifier(stream.session)] = sessions.count
                sessions.append(SessionGroup(session: stream.session, first: items.count, last: items.count))
                items.append(item)
                return
            }
            items[sessions[group].last].next = items.count
            sessions[group].last = items.count
            items.append(item)
        case .endpoint(let subscription):
            let key = ObjectIdentifier(subscription)
            if let index = endpointIndex[key] {
                endpoints[index].messages.append(message)
            } else {
                endpointIndex[key] = endpoints.count
                endpoints.append(EndpointGroup(subscription: subscription, messages: [message]))
            }
        }
    }
}
