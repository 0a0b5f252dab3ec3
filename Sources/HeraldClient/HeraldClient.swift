import Dispatch
import HeraldCore
import HeraldNet
import HeraldWire
import Synchronization

/// A stream-protocol client (docs/PROTOCOL.md) over TLS. Thread-safe: every call hops onto the
/// connection's serial queue. Blocking calls (`connect`, `publish`, `subscribe`) wait on a
/// semaphore and must not be called from a message handler; `publish(…completion:)` pipelines.
/// Handlers run on the connection's queue, in delivery order.
public final class HeraldClient: Sendable {
    // Internal (not private) so the queue API in `HeraldClient+Queues.swift` can use them.
    let core: ClientCore
    let connection: Connection

    private init(core: ClientCore, connection: Connection) {
        self.core = core
        self.connection = connection
    }

    /// Connects, completes TLS and CONNECT, and returns once the server accepted the client.
    public static func connect(_ options: ClientOptions, group: EventLoopGroup = .shared) throws(ClientError) -> HeraldClient {
        let tls: TLSContext
        do {
            tls = try TLSContext.client(caFile: options.caFile, certificateChainFile: options.certificateFile, privateKeyFile: options.privateKeyFile)
        } catch {
            throw ClientError(code: "TLSConfiguration", message: error.message)
        }
        // The waiter is in place before connecting: CONNOK can arrive before `connect` returns.
        let waiter = Waiter<String>()
        let core = ClientCore(options: options, onConnected: waiter)
        var connectionOptions = ConnectionOptions()
        connectionOptions.handshakeTimeout = options.connectTimeout
        connectionOptions.outputHardLimit = 64 << 20
        let connection: Connection
        do {
            connection = try Connection.connect(
                host: options.host, port: options.port, tls: tls, serverName: options.serverName,
                group: group, options: connectionOptions, makeHandler: { _ in core })
        } catch {
            throw ClientError(code: "ConnectFailed", message: error.message)
        }
        switch waiter.wait(timeout: options.connectTimeout + .seconds(1)) {
        case .success(let session)?:
            core.sessionID = session
            return HeraldClient(core: core, connection: connection)
        case .failure(let error)?:
            connection.execute { connection.close() }
            throw error
        case nil:
            connection.execute { connection.close() }
            throw ClientError(code: "Timeout", message: "no CONNOK within \(options.connectTimeout)")
        }
    }

    /// The session id the server confirmed (reuse it in `ClientOptions.session` to resume).
    public var session: String { core.sessionID ?? "" }

    /// Publishes and waits for the server's confirmation.
    public func publish(
        topic: String, attributes: MessageAttributes = [:], body: [UInt8],
        groupID: String? = nil, deduplicationID: String? = nil, timeout: Duration = .seconds(30)
    ) throws(ClientError) -> MessageID {
        let waiter = Waiter<MessageID>()
        publish(topic: topic, attributes: attributes, body: body, groupID: groupID, deduplicationID: deduplicationID) { waiter.resolve($0) }
        switch waiter.wait(timeout: timeout) {
        case .success(let id)?: return id
        case .failure(let error)?: throw error
        case nil: throw ClientError(code: "Timeout", message: "no PUBOK within \(timeout)")
        }
    }

    /// Publishes without waiting; `completion` runs on the connection's queue with the message id
    /// or the error. Frames queued in one turn of the queue go out in one write.
    public func publish(
        topic: String, attributes: MessageAttributes = [:], body: [UInt8],
        groupID: String? = nil, deduplicationID: String? = nil,
        completion: @escaping @Sendable (Result<MessageID, ClientError>) -> Void
    ) {
        let encoded = attributes.isEmpty ? [] : AttributeCodec.encode(attributes)
        connection.execute { [core, connection] in
            core.sendPublish(topic: topic, attributes: encoded, body: body, groupID: groupID, deduplicationID: deduplicationID, completion: completion, on: connection)
        }
    }

    /// Subscribes and waits for SUBOK. Returns the subscription id. `policy` is SNS filter-policy
    /// JSON (nil: every message); `subscriptionName` attaches to a configuration subscription
    /// instead (its policy comes from the server's config). `credit` bounds messages in flight (ack modes) or the window the
    /// client replenishes as its handler returns (auto).
    public func subscribe(
        topic: String, policy: String? = nil, scope: FilterScope = .messageAttributes,
        ackMode: ClientAckMode = .afterHandler, credit: UInt32 = 1000, sid: UInt64? = nil,
        subscriptionName: String? = nil,
        timeout: Duration = .seconds(30), handler: @escaping @Sendable (ClientDelivery) -> Void
    ) throws(ClientError) -> UInt64 {
        let waiter = Waiter<UInt64>()
        let policyBytes = Array((policy ?? "").utf8)
        connection.execute { [core, connection] in
            let frame = SubscribeFrame(
                sid: sid ?? core.allocateSid(), topic: topic, scope: scope, ackMode: ackMode.wire, credit: credit,
                policy: policyBytes, subscriptionName: subscriptionName)
            core.sendSubscribe(frame, mode: ackMode, credit: credit, handler: handler, waiter: waiter, on: connection)
        }
        switch waiter.wait(timeout: timeout) {
        case .success(let sid)?: return sid
        case .failure(let error)?: throw error
        case nil: throw ClientError(code: "Timeout", message: "no SUBOK within \(timeout)")
        }
    }

    /// Acks a delivery of a `.manual` subscription (sent with the next write, batched).
    public func ack(sid: UInt64, tag: UInt64) {
        connection.execute { [core, connection] in core.queueAck(sid: sid, tag: tag, on: connection) }
    }

    /// Ends a subscription; no MSG for it arrives after this returns.
    public func unsubscribe(sid: UInt64, timeout: Duration = .seconds(30)) throws(ClientError) {
        let waiter = Waiter<UInt64>()
        connection.execute { [core, connection] in core.sendUnsubscribe(sid: sid, waiter: waiter, on: connection) }
        switch waiter.wait(timeout: timeout) {
        case .success?: return
        case .failure(let error)?: throw error
        case nil: throw ClientError(code: "Timeout", message: "no UNSUBOK within \(timeout)")
        }
    }

    /// Called once when the connection ends (with the reason), on the connection's queue.
    public func onClose(_ handler: @escaping @Sendable (String) -> Void) {
        connection.execute { [core] in core.setCloseHandler(handler) }
    }

    /// Errors the server reports for no pending call (e.g. a slow-consumer disconnect).
    public func onError(_ handler: @escaping @Sendable (ClientError) -> Void) {
        connection.execute { [core] in core.errorHandler = handler }
    }

    /// Closes the connection (pending output gets one best-effort send).
    public func close() {
        connection.execute { [connection] in connection.close() }
    }

    /// Waits until the connection is closed (or `timeout` passes); true when it closed.
    @discardableResult
    public func waitUntilClosed(timeout: Duration) -> Bool {
        core.closed.wait(timeout: timeout) != nil
    }
}

/// A one-shot result a blocking caller waits for.
final class Waiter<Value: Sendable>: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<Value, ClientError>?>(nil)

    func resolve(_ value: Result<Value, ClientError>) {
        let first = result.withLock { stored in
            guard stored == nil else { return false }
            stored = value
            return true
        }
        if first { semaphore.signal() }
    }

    func wait(timeout: Duration) -> Result<Value, ClientError>? {
        let nanos = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        guard semaphore.wait(timeout: .now() + .nanoseconds(Int(nanos))) == .success else { return nil }
        semaphore.signal()  // later waiters see the result too
        return result.withLock { $0 }
    }
}
