import HeraldCore
@testable import HeraldBroker

/// The slow, obviously correct SQS queue: one array of messages in send order, every question a
/// linear scan over it, every state read off the times (in flight = received and its timeout not
/// over; delayed = never received and not yet visible). It does not choose what a receive returns:
/// it checks that the real queue's choice is one SQS allows (standard: any visible messages, as many
/// as there are up to `max`; FIFO: each group's first visible messages in order, never from a group
/// with a message in flight), then applies it.
struct ReferenceQueue {
    /// Deliberate mistakes, to show the comparison catches them.
    enum Flaw: Sendable { case none, visibilityEndsLate, fifoIgnoresGroupBlocking }

    struct Message {
        var id: UInt64
        var sentAt: Int64
        var visibleAt: Int64
        var receiveCount: UInt32 = 0
        var firstReceiveAt: Int64 = 0
        var receivedAt: Int64 = 0
        var group: String?
    }

    var attributes: QueueAttributes
    var flaw: Flaw
    var messages: [Message] = []
    var dedup: [String: (messageID: String, at: Int64)] = [:]
    var deletedHandles: Set<ReceiptHandle> = []
    var lastPurge: Int64?

    var fifo: Bool { attributes.fifo }

    func isInFlight(_ message: Message, _ now: Int64) -> Bool {
        message.receiveCount > 0 && (flaw == .visibilityEndsLate ? message.visibleAt >= now : message.visibleAt > now)
    }
    func isDelayed(_ message: Message, _ now: Int64) -> Bool { message.receiveCount == 0 && message.visibleAt > now }
    func isVisible(_ message: Message, _ now: Int64) -> Bool { !isInFlight(message, now) && !isDelayed(message, now) }

    func counts(now: Int64) -> QueueCounts {
        QueueCounts(
            visible: messages.filter { isVisible($0, now) }.count,
            inFlight: messages.filter { isInFlight($0, now) }.count,
            delayed: messages.filter { isDelayed($0, now) }.count)
    }

    /// When the next delayed or in-flight message becomes visible.
    func nextChange(now: Int64) -> Int64? {
        messages.filter { !isVisible($0, now) }.map(\.visibleAt).min()
    }

    mutating func enqueue(id: UInt64, group: String?, dedupID: String?, delay: Int?, now: Int64) -> EnqueueOutcome {
        if fifo, let dedupID {
            if let seen = dedup[dedupID], now - seen.at < 300_000 { return .duplicate(originalMessageID: seen.messageID) }
            dedup[dedupID] = ("m\(id)", now)
        }
        let delayMillis = Int64(delay ?? attributes.delaySeconds) * 1000
        messages.append(Message(id: id, sentAt: now, visibleAt: now + delayMillis, group: fifo ? group : nil))
        return .enqueued
    }

    /// FIFO: a new queue delay applies to messages never received.
    mutating func setDelay(_ seconds: Int) {
        attributes.delaySeconds = seconds
        guard fifo else { return }
        for index in messages.indices where messages[index].receiveCount == 0 {
            messages[index].visibleAt = messages[index].sentAt + Int64(seconds) * 1000
        }
    }

    mutating func expire(now: Int64) -> Set<UInt64> {
        let cutoff = now - Int64(attributes.messageRetentionPeriod) * 1000
        let gone = Set(messages.filter { $0.sentAt <= cutoff }.map(\.id))
        messages.removeAll { gone.contains($0.id) }
        return gone
    }

    mutating func purge(now: Int64) -> Set<UInt64>? {
        if let lastPurge, now - lastPurge < 60_000 { return nil }
        lastPurge = now
        defer { messages = [] }
        return Set(messages.map(\.id))
    }

    private func deadLetterDue(_ message: Message) -> Bool {
        guard let policy = attributes.redrivePolicy else { return false }
        return Int(message.receiveCount) >= policy.maxReceiveCount
    }

