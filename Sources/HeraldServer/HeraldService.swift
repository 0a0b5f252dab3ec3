import FilterPolicy
import HeraldBroker
import HeraldCore

/// The front door every protocol calls — the stream protocol's `ServerSession` today, the SNS
/// query and SQS JSON handlers next: authentication, authorization, publish validation with SNS's
/// texts, filter-policy parsing, named subscriptions, and every refusal as one `HeraldError` (a
/// catalog code and a message). A front end keeps only its codec, flow control and connection
/// lifecycle.
///
/// Contract:
/// - Any method may be called from any thread; none blocks on I/O or on subscribers.
/// - `settings` is the snapshot the caller works with (a front end re-reads
///   `SessionContext.settings` when its generation changes, so a reload applies to its next frame).
/// - `prepare…` calls do the checks that need no broker state and return a request; the broker
///   calls (`publish`, `subscribe`) take batches of them, so a front end that batches (the stream
///   protocol does, per turn) pays one broker call per batch.
/// - Errors never leave as `BrokerError`: the catalog code is what a client sees, whatever the
///   protocol.
public final class HeraldService: Sendable {
    public let broker: Broker
    let context: SessionContext

    init(context: SessionContext) {
        self.context = context
        self.broker = context.broker
    }

    /// The settings in force now (reload swaps them).
    public var settings: SessionSettings { context.settings }

    // MARK: - Identity and sessions

    public func authenticate(
        token: String?, certificateCommonName: String?, settings: SessionSettings
    ) -> Result<Principal, HeraldError> {
        let result = settings.authenticator.authenticate(token: token, certificateCommonName: certificateCommonName)
        if case .failure = result { context.counters.authenticationFailures.add(1, ordering: .relaxed) }
        return result
    }

    /// Opens (or resumes, or takes over) a stream session for `principal`: without `requested`
    /// the broker issues an unguessable id; with one, only the identity that created that session
    /// may resume it (anonymous clients only ids issued to them).
    public func attachSession(
        _ requested: SessionID?, principal: Principal, sink: any StreamSink
    ) -> Result<StreamSessionHandle, HeraldError> {
        do throws(BrokerError) {
            return .success(try broker.attachSession(requested, owner: principal.sessionOwner, sink: sink, now: SessionContext.now()))
        } catch {
            return .failure(error.heraldError)
        }
    }

    public func detachSession(_ handle: StreamSessionHandle) {
        broker.detachSession(handle, now: SessionContext.now())
    }

    /// A stream session's connection drained its output (`StreamSink.isBackedUp` went false).
    public func sessionOutputDrained(_ handle: StreamSessionHandle) {
        broker.sinkDrained(handle)
    }

    // MARK: - Publish

    /// Checks one publish (permission, then SNS's message validation) and makes its request;
    /// `transportCache` is what the carrying protocol keeps with the message (`Message.transportCache`).
    public func preparePublish(
        topic: String, attributes: MessageAttributes, body: [UInt8], groupID: String?, deduplicationID: String?,
        transportCache: (any MessageTransportCache)? = nil, principal: Principal, settings: SessionSettings
    ) -> Result<PublishRequest, HeraldError> {
        if let error = checkPublish(topic: topic, attributes: attributes, body: body, principal: principal, validator: settings.messageValidator) {
            return .failure(error)
        }
        var request = PublishRequest(topic: topic, attributes: attributes, body: body, groupID: groupID, deduplicationID: deduplicationID)
        request.transportCache = transportCache
        return .success(request)
    }

