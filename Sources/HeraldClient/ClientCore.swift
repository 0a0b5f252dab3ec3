import HeraldCore
import HeraldNet
import HeraldWire

/// The client's connection state, confined to the connection's queue (the `@unchecked Sendable`
/// promise: `HeraldClient` only touches it through `connection.execute`, and the connection calls
/// its handler methods on that queue). Outgoing frames are appended to `out` and written once per
/// turn of the queue.
final class ClientCore: ConnectionHandler, @unchecked Sendable {
    private let options: ClientOptions
    private var decoder = ServerFrameDecoder()
    private var out: [UInt8] = []
    private var nextRequestID: UInt64 = 1
    private var nextSid: UInt64 = 1
    private var inReadBatch = false
    private var flushScheduled = false

    var onConnected: Waiter<String>?
    /// Set once CONNOK arrived (read by `HeraldClient.session` after `connect` returned).
    nonisolated(unsafe) var sessionID: String?
    var errorHandler: (@Sendable (ClientError) -> Void)?
    private var closeHandler: (@Sendable (String) -> Void)?
    private var closeReason: String?
    let closed = Waiter<Void>()

    private var publishCompletions: [UInt64: @Sendable (Result<MessageID, ClientError>) -> Void] = [:]
    /// QREQ replies by request id (PUB and QREQ share `nextRequestID`); QRES may come in any order.
    private var queueCompletions: [UInt64: @Sendable (Result<[UInt8], ClientError>) -> Void] = [:]
    /// The server's INFO `max_queue_request`: a larger QREQ is refused here instead of being a fatal
    /// FrameTooLarge on the server.
    private var maxQueueRequest = WireLimits.default.maxQueueRequest
    private var subscribeWaiters: [UInt64: Waiter<UInt64>] = [:]
    private var unsubscribeWaiters: [UInt64: Waiter<UInt64>] = [:]

    private struct Subscription {
        var mode: ClientAckMode
        var handler: @Sendable (ClientDelivery) -> Void
        /// Auto mode: messages handled since the last CREDIT frame.
        var processed: UInt32 = 0
        var creditWindow: UInt32
    }
    private var subscriptions: [UInt64: Subscription] = [:]
    private var pendingAcks: [UInt64: [UInt64]] = [:]

    init(options: ClientOptions, onConnected: Waiter<String>) {
        self.options = options
        self.onConnected = onConnected
    }

    func allocateSid() -> UInt64 {
        defer { nextSid += 1 }
        return nextSid
    }

    // MARK: - Requests (on the queue)

    func sendPublish(
        topic: String, attributes: [UInt8], body: [UInt8], groupID: String?, deduplicationID: String?,
        completion: @escaping @Sendable (Result<MessageID, ClientError>) -> Void, on connection: Connection
    ) {
        guard closeReason == nil else { return completion(.failure(closedError)) }
        let id = nextRequestID
        nextRequestID += 1
        publishCompletions[id] = completion
        FrameEncoder.appendPublish(topic: topic, requestID: id, attributes: attributes, body: body, groupID: groupID, deduplicationID: deduplicationID, to: &out)
        flushSoon(connection)
    }

    /// Sends `QREQ`; `completion` runs on the connection's queue with the QRES JSON bytes, or the
    /// `ERR` (code and text) the server answered for this request id, or the close.
    func sendQueueRequest(
        action: String, json: [UInt8], completion: @escaping @Sendable (Result<[UInt8], ClientError>) -> Void, on connection: Connection
    ) {
        guard closeReason == nil else { return completion(.failure(closedError)) }
        guard QueueAction.isValid(action) else {
            return completion(.failure(ClientError(code: "InvalidAction", message: "action '\(action)' is not 1-64 ASCII letters and digits")))
        }
        guard json.count <= maxQueueRequest else {
            return completion(.failure(ClientError(
                code: "RequestTooLarge", message: "the \(action) request (\(json.count) bytes) exceeds the server's limit of \(maxQueueRequest) bytes")))
        }
        let id = nextRequestID
        nextRequestID += 1
        queueCompletions[id] = completion
        FrameEncoder.appendQueueRequest(requestID: id, action: action, json: json, to: &out)
        flushSoon(connection)
    }

