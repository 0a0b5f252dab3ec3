import HeraldBroker
import HeraldCore

/// The two documents a managed consumer exchanges with its endpoint, in Lambda's shapes so that
/// handlers written for Lambda's SQS event source run unchanged: the event Herald POSTs, and the
/// partial-batch answer (`ReportBatchItemFailures`) it reads back. Pure: no I/O, no clock.
enum LambdaSQSEvent {
    /// Where the records say they come from.
    struct Source: Sendable, Hashable {
        var queueARN: String
        var region: String
        /// `SenderId` (Herald has no IAM principals: the account).
        var senderID: String
    }

    /// `{"Records":[…]}`, one record per message in order, fields in the order of AWS's example
    /// event. `attributes` carries the FIFO fields when the message has them (`SequenceNumber`
    /// is not known to a receive and is left out); `md5OfMessageAttributes` appears only with
    /// message attributes.
    static func render(_ messages: [ReceivedQueueMessage], source: Source) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(messages.reduce(64) { $0 + $1.body.count + 600 })
        out.append(contentsOf: #"{"Records":["#.utf8)
        for (index, message) in messages.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            record(message, source: source).write(to: &out)
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

    static func record(_ message: ReceivedQueueMessage, source: Source) -> JSONValue {
        var attributes: [JSONValue.Member] = [
            .init(key: "ApproximateReceiveCount", value: .string(String(message.receiveCount))),
            .init(key: "SentTimestamp", value: .string(String(message.sentAtMillis))),
        ]
        if let group = message.groupID { attributes.append(.init(key: "MessageGroupId", value: .string(group))) }
        attributes.append(.init(key: "SenderId", value: .string(source.senderID)))
        if let dedup = message.deduplicationID { attributes.append(.init(key: "MessageDeduplicationId", value: .string(dedup))) }
        attributes.append(.init(key: "ApproximateFirstReceiveTimestamp", value: .string(String(message.firstReceiveAtMillis))))
        if let origin = message.deadLetterSourceQueue {
            attributes.append(.init(key: "DeadLetterQueueSourceArn", value: .string(origin)))
        }
        var members: [JSONValue.Member] = [
            .init(key: "messageId", value: .string(message.messageID)),
            .init(key: "receiptHandle", value: .string(message.receiptHandle)),
            // Bodies are UTF-8 text (SQS's rule, checked on send); a stray byte becomes U+FFFD.
            .init(key: "body", value: .string(String(decoding: message.body, as: UTF8.self))),
            .init(key: "attributes", value: .object(attributes)),
            .init(key: "messageAttributes", value: messageAttributes(message.attributes)),
        ]
        if !message.attributes.isEmpty {
            members.append(.init(key: "md5OfMessageAttributes", value: .string(SQSDigest.md5OfMessageAttributes(message.attributes))))
        }
        members.append(contentsOf: [
            .init(key: "md5OfBody", value: .string(SQSDigest.md5Hex(message.body))),
            .init(key: "eventSource", value: .string("aws:sqs")),
            .init(key: "eventSourceARN", value: .string(source.queueARN)),
            .init(key: "awsRegion", value: .string(source.region)),
        ])
        return .object(members)
    }

    /// Lambda's `messageAttributes`: per name (sorted), `stringValue` or `binaryValue` (base64),
    /// the always-empty list fields, and `dataType`.
    static func messageAttributes(_ attributes: MessageAttributes) -> JSONValue {
        .object(attributes.keys.sorted().compactMap { name in
            guard let attribute = attributes[name] else { return nil }
            let value: JSONValue.Member
            switch attribute.payload {
            case .string(let text): value = .init(key: "stringValue", value: .string(text))
            case .binary(let bytes): value = .init(key: "binaryValue", value: .string(Base64.encode(bytes)))
            }
            return .init(key: name, value: .object([
                value,
                .init(key: "stringListValues", value: .array([])),
                .init(key: "binaryListValues", value: .array([])),
                .init(key: "dataType", value: .string(attribute.dataType)),
            ]))
        })
    }

    /// What a 2xx answer of an endpoint with `reportBatchItemFailures` on means for its batch.
    enum Answer: Sendable, Hashable {
        /// Delete every message.
        case allSucceeded
        /// Delete every message except these (message ids, a non-empty subset of the batch).
        case failed(Set<String>)
        /// Delete none: the answer did not follow Lambda's rules.
        case malformed(String)
    }

    /// Reads `{"batchItemFailures":[{"itemIdentifier":"<messageId>"},…]}` by Lambda's rules
    /// (Lambda developer guide, "Reporting batch item failures"): an empty body, `null`, `{}`, a
    /// null or empty `batchItemFailures` mean every message succeeded; invalid JSON, an item
    /// without a string `itemIdentifier`, an empty one, or one that names no message of the batch
    /// fail the whole batch. Another JSON shape (a list, a string, `batchItemFailures` not a list)
    /// fails it too: Herald cannot tell what the handler meant.
    static func answer(_ body: [UInt8], batch messageIDs: Set<String>) -> Answer {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return .allSucceeded }
        let value: JSONValue
        do {
            value = try JSONParser.parse(body, limits: JSONParser.Limits(maxDepth: 16, maxBytes: 4 << 20))
        } catch {
            return .malformed("the answer is not JSON: \(error)")
        }
        switch value {
        case .null: return .allSucceeded
        case .object: break
        default: return .malformed("the answer is not a JSON object")
        }
        let failures: [JSONValue]
        switch value["batchItemFailures"] {
        case nil, .null?: return .allSucceeded
        case .array(let items)?: failures = items
        default: return .malformed("batchItemFailures is not a list")
        }
        var failed = Set<String>()
        for item in failures {
            guard case .string(let id)? = item["itemIdentifier"] else {
                return .malformed("a batchItemFailures item has no itemIdentifier string")
            }
            guard !id.isEmpty else { return .malformed("a batchItemFailures item has an empty itemIdentifier") }
            guard messageIDs.contains(id) else { return .malformed("itemIdentifier '\(id.prefix(100))' names no message of the batch") }
            failed.insert(id)
        }
        return failed.isEmpty ? .allSucceeded : .failed(failed)
    }
}
