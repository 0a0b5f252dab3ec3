import HeraldCore
import Testing
@testable import HeraldBroker

@Suite struct QueueCoreStandardTests {
    typealias F = QueueFixture

    @Test func queueEntryStaysSmall() {
        #expect(MemoryLayout<QueueEntry>.stride == 56)
    }

    @Test func visibilityExpiryRedeliversWithANewHandle() throws {
        var queue = F.standard()
        try F.send(&queue, 1, at: 0)
        let first = try queue.receive(max: 1, visibilityTimeout: nil, now: 1000)
        #expect(F.ids(first) == [1])
        let handle1 = try #require(first.received.first)
        #expect(handle1.entry.receiveCount == 1 && handle1.entry.firstReceiveAtMillis == 1000 && handle1.entry.visibleAtMillis == 31_000)
        #expect(queue.counts(now: 30_999) == QueueCounts(visible: 0, inFlight: 1, delayed: 0))
        #expect(queue.counts(now: 31_000) == QueueCounts(visible: 1, inFlight: 0, delayed: 0))
        #expect(try queue.receive(max: 10, visibilityTimeout: nil, now: 30_999).received.isEmpty)
        let second = try queue.receive(max: 10, visibilityTimeout: nil, now: 31_000)
        let handle2 = try #require(second.received.first)
        #expect(handle2.entry.receiveCount == 2 && handle2.entry.firstReceiveAtMillis == 1000)
        #expect(handle2.receiptHandle != handle1.receiptHandle)
        // The old handle no longer deletes (SQS: "succeeds, but the message might not be deleted").
        #expect(try queue.delete(receiptHandle: handle1.receiptHandle, now: 32_000) == nil)
        #expect(queue.counts(now: 32_000).inFlight == 1)
        #expect(try queue.delete(receiptHandle: handle2.receiptHandle, now: 32_000)?.entry == 1)
        #expect(queue.isEmpty)
        // Deleting again succeeds without effect.
        #expect(try queue.delete(receiptHandle: handle2.receiptHandle, now: 32_001) == nil)
    }

    @Test func theLatestHandleStillDeletesJustAfterItsTimeout() throws {
        var queue = F.standard()
        try F.send(&queue, 1, at: 0)
        let handle = try #require(try queue.receive(max: 1, visibilityTimeout: 1, now: 0).received.first).receiptHandle
        #expect(queue.counts(now: 5000).visible == 1)
        #expect(try queue.delete(receiptHandle: handle, now: 5000)?.entry == 1)
        #expect(queue.isEmpty)
    }

    @Test func badHandlesAreReceiptHandleIsInvalid() throws {
        var queue = F.standard()
        try F.send(&queue, 1, at: 0)
        let handle = try #require(try queue.receive(max: 1, visibilityTimeout: nil, now: 0).received.first).receiptHandle
        for text in ["", "abc", handle + "0", String(handle.dropLast()) + "g"] {
            #expect(F.error { () throws(HeraldError) in try queue.delete(receiptHandle: text, now: 1) } == HeraldError(.receiptHandleIsInvalid, "The input receipt handle \"\(text)\" is not a valid receipt handle."))
        }
        var other = QueueCore(name: "q2", attributes: QueueAttributes(fifo: false))
        #expect(F.error { () throws(HeraldError) in try other.delete(receiptHandle: handle, now: 1) }?.code == .receiptHandleIsInvalid)
        #expect(queue.counts(now: 1).inFlight == 1)
    }

