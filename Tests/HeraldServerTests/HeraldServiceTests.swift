import FilterPolicy
import HeraldBroker
import HeraldConfig
import HeraldCore
import Synchronization
import Testing
@testable import HeraldServer

/// The protocol-neutral front door, without sockets: authorization, validation with SNS's texts,
/// policy parsing and named subscriptions, topics, and every refusal as a catalog `HeraldError`.
@Suite struct HeraldServiceTests {
    /// Users: "pub" may publish to orders*, "sub" may subscribe to orders*, "all" may do anything.
    struct Users: Authenticator {
        func authenticate(token: String?, certificateCommonName: String?) -> Result<Principal, HeraldError> {
            switch token {
            case "pub": return .success(Principal(name: "pub", permissions: Permissions(publish: [TopicPattern(kind: .prefix("orders"))])))
            case "sub": return .success(Principal(name: "sub", permissions: Permissions(subscribe: [TopicPattern(kind: .prefix("orders"))])))
            case "all": return .success(Principal(name: "all", permissions: .all))
            default: return .failure(HeraldError(.authenticationFailed, "unknown token"))
            }
        }
    }

    final class Sink: StreamSink {
        let received = Mutex<[String]>([])
        func deliver(_ deliveries: [StreamDelivery]) {
            received.withLock { $0 += deliveries.map { "\($0.sid):\(String(decoding: $0.message.body, as: UTF8.self))" } }
        }
        func disconnect(reason: DisconnectReason) {}
        var all: [String] { received.withLock { $0 } }
    }

    let service: HeraldService
    let settings: SessionSettings

    init() throws {
        var options = BrokerOptions()
        options.autoCreateTopics = true
        let broker = Broker(options: options, matcherFactory: CompiledMatcherFactory(), idSeed: 7)
        try broker.applyConfiguration([TopicConfiguration(name: "declared")])
        settings = SessionSettings(
            authenticator: Users(),
            namedSubscriptions: ["audit": NamedSubscription(name: "audit", topic: "orders", policy: nil)])
        service = HeraldService(context: SessionContext(broker: broker, settings: settings, counters: ServerCounters()))
    }

    func principal(_ token: String) throws -> Principal {
        try service.authenticate(token: token, certificateCommonName: nil, settings: settings).get()
    }

    func publish(_ topic: String, _ body: String, as who: Principal, attributes: MessageAttributes = [:]) -> Result<MessageID, HeraldError> {
        switch service.preparePublish(topic: topic, attributes: attributes, body: Array(body.utf8), groupID: nil, deduplicationID: nil, principal: who, settings: settings) {
        case .failure(let error): return .failure(error)
        case .success(let request):
            var congestion: PublishCongestion?
            var receipts: PublishReceipts?
            return service.publish([request], congestion: &congestion, receipts: &receipts)[0]
        }
    }

    func subscribe(_ handle: StreamSessionHandle, sid: UInt64, _ topic: String, policy: String = "", name: String? = nil, as who: Principal) -> Result<SubscribeOutcome, HeraldError> {
        switch service.prepareSubscribe(
            sid: sid, topic: topic, policy: Array(policy.utf8), scope: .messageAttributes, subscriptionName: name,
            ackMode: .auto, credit: 100, principal: who, settings: settings) {
        case .failure(let error): return .failure(error)
        case .success(let request): return service.subscribe(handle, [request])[0]
        }
    }

    @Test func authenticationFailuresAreCountedAndCatalogued() {
        let result = service.authenticate(token: "nobody", certificateCommonName: nil, settings: settings)
        #expect(result.failure?.code == .authenticationFailed)
        #expect(service.context.counters.snapshot.authenticationFailures == 1)
    }

    @Test func publishChecksPermissionThenSNSValidation() throws {
        let pub = try principal("pub"), sub = try principal("sub")
        #expect(publish("orders", "x", as: sub).failure == HeraldError(.notAuthorized, "sub may not publish to orders"))
        #expect(publish("orders", "", as: pub).failure == HeraldError(.invalidParameter, "Invalid parameter: Empty message"))
        let tooMany = MessageAttributes(uniqueKeysWithValues: (0..<11).map { ("a\($0)", MessageAttributeValue.string("v")) })
        #expect(publish("orders", "x", as: pub, attributes: tooMany).failure?.code == .invalidParameter)
        #expect(publish("orders", "x", as: pub).success != nil)
    }

