import HeraldCore
import Testing
@testable import HeraldBroker

@Suite struct QueueCoreFIFOTests {
    typealias F = QueueFixture

    @Test func aGroupWithAMessageInFlightIsHeldBackOthersProceed() throws {
        var queue = F.fifo()
        try F.sendFIFO(&queue, 1, group: "a", at: 0)
        try F.sendFIFO(&queue, 2, group: "a", at: 0)
        try F.sendFIFO(&queue, 3, group: "b", at: 0)
        let first = try queue.receive(max: 1, visibilityTimeout: nil, now: 0)
        #expect(F.ids(first) == [1] && first.received.first?.groupID == "a")
        #expect(F.ids(try queue.receive(max: 10, visibilityTimeout: nil, now: 0)) == [3])
        #expect(F.ids(try queue.receive(max: 10, visibilityTimeout: nil, now: 0)) == [])
        // 2 counts as visible (SQS's ApproximateNumberOfMessages) though its group is blocked.
        #expect(queue.counts(now: 0) == QueueCounts(visible: 1, inFlight: 2, delayed: 0))
        #expect(queue.hasVisible(now: 0) == false)
        let handle = try #require(first.received.first).receiptHandle
        #expect(try queue.delete(receiptHandle: handle, now: 1)?.entry == 1)
        #expect(queue.hasVisible(now: 1))
        #expect(F.ids(try queue.receive(max: 10, visibilityTimeout: nil, now: 1)) == [2])
    }

    @Test func oneReceiveTakesSeveralOfAGroupInOrderAndOrderSurvivesTimeouts() throws {
        var queue = F.fifo()
        for id in 1...3 { try F.sendFIFO(&queue, UInt64(id), group: "g", at: 0) }
        try F.sendFIFO(&queue, 4, group: "h", at: 0)
        #expect(F.ids(try queue.receive(max: 2, visibilityTimeout: 10, now: 0)) == [1, 2])
        #expect(F.ids(try queue.receive(max: 10, visibilityTimeout: 10, now: 0)) == [4])
        // Both of g's time out; 3 must not overtake them.
        let again = try queue.receive(max: 10, visibilityTimeout: 10, now: 10_000)
        #expect(F.ids(again) == [1, 2, 3, 4])
        #expect(again.received.map(\.entry.receiveCount) == [2, 2, 1, 2])
        // One released early still waits for its group's other in-flight message.
        let handle1 = again.received[0].receiptHandle
        _ = try queue.changeVisibility(receiptHandle: handle1, timeout: 0, now: 11_000)
        #expect(F.ids(try queue.receive(max: 10, visibilityTimeout: nil, now: 11_000)) == [])
        #expect(F.ids(try queue.receive(max: 10, visibilityTimeout: nil, now: 20_000)) == [1, 2, 3, 4])
    }

    @Test func deduplicationWindowIsFiveMinutes() throws {
        var queue = F.fifo()
        #expect(try F.sendFIFO(&queue, 1, group: "g", at: 0, dedup: "same") == .enqueued)
        #expect(try F.sendFIFO(&queue, 2, group: "g", at: 299_000, dedup: "same") == .duplicate(originalMessageID: "m1"))
        #expect(try F.sendFIFO(&queue, 3, group: "other", at: 299_999, dedup: "same") == .duplicate(originalMessageID: "m1"))
        #expect(queue.storedCount == 1)
        // Still tracked after the delete; the window runs from the first send.
        let handle = try #require(try queue.receive(max: 1, visibilityTimeout: nil, now: 1000).received.first).receiptHandle
        _ = try queue.delete(receiptHandle: handle, now: 1000)
        #expect(try F.sendFIFO(&queue, 4, group: "g", at: 200_000, dedup: "same") == .duplicate(originalMessageID: "m1"))
        #expect(try F.sendFIFO(&queue, 5, group: "g", at: 300_000, dedup: "same") == .enqueued)
        #expect(try F.sendFIFO(&queue, 6, group: "g", at: 301_000, dedup: "same") == .duplicate(originalMessageID: "m5"))
        #expect(try F.sendFIFO(&queue, 7, group: "g", at: 601_000, dedup: "same") == .enqueued)
    }