    @Test func changeVisibilityExtendsReleasesAndIsCappedAt12Hours() throws {
        var queue = F.standard()
        try F.send(&queue, 1, at: 0)
        let handle = try #require(try queue.receive(max: 1, visibilityTimeout: 30, now: 0).received.first).receiptHandle
        let extended = try queue.changeVisibility(receiptHandle: handle, timeout: 60, now: 10_000)
        #expect(extended.entry.visibleAtMillis == 70_000)
        #expect(queue.counts(now: 69_999).inFlight == 1 && queue.counts(now: 70_000).visible == 1)
        // 12 h from the receive at 0: 43,190 s from t = 10 s is the most.
        #expect(F.error { () throws(HeraldError) in try queue.changeVisibility(receiptHandle: handle, timeout: 43_191, now: 10_000) }
            == HeraldError(.invalidParameterValue, "Value 43191 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"))
        #expect(try queue.changeVisibility(receiptHandle: handle, timeout: 43_190, now: 10_000).entry.visibleAtMillis == 43_200_000)
        #expect(F.error { () throws(HeraldError) in try queue.changeVisibility(receiptHandle: handle, timeout: 43_201, now: 10_000) }
            == HeraldError(.invalidParameterValue, "Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided."))
        // 0: visible at once, and then it is not in flight.
        _ = try queue.changeVisibility(receiptHandle: handle, timeout: 0, now: 20_000)
        #expect(queue.counts(now: 20_000) == QueueCounts(visible: 1, inFlight: 0, delayed: 0))
        #expect(F.error { () throws(HeraldError) in try queue.changeVisibility(receiptHandle: handle, timeout: 5, now: 20_000) }
            == HeraldError(.messageNotInflight, "Message does not exist or is not available for visibility timeout change."))
        #expect(F.ids(try queue.receive(max: 1, visibilityTimeout: nil, now: 20_000)) == [1])
    }

    @Test func delaysFromTheQueueAndPerMessage() throws {
        var queue = F.standard { $0.delaySeconds = 10 }
        try F.send(&queue, 1, at: 0)
        try F.send(&queue, 2, at: 0, delay: 5)
        try F.send(&queue, 3, at: 0, delay: 0)
        #expect(queue.counts(now: 0) == QueueCounts(visible: 1, inFlight: 0, delayed: 2))
        #expect(queue.nextChange(after: 0) == 5000)
        #expect(F.ids(try queue.receive(max: 10, visibilityTimeout: nil, now: 4999)) == [3])
        #expect(F.ids(try queue.receive(max: 10, visibilityTimeout: nil, now: 5000)) == [2])
        #expect(F.ids(try queue.receive(max: 10, visibilityTimeout: nil, now: 9999)) == [])
        #expect(F.ids(try queue.receive(max: 10, visibilityTimeout: nil, now: 10_000)) == [1])
        #expect(F.error { () throws(HeraldError) in try F.send(&queue, 4, at: 0, delay: 901) }
            == HeraldError(.invalidParameterValue, "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."))
        // Not retroactive on a standard queue.
        var later = F.standard { $0.delaySeconds = 100 }
        try F.send(&later, 1, at: 0)
        later.attributes.delaySeconds = 0
        #expect(later.counts(now: 1).delayed == 1)
    }

    @Test func retentionExpiresFromTheSendTimeInFlightOrNot() throws {
        var queue = F.standard { $0.messageRetentionPeriod = 60 }
        try F.send(&queue, 1, at: 0)
        try F.send(&queue, 2, at: 10_000)
        try F.send(&queue, 3, at: 30_000)
        _ = try queue.receive(max: 1, visibilityTimeout: 600, now: 30_000)  // 1 in flight
        #expect(queue.expire(now: 59_999).isEmpty)
        #expect(queue.expire(now: 60_000).map(\.entry) == [1])
        #expect(queue.expire(now: 70_000).map(\.entry) == [2])
        #expect(queue.counts(now: 70_000) == QueueCounts(visible: 1, inFlight: 0, delayed: 0))
    }

    @Test func aRedeliveryOutOfSendOrderStillExpires() throws {
        var queue = F.standard { $0.messageRetentionPeriod = 60 }
        try F.send(&queue, 1, at: 0)
        _ = try queue.receive(max: 1, visibilityTimeout: 10, now: 0)
        try F.send(&queue, 2, at: 5000)
        // 1 is visible again at 10 s, behind 2 in the deque.
        #expect(queue.counts(now: 10_000).visible == 2)
        #expect(queue.expire(now: 60_000).map(\.entry) == [1])
        #expect(queue.storedCount == 1)
    }

    @Test func purgeTakesEverythingOncePerMinute() throws {
        var queue = F.standard()
        try F.send(&queue, 1, at: 0)
        try F.send(&queue, 2, at: 0, delay: 60)
        _ = try queue.receive(max: 1, visibilityTimeout: nil, now: 0)
        try F.send(&queue, 3, at: 0)
        #expect(Set(try queue.purge(now: 1000).map(\.entry)) == [1, 2, 3])
        #expect(queue.isEmpty && queue.counts(now: 1000) == QueueCounts(visible: 0, inFlight: 0, delayed: 0))
        #expect(F.error { () throws(HeraldError) in try queue.purge(now: 60_999) }
            == HeraldError(.purgeQueueInProgress, "Only one PurgeQueue operation on q1 is allowed every 60 seconds."))
        #expect(try queue.purge(now: 61_000).isEmpty)
    }

    @Test func aReceivePastMaxReceiveCountMovesToTheDeadLetterQueue() throws {
        let arn = "arn:aws:sqs:us-east-1:000000000000:dead"
        var queue = F.standard { $0.redrivePolicy = RedrivePolicy(deadLetterTargetQueue: "dead", deadLetterTargetArn: arn, maxReceiveCount: 2) }
        try F.send(&queue, 1, at: 0)
        try F.send(&queue, 2, at: 0)
        #expect(F.ids(try queue.receive(max: 1, visibilityTimeout: 1, now: 0)) == [1])
        #expect(F.ids(try queue.receive(max: 1, visibilityTimeout: 1, now: 1000)) == [2])
        #expect(F.ids(try queue.receive(max: 1, visibilityTimeout: 1, now: 2000)) == [1])
        let third = try queue.receive(max: 10, visibilityTimeout: 1, now: 3000)
        #expect(F.ids(third) == [2])
        #expect(third.deadLettered.map(\.entry) == [1])
        #expect(third.deadLettered.first?.receiveCount == 2 && third.deadLettered.first?.sentAtMillis == 0)
        #expect(queue.storedCount == 1)
    }

    @Test func receiveValidatesAndStopsAtTheInFlightLimit() throws {
        var queue = F.standard(inFlightLimit: 2)
        for id in 1...4 { try F.send(&queue, UInt64(id), at: 0) }
        for bad in [0, 11] {
            #expect(F.error { () throws(HeraldError) in try queue.receive(max: bad, visibilityTimeout: nil, now: 0) }
                == HeraldError(.invalidParameterValue, "Value \(bad) for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."))
        }
        #expect(try queue.receive(max: 10, visibilityTimeout: nil, now: 0).received.count == 2)
        #expect(F.error { () throws(HeraldError) in try queue.receive(max: 10, visibilityTimeout: nil, now: 0) }?.code == .overLimit)
        #expect(F.error { () throws(HeraldError) in try F.send(&queue, 9, at: 0) } == nil)
        var small = F.standard { $0.maximumMessageSize = 1024 }
        #expect(F.error { () throws(HeraldError) in
            try small.enqueue(F.entry(1, sentAt: 0, size: 1025), messageID: "m", groupID: nil, deduplicationID: nil, delaySeconds: nil, now: 0)
        } == HeraldError(.invalidParameterValue, "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."))
        #expect(F.error { () throws(HeraldError) in
            try small.enqueue(F.entry(1, sentAt: 0), messageID: "m", groupID: nil, deduplicationID: "x", delaySeconds: nil, now: 0)
        }?.message == "Value x for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.")
    }

    @Test func nextChangeIsTheEarliestTimeout() throws {
        var queue = F.standard()
        #expect(queue.nextChange(after: 0) == nil)
        try F.send(&queue, 1, at: 0, delay: 20)
        try F.send(&queue, 2, at: 0)
        _ = try queue.receive(max: 1, visibilityTimeout: 7, now: 1000)
        #expect(queue.nextChange(after: 1000) == 8000)
        #expect(queue.hasVisible(now: 1000) == false)
        #expect(queue.hasVisible(now: 8000))
    }

    @Test func replayRestoresStateAndHandlesSurviveARestart() throws {
        var before = F.standard()
        try F.send(&before, 1, at: 0)
        try F.send(&before, 2, at: 0)
        try F.send(&before, 3, at: 0, delay: 100)
        let received = try #require(try before.receive(max: 1, visibilityTimeout: 30, now: 1000).received.first)
        var after = F.standard()
        for entry in before.entries().sorted(by: { $0.entry < $1.entry }) {
            after.restore(entry, groupID: nil, deduplicationID: nil, messageID: "m\(entry.entry)", now: 2000)
        }
        #expect(after.counts(now: 2000) == before.counts(now: 2000))
        #expect(try after.delete(receiptHandle: received.receiptHandle, now: 2000)?.entry == received.entry.entry)
        // A journaled receive of 2, then a delete of 3.
        let applied = after.applyVisibility(entry: 2, visibleAt: 9000, receiveCount: 1, firstReceiveAt: 2000, now: 2000)
        #expect(applied)
        #expect(after.counts(now: 2000) == QueueCounts(visible: 0, inFlight: 1, delayed: 1))
        let removed = after.remove(entry: 3), again = after.remove(entry: 3)
        #expect(removed?.entry == 3 && again == nil)
        after.updatePosition(entry: 2, to: 777)
        #expect(after.entries().map(\.position) == [777])
    }
}
