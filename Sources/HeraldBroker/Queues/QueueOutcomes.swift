/// What `QueueCore`'s operations hand back to the manager, which journals them and answers the client.

public enum EnqueueOutcome: Sendable, Hashable {
    case enqueued
    /// FIFO: the deduplication id was seen less than 5 minutes ago; SQS accepts the send and answers
    /// with the original message's id, and nothing is enqueued.
    case duplicate(originalMessageID: String)
}

public struct ReceivedMessage: Sendable, Hashable {
    /// The entry's state after this receive (receiveCount, firstReceiveAt, visibleAt = the timeout's end):
    /// journal it as a visibility mark.
    public var entry: QueueEntry
    public var receiptHandle: String
    /// FIFO queues only.
    public var groupID: String?
}

public struct ReceiveOutcome: Sendable, Hashable {
    /// In receive order; FIFO: each group's messages in group order.
    public var received: [ReceivedMessage] = []
    /// Removed from this queue because this receive would have passed the redrive policy's
    /// maxReceiveCount: the manager enqueues them into the dead-letter queue (keeping sentAt).
    public var deadLettered: [QueueEntry] = []
    /// Removed because their retention ran out; the manager journals the delete and releases them.
    public var expired: [QueueEntry] = []
}

/// An entry's new state after ChangeMessageVisibility (journal it as a visibility mark).
public struct VisibilityChange: Sendable, Hashable {
    public var entry: QueueEntry
}

/// GetQueueAttributes' ApproximateNumberOfMessages, …NotVisible and …Delayed (exact here). FIFO:
/// `visible` also counts messages held back behind an in-flight message of their group, as SQS does.
public struct QueueCounts: Sendable, Hashable {
    public var visible: Int
    public var inFlight: Int
    public var delayed: Int

    public init(visible: Int, inFlight: Int, delayed: Int) {
        self.visible = visible
        self.inFlight = inFlight
        self.delayed = delayed
    }
}
