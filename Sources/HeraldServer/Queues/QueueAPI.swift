import Dispatch
import FilterPolicy
import HeraldBroker
import HeraldConfig
import HeraldCore
import HeraldStore
import Synchronization

/// The queue and topic-subscription actions, in the SQS JSON protocol's request and response
/// shapes, for every front end: the stream protocol's QREQ frames today, the SQS/SNS HTTP APIs
/// next. Authorization: a queue is authorized like a topic of the same name — creating,
/// deleting, purging, configuring and sending need `publish`; receiving, deleting messages and
/// changing visibility need `subscribe`; subscribing a queue to a topic needs `subscribe` on the
/// topic and `publish` on the queue.
///
/// Contract: `handle` may be called from any thread and never blocks; `reply` runs once, on the
/// queue manager's callback queue (a front end hops to its own queue).
public final class QueueAPI: Sendable {
    let manager: QueueManager
    let broker: Broker
    let meta: any MetaStore
    let identity: QueueIdentity
    let md5: @Sendable ([UInt8]) -> String
    /// HTTP/S subscriptions (nil: Subscribe takes queues only).
    let endpoints: HTTPEndpoints?
    /// The config file's subscriptions (set at start and on reload), listed read-only.
    private let declared = Mutex<[HeraldConfig.Subscription]>([])

    public func setDeclaredSubscriptions(_ subscriptions: [HeraldConfig.Subscription]) { declared.withLock { $0 = subscriptions } }
    func declaredSubscriptions() -> [HeraldConfig.Subscription] { declared.withLock { $0 } }

    public convenience init(manager: QueueManager, broker: Broker, meta: any MetaStore, identity: QueueIdentity, md5: @escaping @Sendable ([UInt8]) -> String) {
        self.init(manager: manager, broker: broker, meta: meta, identity: identity, md5: md5, endpoints: nil)
    }

    init(
        manager: QueueManager, broker: Broker, meta: any MetaStore, identity: QueueIdentity, md5: @escaping @Sendable ([UInt8]) -> String,
        endpoints: HTTPEndpoints?
    ) {
        self.manager = manager
        self.broker = broker
        self.meta = meta
        self.identity = identity
        self.md5 = md5
        self.endpoints = endpoints
    }

    public typealias Reply = @Sendable (Result<JSONValue, HeraldError>) -> Void

    public static let maxBatchEntries = 10
    public static let maxBatchBytes = 1_048_576

    /// Returns the long poll of a ReceiveMessage, which a front end cancels when its client goes
    /// away (a parked receive must not take messages nobody will get).
    @discardableResult
    public func handle(action: String, body: [UInt8], principal: Principal, settings: SessionSettings, reply: @escaping Reply) -> LongPoll? {
        do throws(HeraldError) {
            let request = try ActionRequest(body)
            switch action {
            case "CreateQueue": try createQueue(request, principal, reply)
            case "DeleteQueue": try deleteQueue(request, principal, reply)
            case "PurgeQueue": try purgeQueue(request, principal, reply)
            case "ListQueues": listQueues(request, principal, reply)
            case "GetQueueUrl": try getQueueURL(request, principal, reply)
            case "GetQueueAttributes": try getQueueAttributes(request, principal, reply)
            case "SetQueueAttributes": try setQueueAttributes(request, principal, reply)
            case "SendMessage": try sendMessage(request, principal, batch: false, reply)
            case "SendMessageBatch": try sendMessage(request, principal, batch: true, reply)
            case "ReceiveMessage": return try receiveMessage(request, principal, reply)
            case "DeleteMessage": try deleteMessage(request, principal, batch: false, reply)
            case "DeleteMessageBatch": try deleteMessage(request, principal, batch: true, reply)
            case "ChangeMessageVisibility": try changeVisibility(request, principal, batch: false, reply)
            case "ChangeMessageVisibilityBatch": try changeVisibility(request, principal, batch: true, reply)
            case "StartMessageMoveTask": try startMessageMoveTask(request, principal, reply)
            case "Subscribe": try subscribe(request, principal, settings, reply)
            case "Unsubscribe": try unsubscribe(request, principal, reply)
            case "ConfirmSubscription": try confirmSubscription(request, settings, reply)
            case "GetSubscriptionAttributes": try getSubscriptionAttributes(request, principal, reply)
            case "SetSubscriptionAttributes": try setSubscriptionAttributes(request, principal, settings, reply)
            case "ListSubscriptions", "ListSubscriptionsByTopic": try listSubscriptions(request, principal, reply)
            case "ListDeadLetterSourceQueues": try listDeadLetterSourceQueues(request, principal, reply)
            case "TagQueue": try tagQueue(request, principal, untag: false, reply)
            case "UntagQueue": try tagQueue(request, principal, untag: true, reply)
            case "ListQueueTags": try listQueueTags(request, principal, reply)
            case "TagResource": try tagResource(request, principal, untag: false, reply)
            case "UntagResource": try tagResource(request, principal, untag: true, reply)
            case "ListTagsForResource": try listTagsForResource(request, principal, reply)
            default:
                throw HeraldError(.invalidAction, "The action \(action) is not valid for this endpoint.")
            }
        } catch {
            reply(.failure(error))
        }
        return nil
    }

