import Dispatch
import Foundation
import FilterPolicy
import HeraldBroker
import HeraldConfig
import HeraldCore
import HeraldNet
import HeraldStore
import HeraldWire
import Synchronization

/// The composition root: turns a `HeraldConfig` into a running broker with TLS listeners, and
/// applies reloads. Listeners are opened by `start()`; `reload(_:)` swaps settings, users, topics
/// and named subscriptions without touching connections.
public final class Server: Sendable {
    public let broker: Broker
    public let counters = ServerCounters()
    private let context: SessionContext
    /// The protocol-neutral front door every listener's sessions call.
    public let service: HeraldService
    private let group: EventLoopGroup
    private let state: Mutex<State>
    private let log: @Sendable (String) -> Void
    /// The operator log (Logging/): the start-up line here, connection events from the sessions.
    public var events: ServerEventLog { context.events }
    /// Managed queue consumers (Consumers/Server+Consumers.swift).
    let consumers = ManagedConsumers()
    /// `/metrics`, `/healthz`, `/readyz` (`admin:`; Metrics/AdminEndpoint.swift).
    public let admin = AdminEndpoint()

    private struct State {
        var config: HeraldConfig
        var listeners: [Listener] = []
        var expiryRunning = false
        var queues: QueueStack?
        /// The AWS-compatible HTTP API (`http:`), when configured.
        var httpAPI: HTTPAPIListener?
    }
    /// Drop damaged journal records at start instead of refusing to start (`herald serve --repair`).
    private let repair: Bool
    /// The journal's file layer (tests inject full disks and I/O errors).
    private let journalFiles: any JournalFileSystem

    public init(
        config: HeraldConfig, group: EventLoopGroup = .shared, repair: Bool = false,
        journalFiles: any JournalFileSystem = PosixFileSystem(), log: @escaping @Sendable (String) -> Void = { _ in },
        events: ServerEventLog = .disabled
    ) {
        self.repair = repair
        self.journalFiles = journalFiles
        var options = BrokerOptions()
        options.autoCreateTopics = config.autoCreateTopics
        options.limits.maxSubscriptionsPerSession = config.limits.maxSubscriptionsPerConnection
        options.limits.maxSubscriptionsPerTopic = config.limits.maxSubscriptionsPerTopic
        options.limits.maxSubscriptions = config.limits.maxSubscriptions
        options.limits.maxPendingMessages = config.limits.maxPendingMessagesPerSubscriber
        options.limits.resumeWindowNanoseconds = UInt64(config.sessions.resumeWindow.components.seconds) * 1_000_000_000
        self.broker = Broker(options: options, matcherFactory: CompiledMatcherFactory())
        self.context = SessionContext(broker: broker, settings: Self.settings(for: config), counters: counters, events: events)
        self.service = HeraldService(context: context)
        self.group = group
        self.state = Mutex(State(config: config))
        self.log = log
    }

    /// Opens every configured listener and applies the configured topics. Throws (with nothing
    /// left open) when a TLS file cannot be loaded or an address cannot be bound.
    public func start() throws(ServerError) {
        let config = state.withLock { $0.config }
        // Admin first: /readyz answers 503 until everything below is open.
        try admin.open(config.admin, group: group) { [weak self] in self?.metricsExposition() ?? "" }
        var started = false
        defer { if !started { admin.close() } }
        // The HTTP API is bound first: queue URLs, SubscribeURLs and SigningCertURL name its public
        // URL with the port actually bound. Its handler finds the queue stack when it is open.
        var httpAPI: HTTPAPIListener?
        if let spec = config.http {
            httpAPI = try HTTPAPIListener.open(spec, handler: makeSQSJSONHandler(loopbackOnly: APIAccess.isLoopback(spec.listen.host)), group: group)
        }
        let queues: QueueStack
        do {
            queues = try QueueStack.open(
                config: config, broker: broker, repair: repair, files: journalFiles, baseURL: httpAPI?.publicURL, log: log)
        } catch {
            httpAPI?.close()
            throw error
        }
        state.withLock { $0.queues = queues }
        context.queues.withLock { $0 = queues.api }
        do {
            try broker.applyConfiguration(Self.topics(for: config, queues: queues.manager, routed: queues.endpoints.isRouted))
        } catch {
            throw ServerError("configuration rejected by the broker: \(error.message)")
        }
        for problem in queues.api.restoreSubscriptions(filterLimits: config.limits.filterPolicy) {
            log("skipped a stored subscription: \(problem)")
        }
        // A config subscription its endpoint confirms is routed from the next message.
        queues.endpoints.setOnConfigConfirmed { [weak self] in self?.rerouteConfiguredTopics() }
        queues.endpoints.apply(config)
        queues.api.setDeclaredSubscriptions(config.subscriptions)
        var opened: [Listener] = []
        for spec in config.listeners {
            do {
                let listener = try makeListener(spec, timeouts: config.timeouts)
                opened.append(listener)
            } catch {
                for listener in opened { listener.close() }
                httpAPI?.close()
                throw ServerError("listener \(spec.address): \(error.message)")
            }
        }
        if let api = httpAPI {
            state.withLock { $0.httpAPI = api }
        }
        state.withLock { $0.listeners = opened }
        scheduleExpiry()
        try startConsumers(config, log: log)
        started = true
        admin.setReady(true)
        events.report(startedEvent(config, listeners: opened, httpAPI: httpAPI))
    }

