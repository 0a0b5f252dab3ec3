import HeraldBroker
import HeraldCore
import Synchronization

/// The SNS query API's signed actions (form-encoded POST, XML answers; spec/aws-api.md): topics
/// (CreateTopic, DeleteTopic, ListTopics, Get/SetTopicAttributes) through `TopicAPI`, publishes
/// (Publish, PublishBatch, `MessageStructure=json` too) through `HeraldService` (the stream port's
/// front door: same permissions, same validation, same receipts), subscriptions and tags through
/// `QueueAPI` (the same records as QREQ's). Each answers JSON that this type writes as SNS's XML.
///
/// Contract: `handle` never blocks; `reply` runs once, on any thread, with the XML document or
/// the error.
struct SNSAPI: Sendable {
    typealias Reply = @Sendable (Result<String, HeraldError>) -> Void

    let service: HeraldService
    let queues: QueueAPI?
    let identity: QueueIdentity

    static let actions: Set<String> = [
        "CreateTopic", "DeleteTopic", "ListTopics", "Publish", "PublishBatch", "Subscribe", "ConfirmSubscription", "Unsubscribe",
        "ListSubscriptions", "ListSubscriptionsByTopic", "GetSubscriptionAttributes", "SetSubscriptionAttributes", "GetTopicAttributes",
        "SetTopicAttributes", "TagResource", "UntagResource", "ListTagsForResource",
    ]

    func handle(action: String, parameters: [String: String], principal: Principal, settings: SessionSettings, requestID: String, reply: @escaping Reply) {
        let request = ActionRequest(json: QueryParameters.json(parameters))
        do throws(HeraldError) {
            switch action {
            case _ where TopicAPI.actions.contains(action):
                guard let queues else { throw HeraldError(.shuttingDown, "The topic service is not running.") }
                try TopicAPI(service: service, queues: queues).handle(action: action, request: request, principal: principal, settings: settings) { result in
                    reply(result.map { Self.document(action, result: Self.xml(action, $0), requestID: requestID) })
                }
            case "Publish":
                try publish(request, principal: principal, settings: settings, requestID: requestID, reply: reply)
            case "PublishBatch":
                try publishBatch(request, principal: principal, settings: settings, requestID: requestID, reply: reply)
            default:
                try viaQueueAPI(action, request: request, principal: principal, settings: settings, requestID: requestID, reply: reply)
            }
        } catch {
            reply(.failure(error))
        }
    }

    private func topicName(_ request: ActionRequest) throws(HeraldError) -> String {
        var arn = try request.string("TopicArn")
        if arn == nil { arn = try request.string("TargetArn") }
        guard let arn, arn.hasPrefix("arn:aws:sns:"), let name = arn.split(separator: ":").last, arn.split(separator: ":").count == 6 else {
            throw HeraldError(.invalidParameter, "Invalid parameter: TopicArn")
        }
        return String(name)
    }

    /// SNS Publish: answered once every target holds the message (a durable queue's journal, an
    /// HTTP subscription's queue), as PUBOK is.
    private func publish(_ request: ActionRequest, principal: Principal, settings: SessionSettings, requestID: String, reply: @escaping Reply) throws(HeraldError) {
        let (publishRequest, _) = try prepare(request, topic: try topicName(request), principal: principal, settings: settings)
        var congestion: PublishCongestion?
        var receipts: PublishReceipts?
        let id: MessageID
        switch service.publish([publishRequest], congestion: &congestion, receipts: &receipts).first {
        case .success(let accepted)?: id = accepted
        case .failure(let error)?: throw error
        case nil: throw HeraldError(.invalidParameter, "Invalid parameter: the publish was refused")
        }
        let document = Self.document("Publish", result: "<MessageId>\(id.text)</MessageId>", requestID: requestID)
        guard let receipts, receipts.waitingRequests.contains(0) else { return reply(.success(document)) }
        receipts.whenSettled { settled in
            if let error = settled.first?.error { reply(.failure(error)) } else { reply(.success(document)) }
        }
    }

