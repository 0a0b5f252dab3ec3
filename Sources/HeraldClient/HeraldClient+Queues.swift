import HeraldCore
import HeraldWire

// The queue API over QREQ/QRES (docs/PROTOCOL.md §"Queues"). Contract: every call hops onto the
// connection's queue only to send the frame and to record the completion; the QRES JSON is parsed
// on the caller's thread (blocking calls) so a large ReceiveMessage answer never stalls the event
// loop. Blocking calls must not be made from a message handler (they would wait on their own queue).
// A server `ERR <code> <request-id> <text>` becomes `ClientError(code, text)`.
extension HeraldClient {
    /// Sends one action and waits for its answer: the response body as JSON (an empty body reads as
    /// `{}`), or the server's error. Every typed call below goes through here.
    public func queueRequest(action: String, json: [UInt8], timeout: Duration = .seconds(30)) -> Result<JSONValue, ClientError> {
        let waiter = Waiter<[UInt8]>()
        queueRequest(action: action, json: json) { waiter.resolve($0) }
        switch waiter.wait(timeout: timeout) {
        case .success(let bytes)?:
            do {
                return .success(try QueueReply.parse(bytes, action: action))
            } catch {
                return .failure(error)
            }
        case .failure(let error)?: return .failure(error)
        case nil: return .failure(ClientError(code: "Timeout", message: "no answer to \(action) within \(timeout)"))
        }
    }

    /// Sends one action without waiting; `completion` runs on the connection's queue with the raw
    /// QRES JSON bytes or the error (parse them off the queue: `QueueReply.parse`).
    public func queueRequest(action: String, json: [UInt8], completion: @escaping @Sendable (Result<[UInt8], ClientError>) -> Void) {
        connection.execute { [core, connection] in
            core.sendQueueRequest(action: action, json: json, completion: completion, on: connection)
        }
    }

    /// Sends a built request and waits (see `queueRequest(action:json:timeout:)`).
    public func perform(_ request: QueueRequest, timeout: Duration = .seconds(30)) throws(ClientError) -> JSONValue {
        try queueRequest(action: request.action, json: request.json, timeout: timeout).get()
    }

    // MARK: - Queues

    /// Creates a queue (or returns the existing one with the same attributes); returns its URL.
    @discardableResult
    public func createQueue(name: String, attributes: [String: String] = [:], timeout: Duration = .seconds(30)) throws(ClientError) -> String {
        let json = try perform(.createQueue(name: name, attributes: attributes), timeout: timeout)
        return try ResponseReader.requiredString(json, "QueueUrl", context: "CreateQueue")
    }

    public func deleteQueue(name: String, timeout: Duration = .seconds(30)) throws(ClientError) {
        _ = try perform(.deleteQueue(name: name), timeout: timeout)
    }

    public func purgeQueue(name: String, timeout: Duration = .seconds(30)) throws(ClientError) {
        _ = try perform(.purgeQueue(name: name), timeout: timeout)
    }

    /// Queue URLs (their last path component is the queue name: `QueueReply.queueName(fromURL:)`).
    public func listQueues(prefix: String? = nil, timeout: Duration = .seconds(30)) throws(ClientError) -> [String] {
        try QueueReply.queueURLs(try perform(.listQueues(prefix: prefix), timeout: timeout))
    }

    /// Every attribute, including the approximate counts.
    public func queueAttributes(name: String, timeout: Duration = .seconds(30)) throws(ClientError) -> [String: String] {
        let json = try perform(.queueAttributes(name: name), timeout: timeout)
        return try ResponseReader.stringMap(json["Attributes"], context: "Attributes")
    }

    public func setQueueAttributes(name: String, attributes: [String: String], timeout: Duration = .seconds(30)) throws(ClientError) {
        _ = try perform(.setQueueAttributes(name: name, attributes: attributes), timeout: timeout)
    }

    // MARK: - Messages