    /// The bound address of each listener, in configuration order (port 0 resolves here).
    public var listenAddresses: [SocketAddress] { state.withLock { $0.listeners.map(\.localAddress) } }

    /// Applies a new configuration: users, permissions, limits, topics and named subscriptions'
    /// policies take effect for the next frame or message. Listener changes need a restart and are
    /// reported. Throws (keeping the running configuration) when the broker rejects it.
    @discardableResult
    public func reload(_ config: HeraldConfig) throws(ServerError) -> [String] {
        var applied = false
        defer { counters.events.countReload(applied: applied) }
        let (old, queues) = state.withLock { ($0.config, $0.queues) }
        if let queues {
            try QueueStack.declare(config.queues, in: queues.manager, identity: queues.api.identity)
            try QueueStack.declareSubscriptionQueues(config.subscriptions, in: queues.manager)
            try queues.endpoints.declareQueues(config.subscriptions)
        }
        do {
            try broker.applyConfiguration(Self.topics(for: config, queues: queues?.manager, routed: { queues?.endpoints.isRouted($0) ?? false }))
        } catch {
            throw ServerError("reload rejected: \(error.message)")
        }
        queues?.endpoints.apply(config)
        queues?.api.setDeclaredSubscriptions(config.subscriptions)
        let settings = Self.settings(for: config)
        context.replaceSettings(settings)
        // Configuration subscriptions route through their queues: the new policy applies to the next message.
        var notes = config.changesNeedingRestart(from: old)
        notes += consumers.apply(config.consumers)
        for subscription in config.subscriptions {
            guard let before = old.subscriptions.first(where: { $0.name == subscription.name }), before.filterPolicy != subscription.filterPolicy else { continue }
            notes.append("subscription \(subscription.name): new filter policy from the next message")
        }
        state.withLock { $0.config = config }
        applied = true
        return notes
    }

    /// Closes the listeners (open connections finish on their own).
    public func stop() {
        admin.setReady(false)
        let (listeners, httpAPI) = state.withLock { s in
            defer { (s.listeners, s.httpAPI) = ([], nil) }
            return (s.listeners, s.httpAPI)
        }
        for listener in listeners { listener.close() }
        httpAPI?.close()
        consumers.stop()
        queueStack?.endpoints.stopAll()
        admin.close()
    }

    /// Re-applies the configured topics and HTTP/S pumps (a config-declared HTTP/S subscription was confirmed).
    private func rerouteConfiguredTopics() {
        let (config, queues) = state.withLock { ($0.config, $0.queues) }
        guard let queues else { return }
        do {
            try broker.applyConfiguration(Self.topics(for: config, queues: queues.manager, routed: queues.endpoints.isRouted))
        } catch {
            log("re-routing after a confirmation failed: \(error.message)")
        }
        queues.endpoints.apply(config)  // starts the confirmed subscription's pump
    }

    /// The HTTP API's bound port (after `start`, when `http:` is configured).
    public var httpAPIPort: Int? { state.withLock { $0.httpAPI?.port } }

    private func makeSQSJSONHandler(loopbackOnly: Bool) -> SQSJSONHandler {
        let context = self.context
        return SQSJSONHandler(SQSJSONHandler.Dependencies(
            queues: { context.queues.withLock { $0 } }, settings: { context.settings },
            auth: { [weak self] in self?.configuration.auth ?? HeraldConfig.Auth() },
            signingCertificate: { [weak self] in self?.queueStack?.signer.certificatePEM },
            loopbackOnly: loopbackOnly, endpoints: { [weak self] in self?.queueStack?.endpoints }, service: service))
    }

    public var configuration: HeraldConfig { state.withLock { $0.config } }

    /// The queue manager (after `start`).
    public var queueManager: QueueManager? { state.withLock { $0.queues?.manager } }

    /// The durable store (after `start`): read by `storeStatistics` (Server+StoreStatistics.swift).
    var queueStack: QueueStack? { state.withLock { $0.queues } }

    /// Closes the store (tests that reopen a data directory in one process).
    public func closeStore() {
        state.withLock { state in
            state.queues?.store.close()
            state.queues?.lock?.release()
        }
    }

    // MARK: - Pieces

    private func makeListener(_ spec: HeraldConfig.Listener, timeouts: HeraldConfig.Timeouts) throws(NetError) -> Listener {
        let policy: TLSContext.ClientCertificatePolicy
        switch spec.tls.clientAuth {
        case .none: policy = .none
        case .optional: policy = .optional
        case .required: policy = .required
        }
        let tls = try TLSContext.server(
            certificateChainFile: spec.tls.certificateFile, privateKeyFile: spec.tls.privateKeyFile,
            clientCAFile: spec.tls.clientCAFile, clientCertificates: policy)
        var options = ConnectionOptions()
        options.handshakeTimeout = timeouts.handshake
        let service = self.service
        return try Listener(host: spec.address.host, port: Int(spec.address.port), tls: tls, group: group, options: options) { connection in
            ServerSession(connection: connection, service: service)
        }
    }