    /// SNS PublishBatch: 1–10 entries with distinct ids, 256 KiB in all; an entry that does not
    /// validate fails the whole request (as SNS does), one the broker refuses is listed in `Failed`.
    /// Answered once every accepted entry's targets hold it.
    private func publishBatch(_ request: ActionRequest, principal: Principal, settings: SessionSettings, requestID: String, reply: @escaping Reply) throws(HeraldError) {
        let topic = try topicName(request)
        let entries = try request.array("PublishBatchRequestEntries") ?? []
        guard !entries.isEmpty else { throw HeraldError(.emptyBatchRequest, "The batch request doesn't contain any entries.") }
        guard entries.count <= 10 else { throw HeraldError(.tooManyEntriesInBatchRequest, "The batch request contains more entries than permissible.") }
        var ids: [String] = []
        var batch: [PublishRequest] = []
        var totalBytes = 0
        for value in entries {
            let entry = ActionRequest(json: value)
            let id = try entry.requiredString("Id")
            guard id.count <= 80 else { throw HeraldError(.invalidBatchEntryId, "The Id of a batch entry in the batch request is too long: \(id)") }
            guard id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw HeraldError(.invalidBatchEntryId, "The Id of a batch entry in the batch request contains an impermissible character: \(id)")
            }
            guard !ids.contains(id) else { throw HeraldError(.batchEntryIdsNotDistinct, "Two or more batch entries in the request have the same Id.") }
            ids.append(id)
            let (made, bytes) = try prepare(entry, topic: topic, principal: principal, settings: settings)
            totalBytes += bytes
            batch.append(made)
        }
        guard totalBytes <= 262_144 else { throw HeraldError(.batchRequestTooLong, "The length of all the messages put together is more than the limit.") }
        var congestion: PublishCongestion?
        var receipts: PublishReceipts?
        let results = service.publish(batch, congestion: &congestion, receipts: &receipts)
        let entryIDs = ids
        let finish: @Sendable ([Result<MessageID, HeraldError>]) -> Void = { outcomes in
            var successful = "", failed = ""
            for (index, outcome) in outcomes.enumerated() {
                switch outcome {
                case .success(let messageID):
                    successful += "<member><Id>\(SNSQueryHandler.escape(entryIDs[index]))</Id><MessageId>\(messageID.text)</MessageId></member>"
                case .failure(let error):
                    failed += "<member><Id>\(SNSQueryHandler.escape(entryIDs[index]))</Id><Code>\(error.code.rawValue)</Code><Message>\(SNSQueryHandler.escape(error.message))</Message><SenderFault>true</SenderFault></member>"
                }
            }
            reply(.success(Self.document("PublishBatch", result: "<Successful>\(successful)</Successful><Failed>\(failed)</Failed>", requestID: requestID)))
        }
        guard let receipts, !receipts.waitingRequests.isEmpty else { return finish(results) }
        let waiting = BatchWait(results: results, waiting: receipts.waitingRequests)
        receipts.whenSettled { settled in
            if let done = waiting.settle(settled) { finish(done) }
        }
    }

    /// A Publish request or a PublishBatch entry made into a validated publish: Message,
    /// `MessageStructure`, attributes, FIFO fields and Subject, checked as SNS checks them. `bytes`
    /// is what the entry counts toward PublishBatch's 256 KiB (the whole Message and attributes).
    private func prepare(
        _ entry: ActionRequest, topic: String, principal: Principal, settings: SessionSettings
    ) throws(HeraldError) -> (request: PublishRequest, bytes: Int) {
        guard let message = try entry.string("Message") else { throw HeraldError(.invalidParameter, "Invalid parameter: Message") }
        let bodies = try Self.protocolBodies(entry, message: message)
        let attributes = try entry.messageAttributes()
        var bytes = message.utf8.count
        for (name, value) in attributes { bytes += value.sizeInBytes(name: name) }
        let prepared = service.preparePublish(
            topic: topic, attributes: attributes, body: Array(message.utf8), groupID: try entry.string("MessageGroupId"),
            deduplicationID: try entry.string("MessageDeduplicationId"), principal: principal, settings: settings)
        var request: PublishRequest
        switch prepared {
        case .success(let made): request = made
        case .failure(let error): throw error
        }
        request.subject = try Self.subject(entry)
        Self.structure(&request, bodies)
        return (request, bytes)
    }

    /// SNS `MessageStructure`: `json` makes the Message a per-protocol map (`ProtocolBodies`);
    /// nil for a plain message. Checked before the publish is prepared: SNS's texts come first.
    static func protocolBodies(_ request: ActionRequest, message: String) throws(HeraldError) -> ProtocolBodies? {
        guard let structure = try request.string("MessageStructure") else { return nil }
        guard structure == "json" else { throw HeraldError(.invalidParameter, "Invalid parameter: MessageStructure") }
        return try ProtocolBodies.parse(message: message)
    }

    /// A validated publish of a `MessageStructure=json` message: its body becomes the `default`
    /// text (stream subscribers and filter policies see it), the per-protocol texts go with it.
    /// The size limit was checked on the whole JSON, as SNS counts it.
    static func structure(_ request: inout PublishRequest, _ bodies: ProtocolBodies?) {
        guard let bodies else { return }
        request.body = bodies.defaultBody
        request.protocolBodies = bodies
    }

    /// SNS's `Subject`: not empty, under 100 characters, no line breaks or control characters.
    static func subject(_ request: ActionRequest) throws(HeraldError) -> String? {
        guard let subject = try request.string("Subject") else { return nil }
        guard !subject.isEmpty, subject.count < 100, !subject.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw HeraldError(.invalidParameter, "Invalid parameter: Subject")
        }
        return subject
    }

    /// Subscription actions: QueueAPI's JSON answer, written as SNS's XML.
    private func viaQueueAPI(
        _ action: String, request: ActionRequest, principal: Principal, settings: SessionSettings, requestID: String, reply: @escaping Reply
    ) throws(HeraldError) {
        guard let queues else { throw HeraldError(.shuttingDown, "The subscription service is not running.") }
        var body: [UInt8] = []
        request.json.write(to: &body)
        queues.handle(action: action, body: body, principal: principal, settings: settings) { result in
            reply(result.map { Self.document(action, result: Self.xml(action, $0), requestID: requestID) })
        }
    }

    /// The result element's content for a subscription action's JSON answer.
    static func xml(_ action: String, _ json: JSONValue) -> String? {
        func text(_ value: JSONValue?) -> String {
            if case .string(let string)? = value { return SNSQueryHandler.escape(string) }
            return ""
        }
        switch action {
        case "CreateTopic":
            return "<TopicArn>\(text(json["TopicArn"]))</TopicArn>"
        case "ListTopics":
            guard case .array(let items)? = json["Topics"] else { return "<Topics/>" }
            let members = items.map { "<member><TopicArn>\(text($0["TopicArn"]))</TopicArn></member>" }.joined()
            let next = json["NextToken"].map { "<NextToken>\(text($0))</NextToken>" } ?? ""
            return "<Topics>\(members)</Topics>\(next)"
        case "Subscribe", "ConfirmSubscription":
            return "<SubscriptionArn>\(text(json["SubscriptionArn"]))</SubscriptionArn>"
        case "ListSubscriptions", "ListSubscriptionsByTopic":
            guard case .array(let items)? = json["Subscriptions"] else { return "<Subscriptions/>" }
            let members = items.map { item in
                "<member><TopicArn>\(text(item["TopicArn"]))</TopicArn><Protocol>\(text(item["Protocol"]))</Protocol><SubscriptionArn>\(text(item["SubscriptionArn"]))</SubscriptionArn><Owner>\(text(item["Owner"]))</Owner><Endpoint>\(text(item["Endpoint"]))</Endpoint></member>"
            }
            return "<Subscriptions>\(members.joined())</Subscriptions>"
        case "ListTagsForResource":
            guard case .array(let items)? = json["Tags"] else { return "<Tags/>" }
            return "<Tags>\(items.map { "<member><Key>\(text($0["Key"]))</Key><Value>\(text($0["Value"]))</Value></member>" }.joined())</Tags>"
        case "TagResource", "UntagResource":
            return ""
        case "GetSubscriptionAttributes", "GetTopicAttributes":
            guard case .object(let members)? = json["Attributes"] else { return "<Attributes/>" }
            let entries = members.map { "<entry><key>\(SNSQueryHandler.escape($0.key))</key><value>\(text($0.value))</value></entry>" }
            return "<Attributes>\(entries.joined())</Attributes>"
        default:
            return nil
        }
    }

    /// `<ActionResponse xmlns=…><ActionResult>…</ActionResult><ResponseMetadata>…</ResponseMetadata></ActionResponse>`.
    static func document(_ action: String, result: String?, requestID: String) -> String {
        let body = result.map { "<\(action)Result>\($0)</\(action)Result>" } ?? ""
        return "<\(action)Response xmlns=\"\(SNSQueryHandler.namespace)\">\(body)<ResponseMetadata><RequestId>\(requestID)</RequestId></ResponseMetadata></\(action)Response>"
    }
}

/// A publish batch's results while some still wait for their receipts.
private final class BatchWait: Sendable {
    private struct State {
        var results: [Result<MessageID, HeraldError>]
        var waiting: Set<Int>
    }

    private let state: Mutex<State>

    init(results: [Result<MessageID, HeraldError>], waiting: Set<Int>) {
        state = Mutex(State(results: results, waiting: waiting))
    }

    /// Records settled requests; the final results once none waits, else nil.
    func settle(_ settled: [(request: Int, error: HeraldError?)]) -> [Result<MessageID, HeraldError>]? {
        state.withLock { state in
            for item in settled {
                if let error = item.error, item.request < state.results.count { state.results[item.request] = .failure(error) }
                state.waiting.remove(item.request)
            }
            return state.waiting.isEmpty ? state.results : nil
        }
    }
}