    /// The stream protocol's variant appends to its batch: the same refusals, nothing appended
    /// for them, and the accepted request with the transport cache it was given.
    @Test func publishAppendingToABatchRefusesAndAcceptsAsTheResultVariant() throws {
        let pub = try principal("pub"), sub = try principal("sub")
        final class Kept: MessageTransportCache {}
        var batch: [PublishRequest] = []
        let refused = service.preparePublish(
            topic: "orders", attributes: [:], body: Array("x".utf8), groupID: nil, deduplicationID: nil,
            transportCache: nil, principal: sub, validator: settings.messageValidator, appendingTo: &batch)
        #expect(refused == HeraldError(.notAuthorized, "sub may not publish to orders"))
        let empty = service.preparePublish(
            topic: "orders", attributes: [:], body: [], groupID: nil, deduplicationID: nil,
            transportCache: nil, principal: pub, validator: settings.messageValidator, appendingTo: &batch)
        #expect(empty == HeraldError(.invalidParameter, "Invalid parameter: Empty message"))
        #expect(batch.isEmpty)
        let kept = Kept()
        let accepted = service.preparePublish(
            topic: "orders", attributes: ["k": .string("v")], body: Array("hello".utf8), groupID: nil, deduplicationID: nil,
            transportCache: kept, principal: pub, validator: settings.messageValidator, appendingTo: &batch)
        #expect(accepted == nil)
        #expect(batch.count == 1)
        #expect(batch.first?.topic == "orders")
        #expect(batch.first?.body == Array("hello".utf8))
        #expect(batch.first?.attributes == ["k": .string("v")])
        #expect(batch.first?.transportCache === kept)
    }

    /// A session fills its emptied requests again: every field of the old request is replaced,
    /// the optional ones included, and filling at the end appends.
    @Test func fillingAKeptRequestReplacesEveryField() throws {
        final class Kept: MessageTransportCache {}
        var old = PublishRequest(topic: "old.fifo", attributes: ["a": .string("1")], body: [1], groupID: "g", deduplicationID: "d")
        old.subject = "s"
        old.transportCache = Kept()
        old.protocolBodies = ProtocolBodies(defaultBody: [2], overrides: ["sqs": [3]])
        var batch = [old]
        let filled = service.preparePublish(
            topic: "orders", attributes: [:], body: Array("new".utf8), groupID: nil, deduplicationID: nil,
            transportCache: nil, refusal: nil, validator: settings.messageValidator, filling: &batch, at: 0)
        #expect(filled == nil)
        #expect(batch.count == 1)
        let request = try #require(batch.first)
        #expect(request.topic == "orders" && request.body == Array("new".utf8) && request.attributes.isEmpty)
        #expect(request.groupID == nil && request.deduplicationID == nil && request.subject == nil)
        #expect(request.transportCache == nil && request.protocolBodies == nil)
        let appended = service.preparePublish(
            topic: "orders", attributes: [:], body: Array("more".utf8), groupID: nil, deduplicationID: nil,
            transportCache: nil, refusal: nil, validator: settings.messageValidator, filling: &batch, at: 1)
        #expect(appended == nil)
        #expect(batch.map(\.body) == [Array("new".utf8), Array("more".utf8)])
    }

