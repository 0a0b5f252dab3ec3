import Dispatch
import FilterPolicy
import HeraldBroker
import HeraldConfig
import HeraldCore
import HeraldHTTP
import HeraldStore
import HeraldWire
import Synchronization

/// Every HTTP/S subscription of the server: their queues and pumps, and SNS's confirmation
/// handshake (spec §4.6). A subscription is routed (the broker fans its topic into its queue) only
/// once confirmed; until then nothing is delivered to it, as SNS does.
///
/// - Config-declared subscriptions are confirmed by their declaration, unless `confirm: true`:
///   then a `confirmation/<name>` record holds the token and whether the endpoint confirmed.
/// - Run-time subscriptions (Subscribe over QREQ) are `SubscriptionRecord`s with a status; a
///   pending one is routed when its endpoint visits the SubscribeURL (`confirm`).
/// - Visiting an UnsubscribeURL removes a run-time subscription and sends an
///   UnsubscribeConfirmation, whose token restores it within the token's 2 days.
///
/// Contract: any method may be called from any thread; state is under one lock; replies run on
/// the queue manager's callback queue. Confirmation POSTs are best effort (3 attempts, 20 s apart,
/// not journaled): an endpoint that missed them is subscribed again (Subscribe re-sends them).
final class HTTPEndpoints: Sendable {
    static func queueName(_ subscription: String) -> String { "endpoint/\(subscription)" }
    static let confirmationPrefix = "confirmation/"
    /// SNS: "Tokens are valid for 2 days."
    static let tokenLifetimeMillis: Int64 = 2 * 86_400_000

    let manager: QueueManager
    let broker: Broker
    let meta: any MetaStore
    let renderer: EnvelopeRenderer
    let client: HTTPClient
    let delivery: HeraldConfig.HTTPDelivery
    private let log: @Sendable (String) -> Void
    private let clock: @Sendable () -> Int64
    private let state = Mutex(State())

    private struct State {
        var pumps: [String: HTTPSubscriptionPump] = [:]
        /// What each running pump was started with (a config change restarts it).
        var started: [String: PumpKey] = [:]
        var topicPolicies: [String: HTTPTopicDeliveryPolicy] = [:]
        /// `DeliveryPolicy` of topics made at run time (SNS CreateTopic / SetTopicAttributes);
        /// a config topic's policy wins over one of the same name.
        var runtimeTopicPolicies: [String: HTTPTopicDeliveryPolicy] = [:]
        /// Names of the config-declared HTTP/S subscriptions.
        var declared: Set<String> = []
        /// Called when a config-declared subscription is confirmed (the server re-routes topics).
        var onConfigConfirmed: (@Sendable () -> Void)?
    }

    private struct PumpKey: Hashable {
        var endpoint: String
        var raw: Bool
        var policy: EffectiveHTTPDeliveryPolicy
        var deadLetterQueue: String?
    }

    init(
        manager: QueueManager, broker: Broker, meta: any MetaStore, renderer: EnvelopeRenderer, delivery: HeraldConfig.HTTPDelivery,
        log: @escaping @Sendable (String) -> Void, clock: @escaping @Sendable () -> Int64
    ) throws(ServerError) {
        self.manager = manager
        self.broker = broker
        self.meta = meta
        self.renderer = renderer
        self.delivery = delivery
        self.log = log
        self.clock = clock
        var configuration = HTTPClient.Configuration(callbackQueue: DispatchQueue(label: "herald.http.delivery", attributes: .concurrent))
        configuration.caFile = delivery.caFile
        configuration.trustSystemStoreToo = true
        configuration.maxIdleConnectionsPerEndpoint = delivery.maxConnectionsPerEndpoint
        // At-least-once: a POST the endpoint may have seen is sent again rather than lost (SNS does the same).
        configuration.staleConnectionRetry = .always
        do {
            client = try HTTPClient(configuration: configuration)
        } catch {
            throw ServerError("httpDelivery.caFile: \(error.message)")
        }
    }

    var identity: QueueIdentity { renderer.identity }

    func setOnConfigConfirmed(_ action: @escaping @Sendable () -> Void) { state.withLock { $0.onConfigConfirmed = action } }

    // MARK: - Configuration

    /// Makes the queue of every config-declared HTTP/S subscription exist (start and reload).
    func declareQueues(_ subscriptions: [HeraldConfig.Subscription]) throws(ServerError) {
        for subscription in subscriptions where subscription.protocol == .http || subscription.protocol == .https {
            if case .failure(let error) = ensureQueueNow(subscription.name) {
                throw ServerError("subscription \(subscription.name): \(error.message)")
            }
        }
    }