    // MARK: - Queues

    private func authorize(_ principal: Principal, _ action: TopicAction, queue: String) throws(HeraldError) {
        guard principal.permissions.allows(action, topic: queue) else {
            throw HeraldError(.notAuthorized, "\(principal.name) may not \(action == .publish ? "send to or manage" : "receive from") queue \(queue)")
        }
    }

    private func createQueue(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try request.requiredString("QueueName")
        try authorize(principal, .publish, queue: name)
        let attributes = try QueueAttributes(sqsAttributes: try request.stringMap("Attributes"), queueName: name)
        // The JSON model spells CreateQueue's tags `tags`; the query protocol's `Tag.N` arrive as `Tags`.
        var tags = try request.stringMap("tags")
        for (key, value) in try request.stringMap("Tags") { tags[key] = value }
        try Self.checkTags(tags)  // before the queue exists: a refused tag creates nothing
        let url = identity.queueURL(name)
        let arn = identity.queueARN(name)
        let newTags = tags.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        manager.createQueue(name, attributes: attributes) { [self] result in
            let answer = result.map { ActionResponse.object([("QueueUrl", .string(url))]) }
            guard case .success(let created) = answer, !newTags.isEmpty else { return reply(answer) }
            do throws(HeraldError) {
                try changeTags(arn, remove: [], add: newTags) { tagged in
                    reply(tagged.map { _ in created })
                }
            } catch {
                reply(.failure(error))
            }
        }
    }

    private func deleteQueue(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try request.queueName()
        try authorize(principal, .publish, queue: name)
        manager.deleteQueue(name) { reply($0.map { ActionResponse.object([]) }) }
    }

    private func purgeQueue(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try request.queueName()
        try authorize(principal, .publish, queue: name)
        manager.purge(name) { reply($0.map { ActionResponse.object([]) }) }
    }

    private func listQueues(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) {
        let prefix = (try? request.string("QueueNamePrefix")) ?? nil
        let urls = manager.queueNames(prefix: prefix ?? "")
            .filter { !$0.contains("/") }
            .filter { principal.permissions.allows(.publish, topic: $0) || principal.permissions.allows(.subscribe, topic: $0) }
            .map { JSONValue.string(identity.queueURL($0)) }
        reply(.success(ActionResponse.object([("QueueUrls", .array(urls))])))
    }

    /// SQS ListDeadLetterSourceQueues: the queues whose RedrivePolicy names this one.
    private func listDeadLetterSourceQueues(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try request.queueName()
        guard manager.summary(name) != nil else { throw QueueManager.noSuchQueue }
        let urls = manager.queueNames()
            .filter { !$0.contains("/") && manager.summary($0)?.attributes.redrivePolicy?.deadLetterTargetQueue == name }
            .filter { principal.permissions.allows(.publish, topic: $0) || principal.permissions.allows(.subscribe, topic: $0) }
            .map { JSONValue.string(identity.queueURL($0)) }
        reply(.success(ActionResponse.object([("queueUrls", .array(urls))])))
    }

    private func getQueueURL(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try request.requiredString("QueueName")
        guard manager.summary(name) != nil else { throw QueueManager.noSuchQueue }
        reply(.success(ActionResponse.object([("QueueUrl", .string(identity.queueURL(name)))])))
    }

    private func getQueueAttributes(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try request.queueName()
        guard principal.permissions.allows(.publish, topic: name) || principal.permissions.allows(.subscribe, topic: name) else {
            throw HeraldError(.notAuthorized, "\(principal.name) may not read queue \(name)")
        }
        guard let summary = manager.summary(name) else { throw QueueManager.noSuchQueue }
        var all = summary.attributes.sqsAttributes
        all["QueueArn"] = identity.queueARN(name)
        all["ApproximateNumberOfMessages"] = String(summary.visible)
        all["ApproximateNumberOfMessagesNotVisible"] = String(summary.inFlight)
        all["ApproximateNumberOfMessagesDelayed"] = String(summary.delayed)
        all["CreatedTimestamp"] = String(summary.createdAtMillis / 1000)
        all["LastModifiedTimestamp"] = String(summary.createdAtMillis / 1000)
        let wanted = try Self.names(request, "AttributeNames")
        let selected = wanted.contains("All") ? all : all.filter { wanted.contains($0.key) }
        reply(.success(ActionResponse.object([("Attributes", ActionResponse.strings(selected))])))
    }

