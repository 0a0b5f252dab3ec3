import HeraldCore
import Synchronization
import Testing
@testable import HeraldBroker

/// Delivery targets answer with receipts; a publish is confirmed when the receipts of all the
/// targets its message reached have settled (DeliveryTarget.swift).
@Suite struct ReceiptTests {
    /// An endpoint that holds every slice until the test settles its token.
    final class DeferringEndpoint: MessageEndpoint {
        let tokens = Mutex<[ReceiptToken]>([])
        let refuse: HeraldError?
        init(refuse: HeraldError? = nil) { self.refuse = refuse }
        func deliver(_ messages: [Message]) -> DeliveryReceipt {
            if let refuse { return .failed(refuse) }
            let token = ReceiptToken()
            tokens.withLock { $0.append(token) }
            return .pending(token)
        }
        var last: ReceiptToken? { tokens.withLock { $0.last } }
    }

    final class Settled: Sendable {
        let all = Mutex<[(request: Int, error: HeraldError?)]>([])
        var requests: [Int] { all.withLock { $0.map(\.request) } }
    }

    func broker(_ endpoints: [String: any MessageEndpoint]) throws -> Broker {
        let (broker, _) = try makeBroker(topics: [])
        try broker.applyConfiguration(endpoints.map { topic, endpoint in
            TopicConfiguration(name: topic, subscriptions: [ConfiguredSubscription(name: "e", policy: nil, target: .endpoint(endpoint))])
        } + [TopicConfiguration(name: "plain")])
        return broker
    }

    @Test func onlyRequestsThatReachedAPendingTargetWaitAndTheySettleTogether() throws {
        let deferring = DeferringEndpoint(), recording = RecordingEndpoint()
        let broker = try broker(["slow": deferring, "fast": recording])
        var congestion: PublishCongestion?
        var receipts: PublishReceipts?
        let results = broker.publish(
            [request("slow", "a"), request("fast", "b"), request("plain", "c"), request("slow", "d"), request("nowhere", "e")],
            congestion: &congestion, receipts: &receipts)
        #expect(results.map { $0.success != nil } == [true, true, true, true, false])
        let waiting = try #require(receipts)
        #expect(waiting.waitingRequests == [0, 3])
        let settled = Settled()
        waiting.whenSettled { batch in settled.all.withLock { $0 += batch } }
        #expect(settled.requests.isEmpty)
        deferring.last?.settle()
        #expect(settled.requests.sorted() == [0, 3])
        #expect(settled.all.withLock { $0.allSatisfy { $0.error == nil } })
        deferring.last?.settle(HeraldError(.internal, "twice"))  // settles once only
        #expect(settled.requests.count == 2)
    }

    @Test func aMessageWaitsForEveryPendingTargetAndTakesTheFirstError() throws {
        let first = DeferringEndpoint(), second = DeferringEndpoint()
        let (broker, _) = try makeBroker(topics: [])
        try broker.applyConfiguration([TopicConfiguration(name: "t", subscriptions: [
            ConfiguredSubscription(name: "one", policy: nil, target: .endpoint(first)),
            ConfiguredSubscription(name: "two", policy: nil, target: .endpoint(second)),
        ])])
        var congestion: PublishCongestion?
        var receipts: PublishReceipts?
        _ = broker.publish([request("t", "m")], congestion: &congestion, receipts: &receipts)
        let settled = Settled()
        try #require(receipts).whenSettled { batch in settled.all.withLock { $0 += batch } }
        second.last?.settle(HeraldError(.internal, "disk full"))
        #expect(settled.requests.isEmpty, "the first target has not settled")
        first.last?.settle()
        #expect(settled.requests == [0])
        #expect(settled.all.withLock { $0.first?.error } == HeraldError(.internal, "disk full"))
    }

    @Test func aTargetThatRefusesAtOnceFailsItsRequests() throws {
        let broker = try broker(["full": DeferringEndpoint(refuse: HeraldError(.throttled, "queue full"))])
        var congestion: PublishCongestion?
        var receipts: PublishReceipts?
        let results = broker.publish([request("full", "x"), request("plain", "y")], congestion: &congestion, receipts: &receipts)
        #expect(results[0].failure == .deliveryFailed(HeraldError(.throttled, "queue full")))
        #expect(results[0].failure?.code == .throttled)
        #expect(results[1].success != nil)
        #expect(receipts == nil)
    }

    @Test func receiptsSettledBeforeTheObserverAreReportedToIt() throws {
        let deferring = DeferringEndpoint()
        let broker = try broker(["slow": deferring])
        var congestion: PublishCongestion?
        var receipts: PublishReceipts?
        _ = broker.publish([request("slow", "a")], congestion: &congestion, receipts: &receipts)
        deferring.last?.settle()
        let settled = Settled()
        try #require(receipts).whenSettled { batch in settled.all.withLock { $0 += batch } }
        #expect(settled.requests == [0])
    }

    /// A receipt that settles before the publisher registers its observer (a fast journal) still
    /// counts as waited for, so its result — an error too — reaches the confirmation.
    @Test func aReceiptSettledBeforeTheObserverIsStillWaitedFor() throws {
        let endpoint = DeferringEndpoint()
        let broker = try broker(["t": endpoint])
        var congestion: PublishCongestion?
        var receipts: PublishReceipts?
        _ = broker.publish([PublishRequest(topic: "t", body: [1])], congestion: &congestion, receipts: &receipts)
        let tracker = try #require(receipts)
        try #require(endpoint.last).settle(HeraldError(.storageUnavailable, "disk full"))
        #expect(tracker.waitingRequests == [0], "settled early, but its result is still to be reported")
        let settled = Settled()
        tracker.whenSettled { batch in settled.all.withLock { $0 += batch } }
        #expect(settled.requests == [0])
        #expect(settled.all.withLock { $0.first?.error?.code } == .storageUnavailable)
    }
}