    /// `preparePublish`, appending the request to `batch` instead of returning it (the stream
    /// protocol's per-PUB path: the request is built in place, not copied out of a `Result`).
    /// Returns why the publish was refused, or nil when it was appended. It takes only the
    /// settings' message validator: copying the whole `SessionSettings` out of the session per PUB
    /// (an authenticator, strings, a dictionary: a retain and a release each) cost more than the
    /// check. The fields are taken, not borrowed, so the request is built without a retain each.
    public func preparePublish(
        topic: consuming String, attributes: consuming MessageAttributes, body: consuming [UInt8],
        groupID: consuming String?, deduplicationID: consuming String?,
        transportCache: (any MessageTransportCache)?, principal: Principal, validator: MessageValidator,
        appendingTo batch: inout [PublishRequest]
    ) -> HeraldError? {
        preparePublish(
            topic: topic, attributes: attributes, body: body, groupID: groupID, deduplicationID: deduplicationID,
            transportCache: transportCache, refusal: publishRefusal(topic: topic, principal: principal),
            validator: validator, filling: &batch, at: batch.count)
    }

    /// `preparePublish(…principal:…appendingTo:)` with the permission already decided: `refusal`
    /// is what `publishRefusal(topic:principal:)` said for this topic. A stream session decides it
    /// once per run of PUBs to one topic: binding its principal per PUB cost a retain and a
    /// release per field of it.
    ///
    /// The request is written into `batch[index]` (`index` ≤ `batch.count`; at the end a blank one
    /// is appended first), field by field: a session keeps its batch's emptied requests from one
    /// broker call to the next and fills them again. Appending a whole new request copied it twice
    /// on the way (a retain and a release per field, twice per PUB).
    public func preparePublish(
        topic: consuming String, attributes: consuming MessageAttributes, body: consuming [UInt8],
        groupID: consuming String?, deduplicationID: consuming String?,
        transportCache: (any MessageTransportCache)?, refusal: HeraldError?, validator: MessageValidator,
        filling batch: inout [PublishRequest], at index: Int
    ) -> HeraldError? {
        if let refusal { return refusal }
        if let error = checkMessage(attributes: attributes, body: body, validator: validator) { return error }
        precondition(index >= 0 && index <= batch.count, "request \(index) of a batch of \(batch.count)")
        if index == batch.count { batch.append(PublishRequest(topic: "", body: [])) }
        Self.fill(
            &batch[index], topic: topic, attributes: attributes, body: body, groupID: groupID,
            deduplicationID: deduplicationID, transportCache: transportCache)
        return nil
    }

    /// One access to the request, each field moved in.
    private static func fill(
        _ request: inout PublishRequest, topic: consuming String, attributes: consuming MessageAttributes,
        body: consuming [UInt8], groupID: consuming String?, deduplicationID: consuming String?,
        transportCache: (any MessageTransportCache)?
    ) {
        request.topic = topic
        request.attributes = attributes
        request.body = body
        request.groupID = groupID
        request.deduplicationID = deduplicationID
        request.subject = nil
        request.transportCache = transportCache
        request.protocolBodies = nil
    }

    /// Why `principal` may not publish to `topic`, or nil when it may.
    public func publishRefusal(topic: String, principal: Principal) -> HeraldError? {
        guard principal.permissions.allows(.publish, topic: topic) else {
            return HeraldError(.notAuthorized, "\(principal.name) may not publish to \(topic)")
        }
        return nil
    }

    /// Why a publish is refused (permission first, then SNS's message validation), or nil.
    private func checkPublish(
        topic: String, attributes: MessageAttributes, body: [UInt8], principal: Principal, validator: MessageValidator
    ) -> HeraldError? {
        if let refusal = publishRefusal(topic: topic, principal: principal) { return refusal }
        return checkMessage(attributes: attributes, body: body, validator: validator)
    }

    /// SNS's message validation of a publish, or nil when it passes.
    private func checkMessage(attributes: MessageAttributes, body: [UInt8], validator: MessageValidator) -> HeraldError? {
        do throws(HeraldError) {
            try validator.validate(body: body, attributes: attributes)
        } catch {
            return error
        }
        return nil
    }