    /// Checks the real queue's receive and applies it; returns what is wrong with it.
    mutating func checkReceive(_ outcome: ReceiveOutcome, max: Int, timeoutMillis: Int64, now: Int64) -> [String] {
        var problems: [String] = []
        let received = outcome.received.map(\.entry.entry)
        let dead = Set(outcome.deadLettered.map(\.entry))
        if received.count > max { problems.append("received \(received.count) > max \(max)") }
        if Set(received).count != received.count || !dead.isDisjoint(with: received) { problems.append("a message twice") }
        let byID = Dictionary(messages.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        if fifo {
            problems += checkFIFOChoice(outcome, max: max, now: now)
        } else {
            for id in received where !(byID[id].map { isVisible($0, now) && !deadLetterDue($0) } ?? false) {
                problems.append("received \(id), which is not visible or is due for the dead-letter queue")
            }
            for id in dead where !(byID[id].map { isVisible($0, now) && deadLetterDue($0) } ?? false) {
                problems.append("dead-lettered \(id) wrongly")
            }
            let available = messages.filter { isVisible($0, now) && !deadLetterDue($0) }.count
            if received.count != Swift.min(max, available) { problems.append("received \(received.count), expected \(Swift.min(max, available))") }
            let dueDead = Set(messages.filter { isVisible($0, now) && deadLetterDue($0) }.map(\.id))
            if received.count < max && dead != dueDead { problems.append("dead-lettered \(dead.sorted()), expected \(dueDead.sorted())") }
        }
        messages.removeAll { dead.contains($0.id) }
        for message in outcome.received {
            guard let index = messages.firstIndex(where: { $0.id == message.entry.entry }) else { continue }
            messages[index].receiveCount += 1
            if messages[index].firstReceiveAt == 0 { messages[index].firstReceiveAt = now }
            messages[index].visibleAt = now + timeoutMillis
            messages[index].receivedAt = now
            let expected = messages[index]
            if message.entry.receiveCount != expected.receiveCount || message.entry.firstReceiveAtMillis != expected.firstReceiveAt
                || message.entry.visibleAtMillis != expected.visibleAt
            {
                problems.append("received \(expected.id) with state \(message.entry), expected count \(expected.receiveCount) visibleAt \(expected.visibleAt)")
            }
            if fifo && message.groupID != expected.group { problems.append("received \(expected.id) with group \(message.groupID ?? "nil")") }
        }
        return problems
    }

    private func checkFIFOChoice(_ outcome: ReceiveOutcome, max: Int, now: Int64) -> [String] {
        var problems: [String] = []
        let blocked: Set<String> = flaw == .fifoIgnoresGroupBlocking ? [] : Set(messages.filter { isInFlight($0, now) }.compactMap(\.group))
        let groupNames = Set(messages.compactMap(\.group))
        let receivedOrder = outcome.received.map(\.entry.entry)
        let taken = Set(receivedOrder).union(outcome.deadLettered.map(\.entry))
        for name in groupNames {
            let members = messages.filter { $0.group == name }
            let prefix = blocked.contains(name) ? [] : Array(members.prefix { isVisible($0, now) })
            let consumed = members.filter { taken.contains($0.id) }
            guard consumed.map(\.id) == prefix.prefix(consumed.count).map(\.id) else {
                problems.append("group \(name): took \(consumed.map(\.id)), its receivable messages are \(prefix.map(\.id))")
                continue
            }
            for message in consumed where outcome.deadLettered.contains(where: { $0.entry == message.id }) != deadLetterDue(message) {
                problems.append("group \(name): message \(message.id) dead-lettered wrongly")
            }
            let receivedHere = receivedOrder.filter { id in members.contains { $0.id == id } }
            if receivedHere != consumed.filter({ !deadLetterDue($0) }).map(\.id) { problems.append("group \(name): order \(receivedHere)") }
            if receivedOrder.count < max && consumed.count != prefix.count {
                problems.append("group \(name): received \(receivedOrder.count) < \(max) but left \(prefix.map(\.id)) after \(consumed.map(\.id))")
            }
        }
        return problems
    }

    enum Answer: Equatable {
        case deleted(UInt64?)
        case error(HeraldErrorCode)
    }

    mutating func delete(_ handle: ReceiptHandle, now: Int64) -> Answer {
        if let index = messages.firstIndex(where: { $0.id == handle.entry }), messages[index].receiveCount == handle.receiveCount,
            !fifo || isInFlight(messages[index], now)
        {
            messages.remove(at: index)
            if fifo { deletedHandles.insert(handle) }
            return .deleted(handle.entry)
        }
        if fifo && !deletedHandles.contains(handle) { return .error(.invalidParameterValue) }
        return .deleted(nil)
    }

    mutating func changeVisibility(_ handle: ReceiptHandle, timeout: Int, now: Int64) -> Answer {
        guard let index = messages.firstIndex(where: { $0.id == handle.entry }), messages[index].receiveCount == handle.receiveCount,
            isInFlight(messages[index], now)
        else { return .error(.messageNotInflight) }
        let visibleAt = now + Int64(timeout) * 1000
        if visibleAt - messages[index].receivedAt > 43_200_000 { return .error(.invalidParameterValue) }
        messages[index].visibleAt = visibleAt
        return .deleted(nil)
    }
}
