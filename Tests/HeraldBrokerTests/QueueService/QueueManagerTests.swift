import Dispatch
import Foundation
import FilterPolicy
import HeraldCore
import HeraldStore
import Synchronization
import Testing
@testable import HeraldBroker

/// The queue manager over the in-memory store: journal order, durability before replies and
/// visibility, one record per publish however many queues, replay, dead letters and long polls.
@Suite struct QueueManagerTests {
    final class Clock: Sendable {
        let millis = Atomic<Int64>(1_800_000_000_000)
        func advance(seconds: Int64) { millis.add(seconds * 1000, ordering: .relaxed) }
        var now: Int64 { millis.load(ordering: .relaxed) }
    }

    struct PlainRenderer: QueueMessageRenderer {
        func envelope(for message: StoredMessage, subscription: String) -> [UInt8] { Array("envelope:\(subscription):".utf8) + message.body }
    }

    static func makeManager(_ store: MemoryLogStore = MemoryLogStore(), clock: Clock = Clock()) -> QueueManager {
        QueueManager(store: store, renderer: PlainRenderer(), clock: { clock.now }, contentHash: { "hash-\($0.count)" })
    }

    /// Runs an asynchronous call and waits for its reply.
    static func wait<T: Sendable>(_ call: (@escaping @Sendable (T) -> Void) -> Void) throws -> T {
        let box = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        call { value in
            box.withLock { $0 = value }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 10) == .success, "the reply came")
        return try #require(box.withLock { $0 })
    }

    static func create(_ manager: QueueManager, _ name: String, _ configure: (inout QueueAttributes) -> Void = { _ in }) throws {
        var attributes = QueueAttributes(fifo: name.hasSuffix(".fifo"))
        configure(&attributes)
        let result: Result<Void, HeraldError> = try wait { manager.createQueue(name, attributes: attributes, reply: $0) }
        try result.get()
    }

    static func send(_ manager: QueueManager, _ queue: String, _ bodies: [String]) throws -> [Result<QueueSendResult, HeraldError>] {
        try wait { manager.send(queue, bodies.map { QueueSendRequest(body: Array($0.utf8)) }, reply: $0) }
    }

    static func receive(_ manager: QueueManager, _ queue: String, max: Int = 10, wait seconds: Int? = 0, visibility: Int? = nil) throws -> [ReceivedQueueMessage] {
        let result: Result<[ReceivedQueueMessage], HeraldError> = try wait { manager.receive(queue, max: max, wait: seconds, visibilityTimeout: visibility, reply: $0) }
        return try result.get()
    }

    @Test func sendReceiveDeleteRoundTrip() throws {
        let manager = Self.makeManager()
        try Self.create(manager, "orders")
        let sent = try Self.send(manager, "orders", ["one", "two"])
        #expect(sent.allSatisfy { $0.success != nil })
        let got = try Self.receive(manager, "orders")
        #expect(got.map { String(decoding: $0.body, as: UTF8.self) }.sorted() == ["one", "two"])
        #expect(got.allSatisfy { $0.receiveCount == 1 })
        let deleted: [Result<Void, HeraldError>] = try Self.wait { manager.delete("orders", receiptHandles: got.map(\.receiptHandle), reply: $0) }
        #expect(deleted.allSatisfy { $0.success != nil })
        let summary = try #require(manager.summary("orders"))
        #expect(summary.visible + summary.inFlight + summary.delayed == 0)
    }

    @Test func unknownQueueIsSQSsError() throws {
        let manager = Self.makeManager()
        let result: Result<[ReceivedQueueMessage], HeraldError> = try Self.wait { manager.receive("nope", max: 1, wait: 0, visibilityTimeout: nil, reply: $0) }
        #expect(result.failure == HeraldError(.queueDoesNotExist, "The specified queue does not exist."))
    }

    @Test func aFailedWriteIsRefusedAndNothingBecomesVisible() throws {
        let store = MemoryLogStore()
        let manager = Self.makeManager(store)
        try Self.create(manager, "orders")
        store.failNextAppends(1)
        let refused = try Self.send(manager, "orders", ["lost"])
        #expect(refused.first?.failure?.code == .storageUnavailable)
        #expect(try Self.receive(manager, "orders").isEmpty, "an unconfirmed send is not delivered")
        let later = try Self.send(manager, "orders", ["kept"])
        #expect(later.first?.success != nil, "the next send succeeds once the store does")
        #expect(try Self.receive(manager, "orders").map { String(decoding: $0.body, as: UTF8.self) } == ["kept"])
    }

    @Test func topicFanOutWritesOneRecordForAllQueuesAndConfirmsWhenDurable() throws {
        let store = MemoryLogStore()
        let manager = Self.makeManager(store)
        for name in ["a", "b", "c"] { try Self.create(manager, name) }
        let broker = Broker(matcherFactory: AttributeMatcherFactory(), idSeed: 7)
        let even = try FilterPolicy.parse(utf8: Array(#"{"n":["even"]}"#.utf8), scope: .messageAttributes)
        try broker.applyConfiguration([TopicConfiguration(name: "t", subscriptions: [
            ConfiguredSubscription(name: "to-a", policy: nil, target: .queue(QueueSubscriptionRoute(queue: "a", subscription: "to-a", raw: true), manager)),
            ConfiguredSubscription(name: "to-b", policy: nil, target: .queue(QueueSubscriptionRoute(queue: "b", subscription: "to-b", raw: false), manager)),
            ConfiguredSubscription(name: "to-c", policy: even, target: .queue(QueueSubscriptionRoute(queue: "c", subscription: "to-c", raw: true), manager)),
        ])])
        var congestion: PublishCongestion?
        var receipts: PublishReceipts?
        let results = broker.publish([
            PublishRequest(topic: "t", attributes: ["n": .string("even")], body: Array("m0".utf8)),
            PublishRequest(topic: "t", attributes: ["n": .string("odd")], body: Array("m1".utf8)),
        ], congestion: &congestion, receipts: &receipts)
        #expect(results.allSatisfy { $0.success != nil })
        let tracker = try #require(receipts, "queue targets answer later: after the journal write")
        let settled: [(request: Int, error: HeraldError?)] = try Self.wait { done in tracker.whenSettled { done($0) } }
        #expect(settled.allSatisfy { $0.error == nil })
        var messageRecords = 0
        try store.replay { record, _ in if case .message = record { messageRecords += 1 } }
        #expect(messageRecords == 2, "one record per publish, shared by the queues it reached")
        #expect(try Self.receive(manager, "a").count == 2)
        let enveloped = try Self.receive(manager, "b")
        #expect(enveloped.count == 2 && enveloped.allSatisfy { String(decoding: $0.body, as: UTF8.self).hasPrefix("envelope:to-b:") })
        #expect(try Self.receive(manager, "c").map { String(decoding: $0.body, as: UTF8.self) } == ["m0"], "the filter decides")
    }

    @Test func aPublishTheStoreCannotKeepGetsAnError() throws {
        let store = MemoryLogStore()
        let manager = Self.makeManager(store)
        try Self.create(manager, "a")
        let broker = Broker(matcherFactory: AttributeMatcherFactory(), idSeed: 7)
        try broker.applyConfiguration([TopicConfiguration(name: "t", subscriptions: [
            ConfiguredSubscription(name: "to-a", policy: nil, target: .queue(QueueSubscriptionRoute(queue: "a", subscription: "to-a", raw: true), manager)),
        ])])
        store.failNextAppends(1)
        var congestion: PublishCongestion?
        var receipts: PublishReceipts?
        _ = broker.publish([PublishRequest(topic: "t", body: Array("x".utf8))], congestion: &congestion, receipts: &receipts)
        let tracker = try #require(receipts)
        let settled: [(request: Int, error: HeraldError?)] = try Self.wait { done in tracker.whenSettled { done($0) } }
        #expect(settled.first?.error?.code == .storageUnavailable, "never a confirmation for what is not durable")
        #expect(try Self.receive(manager, "a").isEmpty)
    }

    @Test func replayRebuildsQueuesFromTheLog() throws {
        let store = MemoryLogStore()
        let clock = Clock()
        let manager = Self.makeManager(store, clock: clock)
        try Self.create(manager, "orders") { $0.visibilityTimeout = 60 }
        _ = try Self.send(manager, "orders", (0..<6).map { "m\($0)" })
        let first = try Self.receive(manager, "orders", max: 3)
        let _: [Result<Void, HeraldError>] = try Self.wait { manager.delete("orders", receiptHandles: [first[0].receiptHandle], reply: $0) }
        let before = try #require(manager.summary("orders"))

        let reopened = Self.makeManager(store, clock: clock)
        let report = try reopened.open()
        #expect(report.queues == 1 && report.messages == 5 && report.inFlight == 2)
        let after = try #require(reopened.summary("orders"))
        #expect(after.visible == before.visible && after.inFlight == before.inFlight)
        clock.advance(seconds: 61)
        let again = try Self.receive(reopened, "orders")
        #expect(again.count == 5, "in-flight messages come back after their timeout, the deleted one does not")
        #expect(!again.contains { String(decoding: $0.body, as: UTF8.self) == "m0" || $0.messageID == first[0].messageID })
        #expect(again.filter { $0.receiveCount == 2 }.count == 2, "receive counts survive the restart")
    }

    @Test func aMessagePastMaxReceiveCountMovesToTheDeadLetterQueue() throws {
        let manager = Self.makeManager()
        try Self.create(manager, "dlq")
        try Self.create(manager, "work") {
            $0.visibilityTimeout = 0
            $0.redrivePolicy = RedrivePolicy(deadLetterTargetQueue: "dlq", deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:dlq", maxReceiveCount: 2)
        }
        _ = try Self.send(manager, "work", ["poison"])
        #expect(try Self.receive(manager, "work").count == 1)
        #expect(try Self.receive(manager, "work").count == 1)
        #expect(try Self.receive(manager, "work").isEmpty, "the third receive moves it instead")
        let dead = try Self.receive(manager, "dlq", wait: 2)
        #expect(dead.map { String(decoding: $0.body, as: UTF8.self) } == ["poison"])
        let moved: Result<Int, HeraldError> = try Self.wait { manager.redrive(from: "dlq", to: "work", reply: $0) }
        #expect(moved.success == 0, "an in-flight message is not moved")
    }

    @Test func redriveMovesVisibleMessagesBackAsNewMessages() throws {
        let manager = Self.makeManager()
        try Self.create(manager, "dlq")
        try Self.create(manager, "work")
        let sent = try Self.send(manager, "dlq", ["a", "b"])
        let moved: Result<Int, HeraldError> = try Self.wait { manager.redrive(from: "dlq", to: "work", reply: $0) }
        #expect(moved.success == 2)
        let got = try Self.receive(manager, "work")
        #expect(got.map { String(decoding: $0.body, as: UTF8.self) }.sorted() == ["a", "b"])
        #expect(Set(got.map(\.messageID)).isDisjoint(with: sent.compactMap { $0.success?.messageID }), "new ids, as SQS's redrive gives")
        #expect(try Self.receive(manager, "dlq").isEmpty)
    }

    @Test func aLongPollWakesWhenAMessageArrivesAndTimesOutEmpty() throws {
        let manager = Self.makeManager()
        try Self.create(manager, "orders")
        let started = DispatchTime.now().uptimeNanoseconds
        let got = Mutex<[ReceivedQueueMessage]?>(nil)
        let done = DispatchSemaphore(value: 0)
        manager.receive("orders", max: 1, wait: 10, visibilityTimeout: nil) { result in
            got.withLock { $0 = try? result.get() }
            done.signal()
        }
        usleep(200_000)
        _ = try Self.send(manager, "orders", ["late"])
        #expect(done.wait(timeout: .now() + 5) == .success)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        #expect(got.withLock { $0?.count } == 1)
        #expect(elapsed < 5, "woken by the send, not by the 10 s timeout (\(elapsed) s)")

        let emptyStart = DispatchTime.now().uptimeNanoseconds
        let empty = try Self.receive(manager, "orders", max: 1, wait: 1)
        let waited = Double(DispatchTime.now().uptimeNanoseconds - emptyStart) / 1e9
        #expect(empty.isEmpty && waited >= 0.9, "an empty long poll lasts its wait (\(waited) s)")
    }

    @Test func aRedriveTheStoreCannotKeepLeavesTheMessagesInTheDeadLetterQueue() throws {
        let store = MemoryLogStore()
        let manager = Self.makeManager(store)
        try Self.create(manager, "dlq")
        try Self.create(manager, "work")
        _ = try Self.send(manager, "dlq", ["a", "b"])
        store.failNextAppends(1)
        let moved: Result<Int, HeraldError> = try Self.wait { manager.redrive(from: "dlq", to: "work", reply: $0) }
        #expect(moved.failure?.code == .storageUnavailable)
        #expect(try Self.receive(manager, "work").isEmpty, "nothing arrived")
        #expect(try Self.receive(manager, "dlq", wait: 1).map { String(decoding: $0.body, as: UTF8.self) }.sorted() == ["a", "b"], "nothing was lost")
    }

    @Test func aDeadLetterMoveTheStoreCannotKeepLeavesTheMessageInItsQueue() throws {
        let store = MemoryLogStore()
        let manager = Self.makeManager(store)
        try Self.create(manager, "dlq")
        try Self.create(manager, "work") {
            $0.visibilityTimeout = 0
            $0.redrivePolicy = RedrivePolicy(deadLetterTargetQueue: "dlq", deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:dlq", maxReceiveCount: 1)
        }
        _ = try Self.send(manager, "work", ["poison"])
        #expect(try Self.receive(manager, "work").count == 1)
        store.failNextAppends(1)
        #expect(try Self.receive(manager, "work").isEmpty, "this receive moves it, and the move fails")
        #expect(try Self.receive(manager, "dlq").isEmpty)
        try eventually { manager.summary("work")?.visible == 1 }
        #expect(try Self.receive(manager, "work").isEmpty, "the next receive moves it again, and this time it is written")
        #expect(try Self.receive(manager, "dlq", wait: 2).map { String(decoding: $0.body, as: UTF8.self) } == ["poison"])
    }

    @Test func fifoQueuesTakeMessagesDeduplicateAndReplayTheSame() throws {
        let store = MemoryLogStore()
        let manager = Self.makeManager(store)
        try Self.create(manager, "jobs.fifo")
        func send(_ body: String, dedup: String) throws -> Result<QueueSendResult, HeraldError>? {
            let results: [Result<QueueSendResult, HeraldError>] = try Self.wait {
                manager.send("jobs.fifo", [QueueSendRequest(body: Array(body.utf8), groupID: "g", deduplicationID: dedup)], reply: $0)
            }
            return results.first
        }
        let first = try #require(try send("one", dedup: "d1")?.success)
        let again = try #require(try send("one again", dedup: "d1")?.success)
        #expect(again.messageID == first.messageID, "a duplicate is answered with the first message's id")
        _ = try send("two", dedup: "d2")
        #expect(try Self.receive(manager, "jobs.fifo").map { String(decoding: $0.body, as: UTF8.self) } == ["one", "two"], "in group order, the duplicate not taken")
        #expect(try Self.receive(manager, "jobs.fifo").isEmpty, "the group is in flight")

        let reopened = Self.makeManager(store)
        let report = try reopened.open()
        #expect(report.messages == 2, "the duplicate was not taken, and a replay does not take it either")
    }

    @Test func aDeletedQueuesMessagesDoNotReappearInALaterQueueWithItsID() throws {
        let store = MemoryLogStore()
        let manager = Self.makeManager(store)
        try Self.create(manager, "a")
        try Self.create(manager, "b")
        _ = try Self.send(manager, "b", ["old"])
        let deleted: Result<Void, HeraldError> = try Self.wait { manager.deleteQueue("b", reply: $0) }
        try deleted.get()
        let second = Self.makeManager(store)
        _ = try second.open()
        try Self.create(second, "c")  // may get b's id
        let third = Self.makeManager(store)
        _ = try third.open()
        #expect(try Self.receive(third, "c").isEmpty, "c starts empty, whatever id it got")
    }

    @Test func aQueueWhoseMetadataWriteFailsIsNotCreated() throws {
        let store = MemoryLogStore()
        let manager = Self.makeManager(store)
        store.failNextAppends(1)
        let result: Result<Void, HeraldError> = try Self.wait { manager.createQueue("jobs", attributes: QueueAttributes(fifo: false), reply: $0) }
        #expect(result.failure?.code == .storageUnavailable)
        #expect(manager.summary("jobs") == nil, "a restart would not know it, so it does not exist now either")
        try Self.create(manager, "jobs")
        #expect(manager.summary("jobs") != nil, "creating it again works")
    }

    @Test func setQueueAttributesChecksTheDeadLetterTarget() throws {
        let manager = Self.makeManager()
        try Self.create(manager, "work")
        try Self.create(manager, "dlq.fifo")
        var attributes = QueueAttributes(fifo: false)
        attributes.redrivePolicy = RedrivePolicy(deadLetterTargetQueue: "missing", deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:missing", maxReceiveCount: 3)
        let missing: Result<Void, HeraldError> = try Self.wait { manager.setAttributes("work", attributes, reply: $0) }
        #expect(missing.failure?.code == .invalidParameterValue)
        attributes.redrivePolicy = RedrivePolicy(deadLetterTargetQueue: "dlq.fifo", deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:dlq.fifo", maxReceiveCount: 3)
        let otherType: Result<Void, HeraldError> = try Self.wait { manager.setAttributes("work", attributes, reply: $0) }
        #expect(otherType.failure?.code == .invalidParameterValue, "a FIFO dead-letter queue for a standard queue")
        #expect(manager.summary("work")?.attributes.redrivePolicy == nil, "nothing changed")
    }

    @Test func aFIFODeduplicationWindowSurvivesARestartAfterItsMessageWasDeleted() throws {
        let store = MemoryLogStore()
        let clock = Clock()
        let manager = Self.makeManager(store, clock: clock)
        try Self.create(manager, "jobs.fifo")
        func send(_ on: QueueManager, _ dedup: String) throws -> String? {
            let results: [Result<QueueSendResult, HeraldError>] = try Self.wait {
                on.send("jobs.fifo", [QueueSendRequest(body: Array("x".utf8), groupID: "g", deduplicationID: dedup)], reply: $0)
            }
            return results.first?.success?.messageID
        }
        let first = try #require(try send(manager, "d1"))
        let got = try Self.receive(manager, "jobs.fifo")
        let _: [Result<Void, HeraldError>] = try Self.wait { manager.delete("jobs.fifo", receiptHandles: got.map(\.receiptHandle), reply: $0) }

        clock.advance(seconds: 60)
        let reopened = Self.makeManager(store, clock: clock)
        _ = try reopened.open()
        #expect(try send(reopened, "d1") == first, "inside the 5 minutes the id is still known: the first message's id, nothing enqueued")
        #expect(try Self.receive(reopened, "jobs.fifo").isEmpty)
        clock.advance(seconds: 300)
        #expect(try send(reopened, "d1") != first, "after the window it is a new message")
    }
}

/// Polls `condition` until it holds (5 s at most).
func eventually(_ condition: () -> Bool) throws {
    let deadline = DispatchTime.now().uptimeNanoseconds + 5_000_000_000
    while !condition() {
        guard DispatchTime.now().uptimeNanoseconds < deadline else {
            Issue.record("condition did not hold within 5 s")
            return
        }
        usleep(10_000)
    }
}