    func sendSubscribe(
        _ frame: SubscribeFrame, mode: ClientAckMode, credit: UInt32,
        handler: @escaping @Sendable (ClientDelivery) -> Void, waiter: Waiter<UInt64>, on connection: Connection
    ) {
        guard closeReason == nil else { return waiter.resolve(.failure(closedError)) }
        subscriptions[frame.sid] = Subscription(mode: mode, handler: handler, creditWindow: credit)
        subscribeWaiters[frame.sid] = waiter
        FrameEncoder.append(ClientFrame.subscribe(frame), to: &out)
        flushSoon(connection)
    }

    func sendUnsubscribe(sid: UInt64, waiter: Waiter<UInt64>, on connection: Connection) {
        guard closeReason == nil else { return waiter.resolve(.failure(closedError)) }
        unsubscribeWaiters[sid] = waiter
        FrameEncoder.append(ClientFrame.unsubscribe(sid: sid), to: &out)
        flushSoon(connection)
    }

    func queueAck(sid: UInt64, tag: UInt64, on connection: Connection) {
        pendingAcks[sid, default: []].append(tag)
        flushSoon(connection)
    }

    func setCloseHandler(_ handler: @escaping @Sendable (String) -> Void) {
        if let closeReason { handler(closeReason) } else { closeHandler = handler }
    }

    private var closedError: ClientError {
        ClientError(code: "ConnectionClosed", message: closeReason ?? "the connection is closed")
    }

    // MARK: - ConnectionHandler

    func connectionDidOpen(_ connection: Connection) {
        let connect = ConnectOptions(token: options.token, clientName: options.clientName, session: options.session)
        FrameEncoder.append(ClientFrame.connect(connect), to: &out)
        flush(connection)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        inReadBatch = true
        decoder.append(bytes)
        while true {
            let frame: ServerFrame?
            do {
                frame = try decoder.next()
            } catch {
                connection.close(.protocolError("bad frame from server: \(error.message)"))
                return
            }
            guard let frame else { break }
            handle(frame, connection)
        }
    }

    func connectionDidFinishReadBatch(_ connection: Connection) {
        inReadBatch = false
        appendAcksAndCredit()
        flush(connection)
    }

    func connectionDidClose(_ connection: Connection, reason: CloseReason) {
        let text = reason.description
        closeReason = text
        let error = ClientError(code: "ConnectionClosed", message: text)
        onConnected?.resolve(.failure(error))
        for completion in publishCompletions.values { completion(.failure(error)) }
        for completion in queueCompletions.values { completion(.failure(error)) }
        queueCompletions.removeAll()
        for waiter in subscribeWaiters.values { waiter.resolve(.failure(error)) }
        for waiter in unsubscribeWaiters.values { waiter.resolve(.failure(error)) }
        publishCompletions.removeAll()
        subscribeWaiters.removeAll()
        unsubscribeWaiters.removeAll()
        subscriptions.removeAll()
        closeHandler?(text)
        closeHandler = nil
        closed.resolve(.success(()))
    }

    // MARK: - Frames from the server