    public func send(
        queue: String, body: String, attributes: MessageAttributes = [:], delaySeconds: Int? = nil,
        groupID: String? = nil, deduplicationID: String? = nil, timeout: Duration = .seconds(30)
    ) throws(ClientError) -> SentMessage {
        let message = OutgoingMessage(body: body, attributes: attributes, delaySeconds: delaySeconds, groupID: groupID, deduplicationID: deduplicationID)
        return try SentMessage(json: try perform(.send(queue: queue, message: message), timeout: timeout), context: "SendMessage")
    }

    public func sendBatch(queue: String, entries: [OutgoingBatchEntry], timeout: Duration = .seconds(30)) throws(ClientError) -> BatchResult {
        try BatchResult(json: try perform(.sendBatch(queue: queue, entries: entries), timeout: timeout), withMessages: true)
    }

    /// Receives up to `max` messages, long-polling up to `wait` seconds; waits `wait + timeout` in all.
    public func receive(
        queue: String, max: Int = 1, wait: Int? = nil, visibility: Int? = nil, timeout: Duration = .seconds(30)
    ) throws(ClientError) -> [ReceivedMessage] {
        let request = QueueRequest.receive(queue: queue, max: max, waitSeconds: wait, visibilitySeconds: visibility)
        // Without `wait` the queue's own ReceiveMessageWaitTimeSeconds applies: at most SQS's 20 s.
        let longPoll = Duration.seconds(wait ?? 20)
        return try ReceivedMessage.list(try perform(request, timeout: longPoll + timeout))
    }

    public func deleteMessage(queue: String, receiptHandle: String, timeout: Duration = .seconds(30)) throws(ClientError) {
        _ = try perform(.deleteMessage(queue: queue, receiptHandle: receiptHandle), timeout: timeout)
    }

    public func deleteBatch(queue: String, entries: [ReceiptEntry], timeout: Duration = .seconds(30)) throws(ClientError) -> BatchResult {
        try BatchResult(json: try perform(.deleteBatch(queue: queue, entries: entries), timeout: timeout), withMessages: false)
    }

    public func changeVisibility(queue: String, receiptHandle: String, visibility: Int, timeout: Duration = .seconds(30)) throws(ClientError) {
        _ = try perform(.changeVisibility(queue: queue, receiptHandle: receiptHandle, visibilitySeconds: visibility), timeout: timeout)
    }

    public func changeVisibilityBatch(queue: String, entries: [ReceiptEntry], visibility: Int, timeout: Duration = .seconds(30)) throws(ClientError) -> BatchResult {
        try BatchResult(json: try perform(.changeVisibilityBatch(queue: queue, entries: entries, visibilitySeconds: visibility), timeout: timeout), withMessages: false)
    }

    /// Starts moving dead-letter queue `source`'s messages to `destination` (nil: back to their
    /// source queues).
    public func redrive(source: String, destination: String? = nil, timeout: Duration = .seconds(30)) throws(ClientError) -> MoveTask {
        try QueueReply.moveTask(try perform(.redrive(source: source, destination: destination), timeout: timeout))
    }

    // MARK: - Subscriptions

    /// Subscribes queue `queue` to topic `topic`; returns the subscription ARN.
    public func subscribe(
        topic: String, queue: String, filterPolicy: String? = nil, scope: FilterScope? = nil, raw: Bool = false, timeout: Duration = .seconds(30)
    ) throws(ClientError) -> String {
        let json = try perform(.subscribe(topic: topic, queue: queue, filterPolicy: filterPolicy, scope: scope, raw: raw), timeout: timeout)
        return try ResponseReader.requiredString(json, "SubscriptionArn", context: "Subscribe")
    }

    /// An HTTP/S subscription (the scheme of `endpoint` picks the protocol): answers
    /// "pending confirmation" until the endpoint confirms it.
    public func subscribe(
        topic: String, endpoint: String, filterPolicy: String? = nil, scope: FilterScope? = nil, raw: Bool = false,
        deliveryPolicy: String? = nil, redrivePolicy: String? = nil, timeout: Duration = .seconds(30)
    ) throws(ClientError) -> String {
        let proto = endpoint.lowercased().hasPrefix("https://") ? "https" : "http"
        let request = QueueRequest.subscribe(
            topic: topic, protocol: proto, endpoint: endpoint, filterPolicy: filterPolicy, scope: scope, raw: raw,
            deliveryPolicy: deliveryPolicy, redrivePolicy: redrivePolicy)
        return try ResponseReader.requiredString(try perform(request, timeout: timeout), "SubscriptionArn", context: "Subscribe")
    }