    /// Publishes prepared requests in order; per request the message id or why it was refused.
    /// `congestion` reports receivers the batch left backlogged (the caller may pace itself);
    /// `receipts` the accepted requests whose confirmation waits for a target's receipt (the
    /// caller confirms those when they settle, keeping its confirmations in request order).
    public func publish(
        _ batch: [PublishRequest], congestion: inout PublishCongestion?, receipts: inout PublishReceipts?
    ) -> [Result<MessageID, HeraldError>] {
        broker.publish(batch, congestion: &congestion, receipts: &receipts).map { $0.mapError(\.heraldError) }
    }

    /// `publish`, moving each accepted request's attributes and body into its message
    /// (`Broker.publish(taking:)`): `batch` is left holding emptied requests for the caller to clear
    /// or fill again. Only the first `count` requests are published.
    public func publish(
        taking batch: inout [PublishRequest], count: Int, congestion: inout PublishCongestion?, receipts: inout PublishReceipts?
    ) -> [Result<MessageID, HeraldError>] {
        broker.publish(taking: &batch, count: count, congestion: &congestion, receipts: &receipts).map { $0.mapError(\.heraldError) }
    }

    // MARK: - Subscriptions

    /// Checks one subscribe (permission, the named subscription or the filter policy with SNS's
    /// texts) and makes its request.
    public func prepareSubscribe(
        sid: UInt64, topic: String, policy policyJSON: [UInt8], scope: FilterPolicyScope, subscriptionName: String?,
        ackMode: AckMode, credit: Int, principal: Principal, settings: SessionSettings
    ) -> Result<SubscribeRequest, HeraldError> {
        guard principal.permissions.allows(.subscribe, topic: topic) else {
            return .failure(HeraldError(.notAuthorized, "\(principal.name) may not subscribe to \(topic)"))
        }
        var policy: FilterPolicy?
        var tag: String?
        if let name = subscriptionName {
            // A configuration subscription: its topic and policy come from the config (and reloads).
            guard let named = settings.namedSubscriptions[name] else {
                return .failure(HeraldError(.notFound, "Subscription does not exist: \(name)"))
            }
            guard named.topic == topic else {
                return .failure(HeraldError(.invalidParameter, "Invalid parameter: subscription \(name) is on topic \(named.topic), not \(topic)"))
            }
            guard policyJSON.isEmpty else {
                return .failure(HeraldError(.invalidParameter, "Invalid parameter: subscription \(name) takes its filter policy from the configuration; send none"))
            }
            policy = named.policy
            tag = name
        } else {
            switch parsePolicy(policyJSON, scope: scope, settings: settings) {
            case .success(let parsed): policy = parsed
            case .failure(let error): return .failure(error)
            }
        }
        return .success(SubscribeRequest(sid: sid, topic: topic, policy: policy, ackMode: ackMode, credit: credit, tag: tag))
    }

    /// Subscribes prepared requests in order under one broker call; each is live when this returns.
    public func subscribe(_ handle: StreamSessionHandle, _ requests: [SubscribeRequest]) -> [Result<SubscribeOutcome, HeraldError>] {
        broker.subscribe(handle, requests).map { $0.mapError(\.heraldError) }
    }

    public func unsubscribe(_ handle: StreamSessionHandle, sid: UInt64) throws(HeraldError) {
        do throws(BrokerError) { try broker.unsubscribe(handle, sid: sid) } catch { throw error.heraldError }
    }

    public func addCredit(_ handle: StreamSessionHandle, sid: UInt64, _ amount: Int) throws(HeraldError) {
        do throws(BrokerError) { try broker.addCredit(handle, sid: sid, amount) } catch { throw error.heraldError }
    }