    @Test func contentBasedDeduplicationUsesTheCallersHash() throws {
        var queue = F.fifo { $0.contentBasedDeduplication = true }
        let hash = "532eaabd9574880dbf76b9b8cc00832c20a6ec113d682299550d7a6e0f345e25"  // SHA-256("Test")
        #expect(try F.sendFIFO(&queue, 1, group: "g", at: 0, dedup: hash) == .enqueued)
        #expect(try F.sendFIFO(&queue, 2, group: "g", at: 1, dedup: hash) == .duplicate(originalMessageID: "m1"))
        var plain = F.fifo()
        #expect(F.error { () throws(HeraldError) in
            try plain.enqueue(F.entry(1, sentAt: 0), messageID: "m1", groupID: "g", deduplicationID: nil, delaySeconds: nil, now: 0)
        } == HeraldError(.invalidParameterValue, "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"))
    }

    @Test func fifoSendRulesHaveSQSTexts() {
        var queue = F.fifo()
        #expect(F.error { () throws(HeraldError) in
            try queue.enqueue(F.entry(1, sentAt: 0), messageID: "m1", groupID: "g", deduplicationID: "d", delaySeconds: 2, now: 0)
        } == HeraldError(.invalidParameterValue, "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."))
        #expect(F.error { () throws(HeraldError) in
            try queue.enqueue(F.entry(1, sentAt: 0), messageID: "m1", groupID: nil, deduplicationID: "d", delaySeconds: nil, now: 0)
        } == HeraldError(.missingParameter, "The request must contain the parameter MessageGroupId."))
        for bad in ["", "a b", String(repeating: "x", count: 129), "é"] {
            #expect(F.error { () throws(HeraldError) in try F.sendFIFO(&queue, 1, group: bad, at: 0) }
                == HeraldError(.invalidParameterValue, "Value \(bad) for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length."))
        }
        #expect(F.error { () throws(HeraldError) in try F.sendFIFO(&queue, 1, group: String(repeating: "x", count: 128), at: 0, dedup: "!~") } == nil)
        #expect(queue.storedCount == 1)
    }

    @Test func aDeleteAfterTheTimeoutHasExpired() throws {
        var queue = F.fifo()
        try F.sendFIFO(&queue, 1, group: "g", at: 0)
        try F.sendFIFO(&queue, 2, group: "g", at: 0)
        let received = try queue.receive(max: 2, visibilityTimeout: 5, now: 0).received
        #expect(try queue.delete(receiptHandle: received[1].receiptHandle, now: 1000)?.entry == 2)
        #expect(try queue.delete(receiptHandle: received[1].receiptHandle, now: 1000) == nil)  // repeated: success
        let late = received[0].receiptHandle
        #expect(F.error { () throws(HeraldError) in try queue.delete(receiptHandle: late, now: 5000) }
            == HeraldError(.invalidParameterValue, "Value \(late) for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."))
        #expect(queue.storedCount == 1)
    }

    @Test func aQueueDelayChangeIsRetroactiveOnFIFO() throws {
        var queue = F.fifo { $0.delaySeconds = 60 }
        try F.sendFIFO(&queue, 1, group: "g", at: 0)
        try F.sendFIFO(&queue, 2, group: "h", at: 0)
        #expect(queue.counts(now: 0) == QueueCounts(visible: 0, inFlight: 0, delayed: 2))
        #expect(F.ids(try queue.receive(max: 10, visibilityTimeout: nil, now: 10_000)) == [])
        #expect(queue.nextChange(after: 10_000) == 60_000)
        queue.attributes.delaySeconds = 5
        #expect(queue.counts(now: 10_000) == QueueCounts(visible: 2, inFlight: 0, delayed: 0))
        #expect(F.ids(try queue.receive(max: 10, visibilityTimeout: nil, now: 10_000)) == [1, 2])
    }

    @Test func deadLetteringSkipsToTheNextInTheGroup() throws {
        let arn = "arn:aws:sqs:us-east-1:000000000000:dead.fifo"
        var queue = F.fifo { $0.redrivePolicy = RedrivePolicy(deadLetterTargetQueue: "dead.fifo", deadLetterTargetArn: arn, maxReceiveCount: 1) }
        try F.sendFIFO(&queue, 1, group: "g", at: 0)
        try F.sendFIFO(&queue, 2, group: "g", at: 0)
        #expect(F.ids(try queue.receive(max: 1, visibilityTimeout: 1, now: 0)) == [1])
        let next = try queue.receive(max: 1, visibilityTimeout: 1, now: 1000)
        #expect(next.deadLettered.map(\.entry) == [1] && F.ids(next) == [2])
    }

    @Test func retentionAndPurgeFreeGroups() throws {
        var queue = F.fifo { $0.messageRetentionPeriod = 60 }
        try F.sendFIFO(&queue, 1, group: "g", at: 0)
        try F.sendFIFO(&queue, 2, group: "g", at: 30_000)
        _ = try queue.receive(max: 1, visibilityTimeout: 600, now: 30_000)
        #expect(queue.expire(now: 59_999).isEmpty)
        #expect(queue.expire(now: 60_000).map(\.entry) == [1])
        // The expired message was in flight: the group is free again.
        #expect(F.ids(try queue.receive(max: 10, visibilityTimeout: nil, now: 60_000)) == [2])
        #expect(try queue.purge(now: 61_000).map(\.entry) == [2])
        #expect(queue.isEmpty && queue.groupByName.isEmpty)
        try F.sendFIFO(&queue, 3, group: "g", at: 62_000)
        #expect(F.ids(try queue.receive(max: 10, visibilityTimeout: nil, now: 62_000)) == [3])
    }

    @Test func replayKeepsGroupOrderInFlightStateAndDeduplication() throws {
        var before = F.fifo()
        try F.sendFIFO(&before, 1, group: "g", at: 0, dedup: "x")
        try F.sendFIFO(&before, 2, group: "g", at: 0)
        let handle = try #require(try before.receive(max: 1, visibilityTimeout: 30, now: 0).received.first).receiptHandle
        var after = F.fifo()
        for entry in before.entries().sorted(by: { $0.entry < $1.entry }) {
            after.restore(entry, groupID: "g", deduplicationID: entry.entry == 1 ? "x" : "d2", messageID: "m\(entry.entry)", now: 1000)
        }
        #expect(after.counts(now: 1000) == QueueCounts(visible: 1, inFlight: 1, delayed: 0))
        #expect(F.ids(try after.receive(max: 10, visibilityTimeout: nil, now: 1000)) == [])
        #expect(try F.sendFIFO(&after, 9, group: "g", at: 1000, dedup: "x") == .duplicate(originalMessageID: "m1"))
        #expect(try after.delete(receiptHandle: handle, now: 1000)?.entry == 1)
        #expect(F.ids(try after.receive(max: 10, visibilityTimeout: nil, now: 1000)) == [2])
    }
}