    /// Whether a config-declared HTTP/S subscription is routed: yes unless it asked to be
    /// confirmed by its endpoint and that endpoint has not (a changed endpoint confirms anew).
    func isRouted(_ subscription: HeraldConfig.Subscription) -> Bool {
        guard subscription.confirm else { return true }
        guard let record = confirmationRecord(subscription.name) else { return false }
        return record.status == .confirmed && record.endpoint == subscription.endpoint
    }

    /// Brings the pumps in line with `config` (start and reload): config subscriptions that are
    /// routed get a pump; ones waiting for their endpoint get a SubscriptionConfirmation unless a
    /// live token was sent already; pumps of subscriptions that left the file stop.
    func apply(_ config: HeraldConfig) {
        var policies: [String: HTTPTopicDeliveryPolicy] = [:]
        for topic in config.topics { if let policy = topic.deliveryPolicy { policies[topic.name] = policy } }
        let declared = config.subscriptions.filter { $0.protocol == .http || $0.protocol == .https }
        state.withLock {
            $0.topicPolicies = policies
            $0.declared = Set(declared.map(\.name))
        }
        let runtimeNames = Set(runtimeRecords().map(\.name))
        for name in state.withLock({ Array($0.pumps.keys) }) where !runtimeNames.contains(name) && !declared.contains(where: { $0.name == name }) {
            stopPump(name)
        }
        for subscription in declared {
            guard let endpoint = subscription.endpoint else { continue }
            if isRouted(subscription) {
                startPump(
                    name: subscription.name, topic: subscription.topic, endpoint: endpoint, raw: subscription.rawMessageDelivery,
                    policy: subscription.deliveryPolicy, deadLetterQueue: subscription.redrivePolicy?.deadLetterQueue)
            } else {
                stopPump(subscription.name)
                sendConfigConfirmationIfNeeded(subscription)
            }
        }
        // Run-time subscriptions pick up a changed topic policy too.
        for record in runtimeRecords() where record.status == .confirmed && record.protocol != "sqs" { startPump(record) }
    }

    private func sendConfigConfirmationIfNeeded(_ subscription: HeraldConfig.Subscription) {
        let now = clock()
        if let record = confirmationRecord(subscription.name), record.endpoint == subscription.endpoint,
           let expires = record.tokenExpiresAtMillis, expires > now {
            return  // sent, and still confirmable
        }
        guard let endpoint = subscription.endpoint else { return }
        var record = SubscriptionRecord(
            name: subscription.name, topic: subscription.topic, protocol: subscription.protocol.rawValue, endpoint: endpoint,
            filterPolicy: nil, filterPolicyScope: nil, raw: subscription.rawMessageDelivery)
        record.status = .pending
        record.token = Self.newToken()
        record.tokenExpiresAtMillis = now + Self.tokenLifetimeMillis
        meta.put(Self.confirmationPrefix + subscription.name, record.encoded(), ifRevision: nil, on: manager.replyQueue) { [self, record] result in
            if case .success = result { sendConfirmation(.subscription, record) }
        }
    }

    // MARK: - Run-time subscriptions

    /// A new run-time HTTP/S subscription: stored pending, then its endpoint is sent the
    /// SubscriptionConfirmation. Replies once stored.
    func subscribe(_ record: SubscriptionRecord, reply: @escaping @Sendable (Result<Void, HeraldError>) -> Void) {
        var record = record
        if let existing = runtimeRecords().first(where: { $0.name == record.name }), existing.status == .confirmed {
            record.status = .confirmed  // SNS Subscribe is idempotent: a confirmed subscription stays confirmed
        } else {
            record.status = .pending
            record.token = Self.newToken()
            record.tokenExpiresAtMillis = clock() + Self.tokenLifetimeMillis
        }
        ensureQueue(record.name) { [self, record] created in
            if case .failure(let error) = created { return reply(.failure(error)) }
            store(record, reply: reply)
        }
    }

    private func store(_ record: SubscriptionRecord, reply: @escaping @Sendable (Result<Void, HeraldError>) -> Void) {
        meta.put(SubscriptionRecord.key(record.name), record.encoded(), ifRevision: nil, on: manager.replyQueue) { [self, record] result in
            switch result {
            case .failure(let error):
                reply(.failure(HeraldError(.storageUnavailable, "The subscription could not be stored (\(error)); it was not created.")))
            case .success:
                if record.status == .pending {
                    sendConfirmation(.subscription, record)
                } else {
                    startPump(record)
                }
                reply(.success(()))
            }
        }
    }

