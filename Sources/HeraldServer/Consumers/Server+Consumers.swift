import Dispatch
import HeraldBroker
import HeraldConfig
import HeraldCore
import HeraldHTTP
import HeraldWire
import Synchronization

/// The server's managed queue consumers (`consumers:`), all on one `HTTPClient`.
///
/// Contract: `Server` calls `start` at the end of its `start()` (queues open and declared),
/// `apply` from `reload` (after the reload's queues are declared) and `stop` from `stop()`; any
/// thread, serialised by the lock. Each `QueueConsumer` then runs on its own serial queue.
/// Reload: a consumer whose settings changed is stopped and started again with the new ones
/// (its POSTs in flight finish under the old ones); removed ones stop, added ones start.
final class ManagedConsumers: Sendable {
    private struct State {
        var running: [String: (config: HeraldConfig.Consumer, consumer: QueueConsumer)] = [:]
        var client: HTTPClient?
        var manager: QueueManager?
        var identity = QueueIdentity()
        var log: @Sendable (String) -> Void = { _ in }
        /// `httpDelivery.caFile`, for the client made at start or on the first reload that adds a consumer.
        var caFile: String?
    }

    private let state = Mutex(State())

    init() {}

    /// Starts every consumer, or none: an endpoint `HTTPURL` refuses (or an HTTP client that
    /// cannot load the trust store) throws before any starts.
    func start(
        _ configs: [HeraldConfig.Consumer], manager: QueueManager, identity: QueueIdentity, caFile: String? = nil,
        log: @escaping @Sendable (String) -> Void
    ) throws(ServerError) {
        state.withLock { $0.caFile = caFile }
        var prepared: [(HeraldConfig.Consumer, QueueConsumer.Settings)] = []
        for config in configs { prepared.append((config, try Self.settings(config, identity: identity))) }
        // Made for the first consumer (a reload may add one to a server that had none).
        let made = configs.isEmpty ? nil : try Self.makeClient(caFile: caFile)
        let started = state.withLock { state -> [QueueConsumer] in
            guard let client = made else {
                (state.manager, state.identity, state.log) = (manager, identity, log)
                return []
            }
            state.client = client
            state.manager = manager
            state.identity = identity
            state.log = log
            return prepared.map { config, settings in
                let consumer = QueueConsumer(settings: settings, manager: manager, client: client, log: log)
                state.running[config.name] = (config, consumer)
                return consumer
            }
        }
        for consumer in started {
            consumer.start()
            log("consumer \(consumer.settings.name): queue \(consumer.settings.queueName) → POST \(consumer.settings.endpoint)")
        }
    }

    /// A reload: restarts changed consumers, stops removed ones, starts added ones. Returns one
    /// note per change (and per consumer that could not start).
    func apply(_ configs: [HeraldConfig.Consumer]) -> [String] {
        var notes: [String] = []
        let (stopping, starting) = state.withLock { state -> ([QueueConsumer], [QueueConsumer]) in
            guard let manager = state.manager else { return ([], []) }
            let client: HTTPClient
            if let made = state.client {
                client = made
            } else {
                do throws(ServerError) {
                    client = try Self.makeClient(caFile: state.caFile)
                } catch {
                    notes.append(error.message)
                    return ([], [])
                }
                state.client = client
            }
            var stopping: [QueueConsumer] = []
            var starting: [QueueConsumer] = []
            let wanted = Dictionary(configs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            for (name, running) in state.running where wanted[name] != running.config {
                stopping.append(running.consumer)
                state.running.removeValue(forKey: name)
                if wanted[name] == nil { notes.append("consumer \(name): stopped") }
            }
            for config in configs where state.running[config.name] == nil {
                do throws(ServerError) {
                    let settings = try Self.settings(config, identity: state.identity)
                    let consumer = QueueConsumer(settings: settings, manager: manager, client: client, log: state.log)
                    state.running[config.name] = (config, consumer)
                    starting.append(consumer)
                    notes.append("consumer \(config.name): started with the new settings")
                } catch {
                    notes.append("consumer \(config.name): not started: \(error.message)")
                }
            }
            return (stopping, starting)
        }
        for consumer in stopping { consumer.stop() }
        for consumer in starting { consumer.start() }
        return notes
    }

    /// Stops every consumer (POSTs in flight finish; collected messages become visible again) and
    /// closes the client's idle connections.
    func stop() {
        let (consumers, client) = state.withLock { state in
            defer { (state.running, state.client) = ([:], nil) }
            return (state.running.values.map(\.consumer), state.client)
        }
        for consumer in consumers { consumer.stop() }
        client?.shutDown()
    }

    /// A running consumer's counters, by name.
    func statistics(_ name: String) -> QueueConsumer.Statistics? {
        state.withLock { $0.running[name]?.consumer }?.statistics
    }

    static func settings(_ config: HeraldConfig.Consumer, identity: QueueIdentity) throws(ServerError) -> QueueConsumer.Settings {
        let url: HTTPURL
        do {
            url = try HTTPURL(config.endpoint)
        } catch {
            throw ServerError("consumer \(config.name): endpoint: \(error.message)")
        }
        return QueueConsumer.Settings(
            name: config.name, queueName: config.queue, endpoint: url, batchSize: config.batchSize,
            maxBatchingWindow: config.maxBatchingWindow, maxConcurrency: config.maxConcurrency,
            reportBatchItemFailures: config.reportBatchItemFailures, timeout: config.timeout,
            source: LambdaSQSEvent.Source(queueARN: identity.queueARN(config.queue), region: identity.region, senderID: identity.account))
    }

    /// One client for every consumer. Deliveries are at least once, so a POST that met a pooled
    /// connection the endpoint had closed is sent again (`staleConnectionRetry: .always`).
    /// `caFile`: `httpDelivery.caFile` (CA certificates trusted for https endpoints), else the system store.
    private static func makeClient(caFile: String?) throws(ServerError) -> HTTPClient {
        var configuration = HTTPClient.Configuration(callbackQueue: DispatchQueue(label: "herald.consumers.http"))
        configuration.caFile = caFile
        configuration.trustSystemStoreToo = true
        configuration.staleConnectionRetry = .always
        do {
            return try HTTPClient(configuration: configuration)
        } catch {
            throw ServerError("consumers' HTTP client: \(error.message)")
        }
    }
}

extension Server {
    /// Starts the configured consumers (end of `start()`); when they cannot start, the server
    /// stops what `start()` opened and the error is `start()`'s.
    func startConsumers(_ config: HeraldConfig, log: @escaping @Sendable (String) -> Void) throws(ServerError) {
        guard let stack = queueStack else { return }
        do {
            try consumers.start(
                config.consumers, manager: stack.manager, identity: stack.api.identity, caFile: config.httpDelivery.caFile, log: log)
        } catch {
            stop()
            throw error
        }
    }
}