    /// ACK tags, at most `maxAckTagsPerCall` of them (ranges expand), so a range like
    /// 0-18446744073709551615 cannot make the server allocate without bound.
    public func ack(_ handle: StreamSessionHandle, sid: UInt64, ranges: [ClosedRange<UInt64>]) throws(HeraldError) {
        var total: UInt64 = 0
        for range in ranges {
            // 0-18446744073709551615 holds 2^64 tags: the count wraps to 0, which is refused too.
            let count = (range.upperBound - range.lowerBound) &+ 1
            total = count == 0 ? 0 : total &+ count
            if total > UInt64(Self.maxAckTagsPerCall) || total == 0 {
                throw HeraldError(.invalidParameter, "an ACK frame may name at most \(Self.maxAckTagsPerCall) tags")
            }
        }
        var tags: [UInt64] = []
        tags.reserveCapacity(Int(total))
        for range in ranges { tags.append(contentsOf: range) }
        do throws(BrokerError) { try broker.ack(handle, sid: sid, tags: tags) } catch { throw error.heraldError }
    }

    public static let maxAckTagsPerCall = 65_536

    /// SNS SetSubscriptionAttributes FilterPolicy for one of the session's subscriptions: an empty
    /// policy removes the filter. Applies from the next message.
    public func setSubscriptionPolicy(
        _ handle: StreamSessionHandle, sid: UInt64, policy policyJSON: [UInt8], scope: FilterPolicyScope, settings: SessionSettings
    ) throws(HeraldError) {
        let policy = try parsePolicy(policyJSON, scope: scope, settings: settings).get()
        do throws(BrokerError) { try broker.setPolicy(handle, sid: sid, policy: policy) } catch { throw error.heraldError }
    }

    private func parsePolicy(_ json: [UInt8], scope: FilterPolicyScope, settings: SessionSettings) -> Result<FilterPolicy?, HeraldError> {
        guard !json.isEmpty else { return .success(nil) }
        do {
            return .success(try FilterPolicy.parse(utf8: json, scope: scope, limits: settings.filterLimits))
        } catch {
            return .failure(HeraldError(.invalidFilterPolicy, error.message(api: .setSubscriptionAttributes)))
        }
    }

    // MARK: - Topics

    /// SNS CreateTopic: idempotent. Needs publish or subscribe permission on the name.
    public func createTopic(_ name: String, principal: Principal) throws(HeraldError) {
        guard principal.permissions.allows(.publish, topic: name) || principal.permissions.allows(.subscribe, topic: name) else {
            throw HeraldError(.notAuthorized, "\(principal.name) may not create topic \(name)")
        }
        do throws(BrokerError) { try broker.createTopic(name) } catch { throw error.heraldError }
    }

    /// SNS DeleteTopic: the topic and every subscription on it; a topic that does not exist is no
    /// error. Needs publish permission on the name; configuration-declared topics are refused.
    public func deleteTopic(_ name: String, principal: Principal) throws(HeraldError) {
        guard principal.permissions.allows(.publish, topic: name) else {
            throw HeraldError(.notAuthorized, "\(principal.name) may not delete topic \(name)")
        }
        do throws(BrokerError) { try broker.deleteTopic(name) } catch { throw error.heraldError }
    }

    /// SNS ListTopics: the topics the principal may publish or subscribe to, sorted.
    public func listTopics(principal: Principal) -> [String] {
        broker.topicNames().filter {
            principal.permissions.allows(.publish, topic: $0) || principal.permissions.allows(.subscribe, topic: $0)
        }
    }

    /// How many subscriptions of every kind `topic` has (SNS ListSubscriptionsByTopic's count).
    public func subscriptionCount(topic: String, principal: Principal) throws(HeraldError) -> Int {
        guard principal.permissions.allows(.subscribe, topic: topic) || principal.permissions.allows(.publish, topic: topic) else {
            throw HeraldError(.notAuthorized, "\(principal.name) may not list subscriptions of \(topic)")
        }
        guard let count = broker.subscriptionCount(topic: topic) else {
            throw BrokerError.topicNotFound(topic: topic).heraldError
        }
        return count
    }
}
