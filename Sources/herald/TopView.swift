import Foundation

/// One frame of `herald top`: what an operator looks at first — the server's totals, each topic
/// with its publish rate, each named subscription with what its filter matched and kept out, and
/// the stream subscribers with the biggest backlog. Rates compare this scrape with the previous
/// one (`previous` nil: the first frame shows no rates).
struct TopView {
    var admin: String
    var current: MetricsScrape
    var previous: MetricsScrape?
    /// Seconds between the two scrapes.
    var interval: Double
    /// Rows per table (a terminal has so many lines).
    var maxRows = 15

    func render() -> [String] {
        var lines: [String] = []
        let s = current
        lines.append("herald top — \(admin)/metrics")
        lines.append(
            "connections \(int(s.total("herald_connections_open"))) open · sessions \(int(s.total("herald_sessions"))) · "
                + "topics \(int(s.total("herald_topics"))) · publishes \(int(s.total("herald_publishes_total")))\(rate("herald_publishes_total")) · "
                + "deliveries \(int(s.total("herald_deliveries_total")))\(rate("herald_deliveries_total"))")
        lines.append(
            "rejected \(int(s.total("herald_publishes_rejected_total"))) · slow-consumer disconnects \(int(s.total("herald_slow_consumer_disconnects_total"))) · "
                + "pending \(int(s.total("herald_stream_pending_messages"))) · in flight \(int(s.total("herald_stream_inflight_messages"))) · "
                + "handshake failures \(int(s.total("herald_tls_handshake_failures_total"))) · reloads \(int(s.total("herald_config_reloads_total", ["result": "applied"])))")
        lines.append("")
        lines += topicTable()
        lines.append("")
        lines += subscriptionTable()
        lines.append("")
        lines += consumerTable()
        return lines
    }

    private func topicTable() -> [String] {
        let topics = current.family("herald_topic_publishes_total").compactMap { $0.labels["topic"] }
        var rows = topics.map { topic -> (String, [String]) in
            let key = ["topic": topic]
            let published = current.total("herald_topic_publishes_total", key)
            return (topic, [
                topic, int(published), perSecond("herald_topic_publishes_total", key),
                int(current.total("herald_topic_publishes_rejected_total", key)), int(current.total("herald_topic_subscriptions", key)),
            ])
        }
        // Busiest first.
        rows.sort { lhs, rhs in
            let l = current.total("herald_topic_publishes_total", ["topic": lhs.0]), r = current.total("herald_topic_publishes_total", ["topic": rhs.0])
            return l != r ? l > r : lhs.0 < rhs.0
        }
        return Self.table(["TOPIC", "PUBLISHED", "RATE/s", "REJECTED", "SUBS"], rows.prefix(maxRows).map(\.1), more: rows.count - maxRows)
    }

    private func subscriptionTable() -> [String] {
        let rows = current.family("herald_subscription_matched_total").map { sample -> [String] in
            let key = ["topic": sample.labels["topic"] ?? "", "subscription": sample.labels["subscription"] ?? ""]
            return [
                key["subscription"] ?? "", key["topic"] ?? "", int(sample.value), int(current.total("herald_subscription_filtered_out_total", key)),
                perSecond("herald_subscription_matched_total", key),
            ]
        }
        return Self.table(["SUBSCRIPTION", "TOPIC", "MATCHED", "FILTERED OUT", "MATCH/s"], Array(rows.prefix(maxRows)), more: rows.count - maxRows)
    }

    private func consumerTable() -> [String] {
        let rows = current.family("herald_subscriber_pending_messages").sorted { $0.value > $1.value }.map { sample -> [String] in
            [
                sample.labels["subscription"] ?? "", sample.labels["topic"] ?? "", sample.labels["owner"] ?? "", int(sample.value),
                int(current.total("herald_subscriber_inflight_messages", sample.labels)),
            ]
        }
        return ["SLOWEST CONSUMERS"] + Self.table(["SUBSCRIPTION", "TOPIC", "OWNER", "PENDING", "IN FLIGHT"], Array(rows.prefix(maxRows)), more: rows.count - maxRows)
    }

    private func rate(_ name: String) -> String {
        let text = perSecond(name, [:])
        return text == "-" ? "" : " (\(text)/s)"
    }

    /// The increase per second since the previous scrape, "-" on the first frame.
    private func perSecond(_ name: String, _ labels: [String: String]) -> String {
        guard let previous, interval > 0 else { return "-" }
        let delta = current.total(name, labels) - previous.total(name, labels)
        guard delta.isFinite else { return "-" }
        return String(format: "%.1f", max(0, delta) / interval)
    }

    /// A count as an integer; NaN, infinities and values past Int64 (a server is outside input) as text, never a trap.
    private func int(_ value: Double) -> String {
        guard let exact = Int64(exactly: value.rounded()) else { return value.isNaN ? "NaN" : String(value) }
        return String(exact)
    }

    /// Left-aligned first column(s) of text, right-aligned numbers; `(none)` for an empty table.
    static func table(_ header: [String], _ rows: [[String]], more: Int) -> [String] {
        guard !rows.isEmpty else { return [header.joined(separator: "  "), "(none)"] }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: max(0, widths[index] - cell.count))
                return Double(cell) != nil || cell == "-" ? pad + cell : cell + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var lines = [line(header)] + rows.map(line)
        if more > 0 { lines.append("… \(more) more") }
        return lines
    }
}