    /// Re-installs stored run-time subscriptions at start: confirmed ones are routed and pumped.
    func restore(_ record: SubscriptionRecord, policy: FilterPolicy?) throws(BrokerError) {
        guard record.status == .confirmed else { return }
        if case .failure(let error) = ensureQueueNow(record.name) { throw .invalidParameter(error.message) }
        try route(record, policy: policy)
        startPump(record)
    }

    /// ConfirmSubscription (the SubscribeURL, or the API): the subscription whose pending token
    /// this is becomes confirmed and is routed. Replies with its ARN.
    func confirm(topicArn: String, token: String, filterLimits: FilterPolicyLimits, reply: @escaping @Sendable (Result<String, HeraldError>) -> Void) {
        let now = clock()
        let invalidToken = HeraldError(.invalidParameter, "Invalid parameter: Token")
        guard topicArn.hasPrefix("arn:aws:sns:\(identity.region):"), topicArn.split(separator: ":").count == 6 else {
            return manager.replyQueue.async { reply(.failure(HeraldError(.invalidParameter, "Invalid parameter: Topic"))) }
        }
        let candidates = meta.snapshot(prefix: SubscriptionRecord.prefix).map { (key: $0.key, configDeclared: false, value: $0.value) }
            + meta.snapshot(prefix: Self.confirmationPrefix).map { (key: $0.key, configDeclared: true, value: $0.value) }
        for candidate in candidates {
            guard var record = SubscriptionRecord(decoding: candidate.value), record.token == token else { continue }
            if record.status == .confirmed {
                let arn = identity.subscriptionARN(topic: record.topic, subscription: record.name)
                return manager.replyQueue.async { reply(.success(arn)) }
            }
            guard let expires = record.tokenExpiresAtMillis, expires > now else {
                return manager.replyQueue.async { reply(.failure(invalidToken)) }
            }
            record.status = .confirmed
            let arn = identity.subscriptionARN(topic: record.topic, subscription: record.name)
            meta.put(candidate.key, record.encoded(), ifRevision: nil, on: manager.replyQueue) { [self, record] result in
                guard case .success = result else {
                    return reply(.failure(HeraldError(.storageUnavailable, "The confirmation could not be stored; visit the URL again.")))
                }
                if candidate.configDeclared {
                    state.withLock { $0.onConfigConfirmed }?()
                    reply(.success(arn))
                    return
                }
                ensureQueue(record.name) { [self, record] created in
                    if case .failure(let error) = created { return reply(.failure(error)) }
                    do throws(HeraldError) {
                        try routeRuntime(record, filterLimits: filterLimits)
                        startPump(record)
                        reply(.success(arn))
                    } catch {
                        reply(.failure(error))
                    }
                }
            }
            return
        }
        manager.replyQueue.async { reply(.failure(invalidToken)) }
    }

    /// The UnsubscribeURL: removes a run-time HTTP/S subscription, drops what waits in its queue,
    /// and sends an UnsubscribeConfirmation (its token restores the subscription).
    func unsubscribe(subscriptionArn: String, reply: @escaping @Sendable (Result<Void, HeraldError>) -> Void) {
        let name = subscriptionArn.split(separator: ":").last.map(String.init) ?? ""
        guard var record = runtimeRecords().first(where: { $0.name == name }), record.status != .unsubscribed else {
            if state.withLock({ $0.declared.contains(name) }) {
                return manager.replyQueue.async { reply(.failure(HeraldError(.invalidParameter, "Subscription \(name) is declared in the configuration; remove it there"))) }
            }
            return manager.replyQueue.async { reply(.failure(HeraldError(.notFound, "Subscription does not exist"))) }
        }
        guard record.protocol != "sqs" else {
            return manager.replyQueue.async { reply(.failure(HeraldError(.invalidParameter, "Invalid parameter: SubscriptionArn: not an HTTP/S subscription (use Unsubscribe)"))) }
        }
        broker.removeSubscription(topic: record.topic, name: name)
        stopPump(name)
        record.status = .unsubscribed
        record.token = Self.newToken()
        record.tokenExpiresAtMillis = clock() + Self.tokenLifetimeMillis
        meta.put(SubscriptionRecord.key(name), record.encoded(), ifRevision: nil, on: manager.replyQueue) { [self, record] result in
            guard case .success = result else {
                return reply(.failure(HeraldError(.storageUnavailable, "The unsubscribe could not be stored.")))
            }
            manager.deleteQueue(Self.queueName(name)) { _ in }
            sendConfirmation(.unsubscribe, record)
            reply(.success(()))
        }
    }