    private func setQueueAttributes(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try request.queueName()
        try authorize(principal, .publish, queue: name)
        guard let summary = manager.summary(name) else { throw QueueManager.noSuchQueue }
        var merged = summary.attributes.sqsAttributes
        for (key, value) in try request.stringMap("Attributes") { merged[key] = value }
        let attributes = try QueueAttributes(sqsAttributes: merged, queueName: name)
        manager.setAttributes(name, attributes) { reply($0.map { ActionResponse.object([]) }) }
    }

    // MARK: - Messages

    private func sendMessage(_ request: ActionRequest, _ principal: Principal, batch: Bool, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try request.queueName()
        try authorize(principal, .publish, queue: name)
        let entries: [(id: String, request: ActionRequest)]
        if batch {
            entries = try Self.batchEntries(request).map { ($0.id, $0.request) }
        } else {
            entries = [("", request)]
        }
        var sends: [QueueSendRequest] = []
        var total = 0
        for entry in entries {
            let body = try entry.request.requiredString("MessageBody")
            try Self.checkBodyCharacters(body)
            let send = QueueSendRequest(
                body: Array(body.utf8), attributes: try entry.request.messageAttributes(),
                delaySeconds: try entry.request.int("DelaySeconds"), groupID: try entry.request.string("MessageGroupId"),
                deduplicationID: try entry.request.string("MessageDeduplicationId"))
            total += send.body.count
            sends.append(send)
        }
        if batch && total > Self.maxBatchBytes {
            throw HeraldError(.batchRequestTooLong, "Batch requests cannot be longer than \(Self.maxBatchBytes) bytes. You have sent \(total) bytes.")
        }
        let md5 = self.md5
        manager.send(name, sends) { [sends] results in
            if !batch {
                switch results.first {
                case .success(let sent)?:
                    var members: [(String, JSONValue)] = [("MessageId", .string(sent.messageID)), ("MD5OfMessageBody", .string(md5(sends[0].body)))]
                    if !sends[0].attributes.isEmpty {
                        members.append(("MD5OfMessageAttributes", .string(SQSDigest.md5OfMessageAttributes(sends[0].attributes))))
                    }
                    if let sequence = sent.sequenceNumber { members.append(("SequenceNumber", .string(sequence))) }
                    reply(.success(ActionResponse.object(members)))
                case .failure(let error)?: reply(.failure(error))
                case nil: reply(.failure(HeraldError(.internal, "no result for the message")))
                }
                return
            }
            var successful: [JSONValue] = []
            var failed: [JSONValue] = []
            for (index, result) in results.enumerated() {
                switch result {
                case .success(let sent):
                    var members: [(String, JSONValue)] = [
                        ("Id", .string(entries[index].id)), ("MessageId", .string(sent.messageID)),
                        ("MD5OfMessageBody", .string(md5(sends[index].body))),
                    ]
                    if !sends[index].attributes.isEmpty {
                        members.append(("MD5OfMessageAttributes", .string(SQSDigest.md5OfMessageAttributes(sends[index].attributes))))
                    }
                    if let sequence = sent.sequenceNumber { members.append(("SequenceNumber", .string(sequence))) }
                    successful.append(ActionResponse.object(members))
                case .failure(let error): failed.append(ActionResponse.failure(id: entries[index].id, error))
                }
            }
            reply(.success(ActionResponse.object([("Successful", .array(successful)), ("Failed", .array(failed))])))
        }
    }