    /// Housekeeping off the connections' queues, on a thread of its own at a lower CPU priority
    /// (nice +10), so on a busy machine it takes what the event loops leave: churned topics'
    /// matcher tiers are compacted every 250 ms (subscribers never wait for a big matcher build),
    /// and detached sessions expire every second, so a client that never returns frees its messages.
    private func scheduleExpiry() {
        let start = state.withLock { s in
            defer { s.expiryRunning = true }
            return !s.expiryRunning
        }
        guard start else { return }
        let broker = self.broker
        let queues = state.withLock { $0.queues?.manager }
        let thread = Thread {
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            var ticks = 0
            while true {
                usleep(250_000)
                ticks += 1
                broker.compactRoutes()
                if ticks % 4 == 0 {
                    broker.expireDetached(now: SessionContext.now())
                    queues?.expireAll()
                }
                if ticks % 20 == 0 { queues?.compact() }
            }
        }
        thread.name = "herald.housekeeping"
        thread.start()
    }

    static func settings(for config: HeraldConfig) -> SessionSettings {
        var wire = WireLimits.default
        wire.maxPayloadBytes = max(wire.maxPayloadBytes, config.limits.message.maxMessageBytes + 65_536)
        wire.maxPolicyBytes = max(wire.maxPolicyBytes, config.limits.filterPolicy.maxPolicyBytes)
        var named: [String: NamedSubscription] = [:]
        for subscription in config.subscriptions where subscription.protocol == .stream {
            named[subscription.name] = NamedSubscription(name: subscription.name, topic: subscription.topic, policy: subscription.filterPolicy)
        }
        return SessionSettings(
            authenticator: ConfigAuthenticator(auth: config.auth),
            messageValidator: MessageValidator(limits: config.limits.message),
            wireLimits: wire, filterLimits: config.limits.filterPolicy,
            heartbeat: config.timeouts.heartbeat, connectTimeout: config.timeouts.handshake, namedSubscriptions: named)
    }

    /// The configured topics with their `sqs` subscriptions (stream subscriptions are attached by
    /// clients, by name).
    /// A topic that only a subscription names is declared by it (it must exist to route into the
    /// subscription's queue).
    /// `routed`: whether an HTTP/S subscription may receive (confirmed); others are left out.
    static func topics(
        for config: HeraldConfig, queues: QueueManager?, routed: (HeraldConfig.Subscription) -> Bool = { _ in true }
    ) -> [TopicConfiguration] {
        var declared = config.topics
        for subscription in config.subscriptions where !declared.contains(where: { $0.name == subscription.topic }) {
            declared.append(HeraldConfig.Topic(name: subscription.topic))
        }
        return declared.map { topic in
            var subscriptions: [ConfiguredSubscription] = []
            if let queues {
                for subscription in config.subscriptions(ofTopic: topic.name) {
                    let route: QueueSubscriptionRoute
                    switch subscription.protocol {
                    case .sqs:
                        guard let queue = subscription.queue else { continue }
                        route = QueueSubscriptionRoute(queue: queue, subscription: subscription.name, raw: subscription.rawMessageDelivery)
                    case .stream:
                        // Durable: kept in the subscription's own queue until a client takes it.
                        route = QueueSubscriptionRoute(
                            queue: NamedSubscription.queueName(subscription.name), subscription: subscription.name, raw: true, protocolName: "stream")
                    case .http, .https:
                        // Through the subscription's own queue, which its pump delivers from.
                        guard routed(subscription) else { continue }
                        route = QueueSubscriptionRoute(
                            queue: HTTPEndpoints.queueName(subscription.name), subscription: subscription.name, raw: subscription.rawMessageDelivery,
                            protocolName: subscription.protocol.rawValue)
                    }
                    subscriptions.append(ConfiguredSubscription(name: subscription.name, policy: subscription.filterPolicy, target: .queue(route, queues)))
                }
            }
            return TopicConfiguration(name: topic.name, subscriptions: subscriptions, deduplication: deduplication(of: topic))
        }
    }

    /// SNS FIFO topics always deduplicate (5 minutes, by MessageDeduplicationId or content);
    /// standard topics only with configured idempotency keys.
    static func deduplication(of topic: HeraldConfig.Topic) -> TopicDeduplicationPolicy? {
        if topic.isFIFO { return .fifo(contentBasedDeduplication: topic.contentBasedDeduplication) }
        guard let keys = topic.deduplication else { return nil }
        switch keys.key {
        case .attribute(let name): return TopicDeduplicationPolicy(window: keys.window, key: .attribute(name))
        case .body: return TopicDeduplicationPolicy(window: keys.window, key: .body)
        }
    }
}

/// Why the server could not start or reload.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