    private func handle(_ frame: ServerFrame, _ connection: Connection) {
        switch frame {
        case .info(let info):
            maxQueueRequest = info.limits.maxQueueRequest
        case .connected(let accepted):
            onConnected?.resolve(.success(accepted.session))
            onConnected = nil
        case .published(let requestID, let messageID):
            publishCompletions.removeValue(forKey: requestID)?(.success(messageID))
        case .subscribed(let sid):
            subscribeWaiters.removeValue(forKey: sid)?.resolve(.success(sid))
        case .unsubscribed(let sid):
            subscriptions.removeValue(forKey: sid)
            unsubscribeWaiters.removeValue(forKey: sid)?.resolve(.success(sid))
        case .message(let delivery):
            deliver(delivery)
        case .queueResponse(let response):
            queueCompletions.removeValue(forKey: response.requestID)?(.success(response.json))
        case .error(let error):
            handleError(error, connection)
        case .ping:
            FrameEncoder.append(ClientFrame.pong, to: &out)
        case .pong:
            break
        }
    }

    private func deliver(_ frame: DeliveryFrame) {
        guard var subscription = subscriptions[frame.sid] else { return }
        let attributes = (try? AttributeCodec.decode(frame.attributes)) ?? [:]
        subscription.handler(ClientDelivery(
            sid: frame.sid, deliveryTag: frame.deliveryTag, topic: frame.topic, messageID: frame.messageID,
            attributes: attributes, body: frame.body, redelivered: frame.redelivered, groupID: frame.groupID))
        switch subscription.mode {
        case .auto:
            subscription.processed += 1
            subscriptions[frame.sid] = subscription
        case .afterHandler:
            pendingAcks[frame.sid, default: []].append(frame.deliveryTag)
        case .manual:
            break
        }
    }

    private func handleError(_ frame: ErrorFrame, _ connection: Connection) {
        let error = ClientError(frame)
        switch frame.reference {
        case .request(let id):
            if let completion = publishCompletions.removeValue(forKey: id) { return completion(.failure(error)) }
            if let completion = queueCompletions.removeValue(forKey: id) { return completion(.failure(error)) }
        case .subscription(let sid):
            if let waiter = subscribeWaiters.removeValue(forKey: sid) {
                subscriptions.removeValue(forKey: sid)
                return waiter.resolve(.failure(error))
            }
            if let waiter = unsubscribeWaiters.removeValue(forKey: sid) { return waiter.resolve(.failure(error)) }
        case .none:
            if let waiter = onConnected {
                onConnected = nil
                return waiter.resolve(.failure(error))
            }
        }
        errorHandler?(error)
    }

    // MARK: - Output

    /// Acks go out as ranges of consecutive tags; auto-mode subscriptions return the credit their
    /// handler used.
    private func appendAcksAndCredit() {
        for (sid, tags) in pendingAcks where !tags.isEmpty {
            FrameEncoder.appendAck(sid: sid, tags: Self.ranges(tags), to: &out)
        }
        pendingAcks.removeAll(keepingCapacity: true)
        for (sid, var subscription) in subscriptions where subscription.mode == .auto && subscription.processed > 0 {
            FrameEncoder.append(ClientFrame.credit(sid: sid, count: subscription.processed), to: &out)
            subscription.processed = 0
            subscriptions[sid] = subscription
        }
    }

    static func ranges(_ tags: [UInt64]) -> [ClosedRange<UInt64>] {
        var result: [ClosedRange<UInt64>] = []
        for tag in tags.sorted() {
            if let last = result.last, last.upperBound &+ 1 == tag {
                result[result.count - 1] = last.lowerBound...tag
            } else if result.last?.contains(tag) != true {
                result.append(tag...tag)
            }
        }
        return result
    }

    /// Inside a read batch the connection flushes when the batch ends; otherwise one flush is
    /// queued behind the work already on the queue, so a burst of calls becomes one write.
    private func flushSoon(_ connection: Connection) {
        guard !inReadBatch, !flushScheduled else { return }
        flushScheduled = true
        connection.execute { [self] in
            flushScheduled = false
            appendAcksAndCredit()
            flush(connection)
        }
    }

    private func flush(_ connection: Connection) {
        guard !out.isEmpty else { return }
        _ = connection.write(out)
        out.removeAll(keepingCapacity: true)
        connection.flush()
    }
}