    private func receiveMessage(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) -> LongPoll {
        let name = try request.queueName()
        try authorize(principal, .subscribe, queue: name)
        let max = try request.int("MaxNumberOfMessages") ?? 1
        guard (1...10).contains(max) else {
            throw HeraldError(.invalidParameterValue, "Value \(max) for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.")
        }
        let wait = try request.int("WaitTimeSeconds")
        if let wait, !(0...20).contains(wait) {
            throw HeraldError(.invalidParameterValue, "Value \(wait) for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.")
        }
        let visibility = try request.int("VisibilityTimeout")
        if let visibility, !(0...43_200).contains(visibility) {
            throw HeraldError(.invalidParameterValue, "Value \(visibility) for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.")
        }
        let systemNames = Set(try Self.names(request, "AttributeNames") + Self.names(request, "MessageSystemAttributeNames"))
        let attributeNames = try Self.names(request, "MessageAttributeNames")
        let md5 = self.md5
        return manager.receive(name, max: max, wait: wait, visibilityTimeout: visibility) { result in
            reply(result.map { messages in
                ActionResponse.object([("Messages", .array(messages.map { Self.render($0, systemNames, attributeNames, md5) }))])
            })
        }
    }

    private static func render(_ message: ReceivedQueueMessage, _ systemNames: Set<String>, _ attributeNames: [String], _ md5: ([UInt8]) -> String) -> JSONValue {
        // System attributes in key order (what `ActionResponse.strings` would sort them into),
        // built per message without a dictionary.
        let all = systemNames.contains("All")
        var system: [JSONValue.Member] = []
        func add(_ key: String, _ value: @autoclosure () -> String?) {
            guard all || systemNames.contains(key), let value = value() else { return }
            system.append(.init(key: key, value: .string(value)))
        }
        if all || !systemNames.isEmpty {
            add("ApproximateFirstReceiveTimestamp", String(message.firstReceiveAtMillis))
            add("ApproximateReceiveCount", String(message.receiveCount))
            add("MessageDeduplicationId", message.deduplicationID)
            add("MessageGroupId", message.groupID)
            add("SenderId", "000000000000")
            add("SentTimestamp", String(message.sentAtMillis))
        }
        var members: [(String, JSONValue)] = [
            ("MessageId", .string(message.messageID)), ("ReceiptHandle", .string(message.receiptHandle)),
            ("MD5OfBody", .string(md5(message.body))), ("Body", .string(String(decoding: message.body, as: UTF8.self))),
        ]
        if !system.isEmpty { members.append(("Attributes", .object(system))) }
        let attributes = message.attributes.filter { name, _ in
            attributeNames.contains { $0 == "All" || $0 == ".*" || $0 == name || ($0.hasSuffix(".*") && name.hasPrefix($0.dropLast(2))) }
        }
        if !attributes.isEmpty {
            members.append(("MD5OfMessageAttributes", .string(SQSDigest.md5OfMessageAttributes(attributes))))
            members.append(("MessageAttributes", ActionResponse.attributes(attributes)))
        }
        return ActionResponse.object(members)
    }

    private func deleteMessage(_ request: ActionRequest, _ principal: Principal, batch: Bool, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try request.queueName()
        try authorize(principal, .subscribe, queue: name)
        let entries: [(id: String, handle: String)]
        if batch {
            var items: [(id: String, handle: String)] = []
            for entry in try Self.batchEntries(request) { items.append((entry.id, try entry.request.requiredString("ReceiptHandle"))) }
            entries = items
        } else {
            entries = [("", try request.requiredString("ReceiptHandle"))]
        }
        manager.delete(name, receiptHandles: entries.map(\.handle)) { results in
            reply(Self.batchReply(results, ids: entries.map(\.id), batch: batch))
        }
    }

    private func changeVisibility(_ request: ActionRequest, _ principal: Principal, batch: Bool, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try request.queueName()
        try authorize(principal, .subscribe, queue: name)
        var ids: [String] = []
        var changes: [(receiptHandle: String, timeout: Int)] = []
        let items = batch ? try Self.batchEntries(request) : [("", request)]
        for (id, entry) in items {
            guard let timeout = try entry.int("VisibilityTimeout") else {
                throw HeraldError(.missingParameter, "The request must contain the parameter VisibilityTimeout.")
            }
            guard (0...43_200).contains(timeout) else {
                throw HeraldError(.invalidParameterValue, "Value \(timeout) for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided.")
            }
            ids.append(id)
            changes.append((try entry.requiredString("ReceiptHandle"), timeout))
        }
        manager.changeVisibility(name, changes) { [ids] results in
            reply(Self.batchReply(results, ids: ids, batch: batch))
        }
    }

    private static func batchReply(_ results: [Result<Void, HeraldError>], ids: [String], batch: Bool) -> Result<JSONValue, HeraldError> {
        guard batch else {
            if case .failure(let error)? = results.first { return .failure(error) }
            return .success(ActionResponse.object([]))
        }
        var successful: [JSONValue] = []
        var failed: [JSONValue] = []
        for (index, result) in results.enumerated() {
            switch result {
            case .success: successful.append(ActionResponse.object([("Id", .string(ids[index]))]))
            case .failure(let error): failed.append(ActionResponse.failure(id: ids[index], error))
            }
        }
        return .success(ActionResponse.object([("Successful", .array(successful)), ("Failed", .array(failed))]))
    }