    /// Removes a run-time HTTP/S subscription for good (Unsubscribe through the API).
    func remove(_ name: String) {
        stopPump(name)
        manager.deleteQueue(Self.queueName(name)) { _ in }
    }

    /// Every running pump's delivery counters, by subscription name (the metrics scrape).
    func allCounters() -> [String: HTTPDeliveryCounters.Snapshot] {
        state.withLock { $0.pumps.mapValues { $0.counters.snapshot } }
    }

    /// Per-subscription delivery counters (nil: no pump runs for it).
    func counters(_ name: String) -> HTTPDeliveryCounters.Snapshot? {
        state.withLock { $0.pumps[name]?.counters.snapshot }
    }

    /// The delivery policy in force for a subscription of `topic` with its own `policy`.
    func effectivePolicy(topic: String, subscription policy: HTTPDeliveryPolicy?) -> EffectiveHTTPDeliveryPolicy {
        EffectiveHTTPDeliveryPolicy(topic: topicPolicy(topic), subscription: policy)
    }

    /// The topic-level `DeliveryPolicy` in force on `topic`: the configuration's, else the one set
    /// at run time (nil: SNS's defaults).
    func topicPolicy(_ topic: String) -> HTTPTopicDeliveryPolicy? {
        state.withLock { $0.topicPolicies[topic] ?? $0.runtimeTopicPolicies[topic] }
    }

    /// Sets (nil: clears) the `DeliveryPolicy` of a topic made at run time (the SNS topic API, and
    /// its records at start). The topic's confirmed HTTP/S subscriptions whose effective policy
    /// changes restart their pumps with it; what waits in their queues is kept.
    /// `restartPumps` false: at start, before any pump runs.
    func setRuntimeTopicPolicy(_ topic: String, _ policy: HTTPTopicDeliveryPolicy?, restartPumps: Bool = true) {
        state.withLock { $0.runtimeTopicPolicies[topic] = policy }
        guard restartPumps else { return }
        for record in runtimeRecords() where record.topic == topic && record.status == .confirmed && record.protocol != "sqs" {
            startPump(record)
        }
    }

    func stopAll() {
        for name in state.withLock({ Array($0.pumps.keys) }) { stopPump(name) }
        client.shutDown()
    }

    // MARK: - Pieces

    private func routeRuntime(_ record: SubscriptionRecord, filterLimits: FilterPolicyLimits) throws(HeraldError) {
        let policy = try record.compiledFilterPolicy(limits: filterLimits)
        do throws(BrokerError) {
            if broker.subscriptionCount(topic: record.topic) == nil { try broker.createTopic(record.topic) }
            try route(record, policy: policy)
        } catch {
            throw error.heraldError
        }
    }

    private func route(_ record: SubscriptionRecord, policy: FilterPolicy?) throws(BrokerError) {
        let route = QueueSubscriptionRoute(queue: Self.queueName(record.name), subscription: record.name, raw: record.raw, protocolName: record.protocol)
        try broker.putSubscription(topic: record.topic, ConfiguredSubscription(name: record.name, policy: policy, target: .queue(route, manager)))
    }

    private func startPump(_ record: SubscriptionRecord) {
        let policy = record.deliveryPolicy.flatMap { try? HTTPDeliveryPolicy.parse(Array($0.utf8), rawMessageDelivery: record.raw) }
        let deadLetter = record.redrivePolicy.flatMap { try? SubscriptionRedrivePolicy.parse(Array($0.utf8)) }
        startPump(name: record.name, topic: record.topic, endpoint: record.endpoint, raw: record.raw, policy: policy, deadLetterQueue: deadLetter?.deadLetterQueue)
    }