    @Test func subscribeParsesPoliciesWithSNSTextsAndResolvesNamedSubscriptions() throws {
        let sub = try principal("sub"), pub = try principal("pub")
        let handle = try service.attachSession(nil, principal: sub, sink: Sink()).get()
        #expect(subscribe(handle, sid: 1, "orders", as: pub).failure?.code == .notAuthorized)
        let bad = subscribe(handle, sid: 1, "orders", policy: #"{"a":[{"numeric":[">"]}]}"#, as: sub).failure
        #expect(bad?.code == .invalidFilterPolicy)
        #expect(bad?.message.hasPrefix("Invalid parameter: FilterPolicy:") == true, "\(bad?.message ?? "")")
        #expect(subscribe(handle, sid: 2, "orders", name: "nope", as: sub).failure == HeraldError(.notFound, "Subscription does not exist: nope"))
        #expect(subscribe(handle, sid: 2, "orders-eu", name: "audit", as: sub).failure?.code == .invalidParameter)
        #expect(subscribe(handle, sid: 2, "orders", name: "audit", as: sub).success == .created)
        #expect(subscribe(handle, sid: 2, "orders", as: sub).failure?.code == .duplicateSubscription)
    }

    @Test func publishReachesMatchingSubscribersAndAPolicyChangeAppliesToTheNextMessage() throws {
        let sub = try principal("sub"), pub = try principal("pub")
        let sink = Sink()
        let handle = try service.attachSession(nil, principal: sub, sink: sink).get()
        #expect(subscribe(handle, sid: 1, "orders", policy: #"{"color":["red"]}"#, as: sub).success == .created)
        _ = publish("orders", "blue", as: pub, attributes: ["color": .string("blue")])
        _ = publish("orders", "red", as: pub, attributes: ["color": .string("red")])
        #expect(sink.all == ["1:red"])
        try service.setSubscriptionPolicy(handle, sid: 1, policy: Array(#"{"color":["blue"]}"#.utf8), scope: .messageAttributes, settings: settings)
        _ = publish("orders", "blue2", as: pub, attributes: ["color": .string("blue")])
        _ = publish("orders", "red2", as: pub, attributes: ["color": .string("red")])
        #expect(sink.all == ["1:red", "1:blue2"])
        #expect(throws: HeraldError.self) {
            try service.setSubscriptionPolicy(handle, sid: 1, policy: Array("{".utf8), scope: .messageAttributes, settings: settings)
        }
        try service.unsubscribe(handle, sid: 1)
        #expect(throws: HeraldError(.notFound, "No subscription with sid 1")) { try service.unsubscribe(handle, sid: 1) }
    }

    @Test func ackRangesAreBounded() throws {
        let sub = try principal("sub")
        let handle = try service.attachSession(nil, principal: sub, sink: Sink()).get()
        #expect(throws: HeraldError(.invalidParameter, "an ACK frame may name at most 65536 tags")) {
            try service.ack(handle, sid: 1, ranges: [0...UInt64.max])
        }
        #expect(throws: HeraldError.self) { try service.ack(handle, sid: 9, ranges: [1...2]) }  // no such sid
    }

    @Test func topicsAreCreatedListedAndDeletedWithTheirSubscriptions() throws {
        let all = try principal("all"), sub = try principal("sub")
        #expect(throws: HeraldError(.notAuthorized, "sub may not delete topic orders-x")) { try service.deleteTopic("orders-x", principal: sub) }
        try service.createTopic("orders-x", principal: all)
        try service.createTopic("orders-x", principal: all)  // idempotent, as SNS
        #expect(service.listTopics(principal: sub) == ["orders-x"])
        #expect(service.listTopics(principal: all) == ["declared", "orders-x"])

        let sink = Sink()
        let handle = try service.attachSession(nil, principal: sub, sink: sink).get()
        #expect(subscribe(handle, sid: 1, "orders-x", as: sub).success == .created)
        #expect(try service.subscriptionCount(topic: "orders-x", principal: sub) == 1)
        try service.deleteTopic("orders-x", principal: all)
        try service.deleteTopic("orders-x", principal: all)  // gone already: no error, as SNS
        #expect(service.listTopics(principal: all) == ["declared"])
        #expect(throws: HeraldError.self) { try service.unsubscribe(handle, sid: 1) }
        #expect(throws: HeraldError(.notFound, "Topic does not exist: orders-x")) { try service.subscriptionCount(topic: "orders-x", principal: sub) }
        #expect(throws: HeraldError.self) { try service.deleteTopic("declared", principal: all) }
        let badName = #expect(throws: HeraldError.self) { try service.createTopic("bad name!", principal: all) }
        #expect(badName?.code == .invalidParameter)
    }

    @Test func sessionsBelongToTheirIdentity() throws {
        let sub = try principal("sub"), all = try principal("all")
        let handle = try service.attachSession(nil, principal: sub, sink: Sink()).get()
        #expect(service.attachSession(handle.id, principal: all, sink: Sink()).failure?.code == .notAuthorized)
    }
}

private extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}
