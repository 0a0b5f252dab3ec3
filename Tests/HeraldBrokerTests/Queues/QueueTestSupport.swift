import HeraldCore
@testable import HeraldBroker

/// Small builders for the queue tests.
enum QueueFixture {
    static func entry(_ id: UInt64, sentAt: Int64, size: UInt32 = 100) -> QueueEntry {
        QueueEntry(entry: id, position: id * 10, sentAtMillis: sentAt, size: size)
    }

    static func standard(_ configure: (inout QueueAttributes) -> Void = { _ in }, inFlightLimit: Int? = nil) -> QueueCore {
        var attributes = QueueAttributes(fifo: false)
        configure(&attributes)
        return QueueCore(name: "q1", attributes: attributes, inFlightLimit: inFlightLimit)
    }

    static func fifo(_ configure: (inout QueueAttributes) -> Void = { _ in }) -> QueueCore {
        var attributes = QueueAttributes(fifo: true)
        configure(&attributes)
        return QueueCore(name: "q1.fifo", attributes: attributes)
    }

    /// Sends message `id` at `now` (standard: no group, no dedup id).
    @discardableResult
    static func send(_ queue: inout QueueCore, _ id: UInt64, at now: Int64, delay: Int? = nil) throws(HeraldError) -> EnqueueOutcome {
        try queue.enqueue(entry(id, sentAt: now), messageID: "m\(id)", groupID: nil, deduplicationID: nil, delaySeconds: delay, now: now)
    }

    /// Sends message `id` to a FIFO queue in `group`, its dedup id "d<id>" unless given.
    @discardableResult
    static func sendFIFO(_ queue: inout QueueCore, _ id: UInt64, group: String, at now: Int64, dedup: String? = nil) throws(HeraldError) -> EnqueueOutcome {
        try queue.enqueue(entry(id, sentAt: now), messageID: "m\(id)", groupID: group, deduplicationID: dedup ?? "d\(id)", delaySeconds: nil, now: now)
    }

    static func ids(_ outcome: ReceiveOutcome) -> [UInt64] { outcome.received.map(\.entry.entry) }

    /// The error a throwing call raised, or nil.
    static func error<T>(_ body: () throws(HeraldError) -> T) -> HeraldError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error
        }
    }
}
