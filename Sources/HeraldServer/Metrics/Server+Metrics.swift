import HeraldBroker

/// The `/metrics` page: every family Herald exports, read at scrape time from the counters the
/// server, broker, queues and HTTP pumps already keep (relaxed atomics; per-topic and
/// per-subscription families are walked under the registry lock once per scrape), followed by the
/// swift-metrics families of `ServerEventMetrics`. docs/OPERATIONS.md ("Metrics and health")
/// lists every family; keep the two in step.
///
/// Contract: any thread, at scrape rate. Nothing here runs per message.
extension Server {
    /// The Prometheus text exposition of this server, now.
    public func metricsExposition() -> String {
        var out = PrometheusText()
        renderConnections(&out)
        renderBroker(&out)
        renderTopics(&out)
        renderSubscribers(&out)
        renderQueues(&out)
        renderHTTPDeliveries(&out)
        out.append(counters.events.exposition)
        return out.text
    }

    private func renderConnections(_ out: inout PrometheusText) {
        let snapshot = counters.snapshot
        out.single(
            "herald_connections_opened_total", .counter, help: "Stream connections that completed the TLS handshake.",
            snapshot.connectionsOpened)
        out.family("herald_connections_closed_total", .counter, help: "Stream connections closed, by why they ended (handshake failures included).")
        for cause in DisconnectCause.allCases {
            out.sample("herald_connections_closed_total", ["reason": cause.metricLabel], snapshot.disconnects[cause, default: 0])
        }
        // Handshake failures never opened: they are in `closed` but not in `opened`.
        let closedAfterOpening = snapshot.disconnects.reduce(0) { $0 + ($1.key == .handshakeFailed ? 0 : $1.value) }
        out.single(
            "herald_connections_open", .gauge, help: "Stream connections open now.", max(0, snapshot.connectionsOpened - closedAfterOpening))
        out.single("herald_protocol_errors_total", .counter, help: "Protocol errors answered with ERR.", snapshot.protocolErrors)
        out.single(
            "herald_authentication_failures_total", .counter, help: "CONNECTs refused for bad or missing credentials.",
            snapshot.authenticationFailures)
        out.single("herald_heartbeat_timeouts_total", .counter, help: "Connections closed for silence (no PONG, no CONNECT).", snapshot.heartbeatTimeouts)
    }

    private func renderBroker(_ out: inout PrometheusText) {
        let stats = broker.stats
        let gauges = broker.gauges
        out.single("herald_publishes_total", .counter, help: "Messages accepted over all topics.", stats.published)
        out.single(
            "herald_publishes_rejected_total", .counter, help: "Publishes refused over all topics, unknown topics included.", stats.publishRejected)
        out.single(
            "herald_publishes_deduplicated_total", .counter, help: "Publishes confirmed as duplicates and delivered nowhere.",
            stats.publishDeduplicated)
        out.family("herald_deliveries_total", .counter, help: "Messages handed to subscribers, by kind of target.")
        out.sample("herald_deliveries_total", ["target": "stream"], stats.streamDeliveries)
        out.sample("herald_deliveries_total", ["target": "queue"], stats.endpointDeliveries)
        out.family("herald_slow_consumer_disconnects_total", .counter, help: "Stream subscribers cut off for not keeping up, by which bound they passed.")
        out.sample("herald_slow_consumer_disconnects_total", ["reason": "pending_queue"], stats.slowConsumerDisconnects)
        out.sample("herald_slow_consumer_disconnects_total", ["reason": "output_buffer"], UInt64(max(0, counters.snapshot.outputLimitDisconnects)))
        out.family("herald_detached_subscriptions_dropped_total", .counter, help: "Detached stream subscriptions dropped, by why.")
        out.sample("herald_detached_subscriptions_dropped_total", ["reason": "overflow"], stats.detachedOverflowDrops)
        out.sample("herald_detached_subscriptions_dropped_total", ["reason": "expired"], stats.detachedExpired)
        out.single("herald_topics", .gauge, help: "Topics that exist now.", gauges.topics)
        out.single("herald_sessions", .gauge, help: "Stream sessions (attached or waiting to be resumed).", gauges.sessions)
        out.single("herald_sessions_attached", .gauge, help: "Stream sessions with a connection attached.", gauges.attachedSessions)
        out.single("herald_stream_subscriptions", .gauge, help: "Stream subscriptions, attached or detached.", gauges.streamSubscriptions)
        out.single("herald_stream_pending_messages", .gauge, help: "Messages waiting for credit over all stream subscriptions.", gauges.pendingMessages)
        out.single("herald_stream_inflight_messages", .gauge, help: "Messages delivered and not yet acked over all stream subscriptions.", gauges.inFlightMessages)
    }

