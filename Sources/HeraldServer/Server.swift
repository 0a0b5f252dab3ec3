import Dispatch
import Foundation
import FilterPolicy
import HeraldBroker
import HeraldConfig
import HeraldCore
import HeraldNet
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

    private struct State {
        var config: HeraldConfig
        var listeners: [Listener] = []
        var expiryRunning = false
    }

    public init(config: HeraldConfig, group: EventLoopGroup = .shared, log: @escaping @Sendable (String) -> Void = { _ in }) {
        var options = BrokerOptions()
        options.autoCreateTopics = config.autoCreateTopics
        options.limits.maxSubscriptionsPerSession = config.limits.maxSubscriptionsPerConnection
        options.limits.maxSubscriptionsPerTopic = config.limits.maxSubscriptionsPerTopic
        options.limits.maxSubscriptions = config.limits.maxSubscriptions
        options.limits.maxPendingMessages = config.limits.maxPendingMessagesPerSubscriber
        options.limits.resumeWindowNanoseconds = UInt64(config.sessions.resumeWindow.components.seconds) * 1_000_000_000
        self.broker = Broker(options: options, matcherFactory: CompiledMatcherFactory())
        self.context = SessionContext(broker: broker, settings: Self.settings(for: config), counters: counters)
        self.service = HeraldService(context: context)
        self.group = group
        self.state = Mutex(State(config: config))
        self.log = log
    }

    /// Opens every configured listener and applies the configured topics. Throws (with nothing
    /// left open) when a TLS file cannot be loaded or an address cannot be bound.
    public func start() throws(ServerError) {
        let config = state.withLock { $0.config }
        do {
            try broker.applyConfiguration(Self.topics(for: config))
        } catch {
            throw ServerError("configuration rejected by the broker: \(error.message)")
        }
        var opened: [Listener] = []
        for spec in config.listeners {
            do {
                let listener = try makeListener(spec, timeouts: config.timeouts)
                opened.append(listener)
                log("listening on \(listener.localAddress) (TLS, client certificates: \(spec.tls.clientAuth.rawValue))")
            } catch {
                for listener in opened { listener.close() }
                throw ServerError("listener \(spec.address): \(error.message)")
            }
        }
        state.withLock { $0.listeners = opened }
        scheduleExpiry()
    }

    /// The bound address of each listener, in configuration order (port 0 resolves here).
    public var listenAddresses: [SocketAddress] { state.withLock { $0.listeners.map(\.localAddress) } }

    /// Applies a new configuration: users, permissions, limits, topics and named subscriptions'
    /// policies take effect for the next frame or message. Listener changes need a restart and are
    /// reported. Throws (keeping the running configuration) when the broker rejects it.
    @discardableResult
    public func reload(_ config: HeraldConfig) throws(ServerError) -> [String] {
        let old = state.withLock { $0.config }
        do {
            try broker.applyConfiguration(Self.topics(for: config))
        } catch {
            throw ServerError("reload rejected: \(error.message)")
        }
        let settings = Self.settings(for: config)
        context.replaceSettings(settings)
        // Streams attached to a configuration subscription by name follow its new policy.
        var notes = config.changesNeedingRestart(from: old)
        for named in settings.namedSubscriptions.values {
            let changed = broker.replacePolicy(named.policy, forTag: named.name)
            if changed > 0 { notes.append("subscription \(named.name): new filter policy for \(changed) attached stream(s)") }
        }
        state.withLock { $0.config = config }
        return notes
    }

    /// Closes the listeners (open connections finish on their own).
    public func stop() {
        let listeners = state.withLock { s in
            defer { s.listeners = [] }
            return s.listeners
        }
        for listener in listeners { listener.close() }
    }

    public var configuration: HeraldConfig { state.withLock { $0.config } }

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
        let thread = Thread {
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            var ticks = 0
            while true {
                usleep(250_000)
                ticks += 1
                broker.compactRoutes()
                if ticks % 4 == 0 { broker.expireDetached(now: SessionContext.now()) }
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

    static func topics(for config: HeraldConfig) -> [TopicConfiguration] {
        config.topics.map { TopicConfiguration(name: $0.name) }
    }
}

/// Why the server could not start or reload.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