    private func startMessageMoveTask(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        var sourceText = try request.string("SourceArn")
        if sourceText == nil { sourceText = try request.string("SourceQueueName") }
        guard let source = Self.queueName(arnOrName: sourceText) else {
            if sourceText?.isEmpty == false { throw QueueManager.noSuchQueue }
            throw HeraldError(.missingParameter, "The request must contain the parameter SourceArn.")
        }
        try authorize(principal, .subscribe, queue: source)
        var destinationText = try request.string("DestinationArn")
        if destinationText == nil { destinationText = try request.string("DestinationQueueName") }
        var destination = Self.queueName(arnOrName: destinationText)
        if destination == nil {
            let sources = manager.sourceQueues(of: source)
            guard sources.count == 1 else {
                throw HeraldError(.invalidParameterValue, sources.isEmpty
                    ? "Value \(identity.queueARN(source)) for parameter SourceArn is invalid. Reason: Source queue must be configured as a Dead Letter Queue."
                    : "Queue \(source) is the dead-letter queue of several queues (\(sources.joined(separator: ", "))); name the destination.")
            }
            destination = sources[0]
        }
        guard let destination else { return }
        try authorize(principal, .publish, queue: destination)
        let handle = "redrive-\(source)-\(destination)"
        manager.redrive(from: source, to: destination) { result in
            reply(result.map { moved in
                ActionResponse.object([("TaskHandle", .string(handle)), ("ApproximateNumberOfMessagesMoved", .number(String(moved)))])
            })
        }
    }

    // MARK: - Helpers

    /// Names listed under `key` (`AttributeNames`, `MessageAttributeNames`).
    static func names(_ request: ActionRequest, _ key: String) throws(HeraldError) -> [String] {
        var names: [String] = []
        for value in try request.array(key) ?? [] {
            guard case .string(let name) = value else {
                throw HeraldError(.invalidParameterValue, "Value for parameter \(key) is invalid. Reason: must be a list of strings.")
            }
            names.append(name)
        }
        return names
    }

    /// A batch's `Entries` with SQS's limits on count and ids.
    static func batchEntries(_ request: ActionRequest) throws(HeraldError) -> [(id: String, request: ActionRequest)] {
        let items = try request.array("Entries") ?? []
        guard !items.isEmpty else {
            throw HeraldError(.emptyBatchRequest, "There should be at least one SendMessageBatchRequestEntry in the request.")
        }
        guard items.count <= maxBatchEntries else {
            throw HeraldError(.tooManyEntriesInBatchRequest, "Maximum number of entries per request are \(maxBatchEntries). You have sent \(items.count).")
        }
        var seen = Set<String>()
        var entries: [(id: String, request: ActionRequest)] = []
        for item in items {
            let entry = ActionRequest(json: item)
            let id = try entry.requiredString("Id")
            guard id.utf8.count <= 80, id.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0 | 0x20) }) else {
                throw HeraldError(.invalidBatchEntryId, "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
            }
            guard seen.insert(id).inserted else {
                throw HeraldError(.batchEntryIdsNotDistinct, "Id \(id) repeated.")
            }
            entries.append((id, entry))
        }
        return entries
    }

    /// SQS accepts only XML characters in a body.
    static func checkBodyCharacters(_ body: String) throws(HeraldError) {
        for scalar in body.unicodeScalars {
            let v = scalar.value
            let allowed = v == 0x9 || v == 0xA || v == 0xD || (0x20...0xD7FF).contains(v) || (0xE000...0xFFFD).contains(v) || v >= 0x10000
            if !allowed {
                throw HeraldError(.invalidParameterValue, "Invalid binary character '#x\(String(v, radix: 16, uppercase: true))' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
            }
        }
    }

    /// `arn:aws:sqs:region:account:NAME` or a bare name → the name.
    /// The server's own queues (names with `/`) are never named this way.
    static func queueName(arnOrName: String?) -> String? {
        guard let text = arnOrName, !text.isEmpty else { return nil }
        var name = text
        if text.hasPrefix("arn:"), let last = text.split(separator: ":").last { name = String(last) }
        else if text.contains("/"), let last = text.split(separator: "/").last { name = String(last) }
        return name.contains("/") || name.isEmpty ? nil : name
    }
}