    /// SNS GetSubscriptionAttributes (with Herald's delivery counters for HTTP/S subscriptions).
    public func subscriptionAttributes(arn: String, timeout: Duration = .seconds(30)) throws(ClientError) -> [String: String] {
        let json = try perform(.getSubscriptionAttributes(arn: arn), timeout: timeout)
        guard case .object(let members)? = json["Attributes"] else { return [:] }
        var attributes: [String: String] = [:]
        for member in members { if case .string(let value) = member.value { attributes[member.key] = value } }
        return attributes
    }

    public func unsubscribe(arn: String, timeout: Duration = .seconds(30)) throws(ClientError) {
        _ = try perform(.unsubscribe(arn: arn), timeout: timeout)
    }

    public func listSubscriptions(topic: String? = nil, timeout: Duration = .seconds(30)) throws(ClientError) -> [SubscriptionSummary] {
        try QueueReply.subscriptions(try perform(.listSubscriptions(topic: topic), timeout: timeout))
    }
}

/// Reading QRES bodies (pure; used by `HeraldClient` and directly by tests and async callers).
public enum QueueReply {
    /// The response body as a JSON object; an empty body is `{}`.
    public static func parse(_ bytes: [UInt8], action: String) throws(ClientError) -> JSONValue {
        if bytes.isEmpty { return .object([]) }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, limits: JSONParser.Limits(maxDepth: 64))
        } catch {
            throw ResponseReader.invalid("the \(action) answer is not JSON: \(error.description)")
        }
        guard case .object = value else { throw ResponseReader.invalid("the \(action) answer is not a JSON object") }
        return value
    }

    /// `https://host/000000000000/orders` → `orders`; also takes an ARN (`…:orders`) or a bare name.
    public static func queueName(fromURL url: String) -> String {
        if url.hasPrefix("arn:"), let colon = url.lastIndex(of: ":") { return String(url[url.index(after: colon)...]) }
        guard let slash = url.lastIndex(of: "/") else { return url }
        return String(url[url.index(after: slash)...])
    }

    static func queueURLs(_ json: JSONValue) throws(ClientError) -> [String] {
        var urls: [String] = []
        for (index, element) in try ResponseReader.array(json["QueueUrls"], context: "QueueUrls").enumerated() {
            guard case .string(let url) = element else { throw ResponseReader.invalid("QueueUrls[\(index)] must be a string") }
            urls.append(url)
        }
        return urls
    }

    static func moveTask(_ json: JSONValue) throws(ClientError) -> MoveTask {
        MoveTask(
            taskHandle: try ResponseReader.requiredString(json, "TaskHandle", context: "StartMessageMoveTask"),
            approximateNumberOfMessagesMoved: try ResponseReader.optionalInt(json, "ApproximateNumberOfMessagesMoved", context: "StartMessageMoveTask"))
    }

    static func subscriptions(_ json: JSONValue) throws(ClientError) -> [SubscriptionSummary] {
        var list: [SubscriptionSummary] = []
        for (index, element) in try ResponseReader.array(json["Subscriptions"], context: "Subscriptions").enumerated() {
            let context = "Subscriptions[\(index)]"
            list.append(SubscriptionSummary(
                subscriptionArn: try ResponseReader.requiredString(element, "SubscriptionArn", context: context),
                topicArn: try ResponseReader.requiredString(element, "TopicArn", context: context),
                protocolName: try ResponseReader.requiredString(element, "Protocol", context: context),
                endpoint: try ResponseReader.requiredString(element, "Endpoint", context: context)))
        }
        return list
    }
}