    private func startPump(name: String, topic: String, endpoint: String, raw: Bool, policy: HTTPDeliveryPolicy?, deadLetterQueue: String?) {
        let url: HTTPURL
        do {
            url = try HTTPURL(endpoint)
        } catch {
            log("subscription \(name): endpoint '\(endpoint)' is not a URL Herald can call: \(error.message)")
            return
        }
        let effective = effectivePolicy(topic: topic, subscription: policy)
        let key = PumpKey(endpoint: endpoint, raw: raw, policy: effective, deadLetterQueue: deadLetterQueue)
        guard state.withLock({ $0.started[name] }) != key else { return }
        stopPump(name)
        guard manager.summary(Self.queueName(name)) != nil else {
            log("subscription \(name): its queue \(Self.queueName(name)) does not exist; not delivering")
            return
        }
        let settings = HTTPSubscriptionPump.Settings(
            subscription: name, topic: topic, queue: Self.queueName(name), endpoint: url, raw: raw, policy: effective,
            deadLetterQueue: deadLetterQueue, maxConcurrent: delivery.maxConnectionsPerEndpoint, timeout: delivery.timeout,
            topicArn: identity.topicARN(topic), subscriptionArn: identity.subscriptionARN(topic: topic, subscription: name))
        let pump = HTTPSubscriptionPump(settings: settings, manager: manager, client: client, connectTimeout: client.configuration.connectTimeout)
        state.withLock {
            $0.pumps[name] = pump
            $0.started[name] = key
        }
        pump.start()
    }

    private func stopPump(_ name: String) {
        let pump = state.withLock { state -> HTTPSubscriptionPump? in
            state.started[name] = nil
            return state.pumps.removeValue(forKey: name)
        }
        pump?.stop()
    }

    /// The subscription's queue, made on first use: standard (SNS sends HTTP/S only from standard
    /// topics), kept 14 days (SQS's most) so nothing waiting for a retry expires first. Replies on
    /// the manager's callback queue (so callers on it never wait for themselves).
    private func ensureQueue(_ subscription: String, then done: @escaping @Sendable (Result<Void, HeraldError>) -> Void) {
        let name = Self.queueName(subscription)
        guard manager.summary(name) == nil else { return manager.replyQueue.async { done(.success(())) } }
        var attributes = QueueAttributes(fifo: false)
        attributes.visibilityTimeout = 30
        attributes.messageRetentionPeriod = 1_209_600
        manager.createQueue(name, attributes: attributes, validatingName: false, reply: done)
    }

    /// `ensureQueue`, waited for: only from threads that are not the manager's callback queue (start, reload).
    private func ensureQueueNow(_ subscription: String) -> Result<Void, HeraldError> {
        // Existing (always so when re-routing from the callback queue): nothing to wait for.
        if manager.summary(Self.queueName(subscription)) != nil { return .success(()) }
        return QueueStack.wait { done in ensureQueue(subscription, then: done) }
    }

    private func runtimeRecords() -> [SubscriptionRecord] {
        meta.snapshot(prefix: SubscriptionRecord.prefix).compactMap { SubscriptionRecord(decoding: $0.value) }
    }

    private func confirmationRecord(_ name: String) -> SubscriptionRecord? {
        let key = Self.confirmationPrefix + name
        return meta.snapshot(prefix: key).first { $0.key == key }.flatMap { SubscriptionRecord(decoding: $0.value) }
    }

    /// Posts a confirmation document to the record's endpoint: 3 attempts, 20 s apart.
    private func sendConfirmation(_ kind: SNSEnvelope.Confirmation.Kind, _ record: SubscriptionRecord, attempt: Int = 1) {
        guard let token = record.token, let url = try? HTTPURL(record.endpoint) else { return }
        let subscriptionArn = identity.subscriptionARN(topic: record.topic, subscription: record.name)
        let document = renderer.confirmation(kind, topic: record.topic, subscriptionArn: subscriptionArn, token: token, nowMillis: clock())
        let request = SNSHTTPRequest.confirmation(
            body: document.body, kind: kind, messageID: document.messageID, topicArn: identity.topicARN(record.topic), subscriptionArn: subscriptionArn)
        let log = self.log
        client.send(request, to: url, timeout: delivery.timeout) { [self] result in
            if case .success(let response) = result, (200..<300).contains(response.status) { return }
            let why: String
            switch result {
            case .success(let response): why = "HTTP \(response.status)"
            case .failure(let error): why = error.description
            }
            guard attempt < 3 else {
                log("subscription \(record.name): \(kind.rawValue) to \(url) failed 3 times (\(why)); subscribe again to resend it")
                return
            }
            manager.replyQueue.asyncAfter(deadline: .now() + .seconds(20)) { self.sendConfirmation(kind, record, attempt: attempt + 1) }
        }
    }

    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        for _ in 0..<4 { withUnsafeBytes(of: generator.next() as UInt64) { bytes += $0 } }
        return LowerHex.string(bytes)
    }
}