    private func renderTopics(_ out: inout PrometheusText) {
        let topics = broker.topicMetrics()
        out.family("herald_topic_publishes_total", .counter, help: "Messages accepted on the topic.")
        for topic in topics { out.sample("herald_topic_publishes_total", ["topic": topic.name], topic.published) }
        out.family("herald_topic_publishes_rejected_total", .counter, help: "Publishes the topic's rules refused (FIFO ids, deduplication keys).")
        for topic in topics { out.sample("herald_topic_publishes_rejected_total", ["topic": topic.name], topic.rejected) }
        out.family("herald_topic_subscriptions", .gauge, help: "Subscriptions of every kind on the topic.")
        for topic in topics { out.sample("herald_topic_subscriptions", ["topic": topic.name], topic.subscriptions) }
        out.family(
            "herald_subscription_matched_total", .counter,
            help: "Messages of the topic the named subscription's filter policy let through, since it was installed.")
        for topic in topics {
            for named in topic.namedSubscriptions {
                out.sample("herald_subscription_matched_total", ["topic": topic.name, "subscription": named.name], named.matched)
            }
        }
        out.family(
            "herald_subscription_filtered_out_total", .counter,
            help: "Messages of the topic the named subscription's filter policy kept out, since it was installed.")
        for topic in topics {
            for named in topic.namedSubscriptions {
                out.sample("herald_subscription_filtered_out_total", ["topic": topic.name, "subscription": named.name], named.filteredOut)
            }
        }
    }

    private func renderSubscribers(_ out: inout PrometheusText) {
        let subscribers = broker.streamSubscriberMetrics(limit: Self.reportedSubscribers)
        out.family(
            "herald_subscriber_pending_messages", .gauge,
            help: "Messages waiting for credit, per stream subscription (the \(Self.reportedSubscribers) most backlogged).")
        for subscriber in subscribers {
            out.sample("herald_subscriber_pending_messages", subscriber.labels, subscriber.pending)
        }
        out.family(
            "herald_subscriber_inflight_messages", .gauge,
            help: "Messages delivered and not yet acked, per stream subscription (the same subscriptions).")
        for subscriber in subscribers {
            out.sample("herald_subscriber_inflight_messages", subscriber.labels, subscriber.inFlight)
        }
    }

    /// Stream subscriptions listed one by one in a scrape; the totals cover all of them.
    static let reportedSubscribers = 100

    private func renderQueues(_ out: inout PrometheusText) {
        guard let manager = queueManager else { return }
        let summaries = manager.queueNames().compactMap { manager.summary($0) }
        out.family("herald_queue_messages", .gauge, help: "Messages in the queue, by state (visible, in flight, delayed).")
        for queue in summaries {
            out.sample("herald_queue_messages", ["queue": queue.name, "state": "visible"], queue.visible)
            out.sample("herald_queue_messages", ["queue": queue.name, "state": "inflight"], queue.inFlight)
            out.sample("herald_queue_messages", ["queue": queue.name, "state": "delayed"], queue.delayed)
        }
        if let store = storeStatistics {
            out.single("herald_journal_records_written_total", .counter, help: "Records the queue journal wrote.", store.recordsWritten)
            out.single("herald_journal_bytes_written_total", .counter, help: "Bytes the queue journal wrote.", store.bytesWritten)
            out.single("herald_journal_fdatasyncs_total", .counter, help: "fdatasync calls of the queue journal.", store.fdatasyncs)
        }
    }

    private func renderHTTPDeliveries(_ out: inout PrometheusText) {
        let all = queueStack?.endpoints.allCounters() ?? [:]
        out.family("herald_http_deliveries_total", .counter, help: "HTTP/S subscription delivery outcomes, per subscription.")
        for name in all.keys.sorted() {
            guard let counts = all[name] else { continue }
            out.sample("herald_http_deliveries_total", ["subscription": name, "outcome": "delivered"], counts.delivered)
            out.sample("herald_http_deliveries_total", ["subscription": name, "outcome": "retried"], counts.retried)
            out.sample("herald_http_deliveries_total", ["subscription": name, "outcome": "failed"], counts.failed)
            out.sample("herald_http_deliveries_total", ["subscription": name, "outcome": "dead_lettered"], counts.deadLettered)
        }
    }
}

extension StreamSubscriberMetrics {
    /// `subscription` is the configured name it attached to, else `#ID` (the broker's id).
    var labels: KeyValuePairs<String, String> {
        ["topic": topic, "subscription": name ?? "#\(subscriptionID)", "owner": owner]
    }
}

extension DisconnectCause {
    /// snake_case, as Prometheus label values usually are.
    var metricLabel: String {
        var out = ""
        for character in rawValue {
            if character.isUppercase {
                out += "_" + character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }
}
