import Dispatch
import HeraldCore
import HeraldStore
import Synchronization

/// Durable queues with SQS semantics: the registry of `QueueCore` state machines, their journal
/// records, long-poll waiters and timers. Every protocol's queue front end (the stream protocol's
/// QREQ frames, the SQS API) and the topic fan-out (`QueueSubscription`) come through here.
///
/// Contract:
/// - Any method may be called from any thread; none blocks on I/O except `read`s of message
///   bodies for a receive (`pread`, page cache) and `open`'s replay.
/// - Replies (`reply` closures) run on `callbackQueue`, a serial queue, after the records the
///   operation wrote are as durable as the store's `ackMeaning` says: a send is confirmed, a
///   delete is final, only then.
/// - Journal order = the order of the state changes: every record that changes an entry a queue
///   already holds (receive, delete, visibility, purge, dead-letter move, compaction copy) is
///   appended while `state` is locked, right after the `QueueCore` change it records. That is what
///   makes replay rebuild the same queues, and compaction's carried-forward copies safe (a copy is
///   appended under the lock, so a delete of that entry lands after it in the log). New messages
///   (sends, topic fan-out) get their entry ids under the lock but are appended after it: no queue
///   holds them until their append is durable, so nothing can refer to them earlier.
/// - A message becomes visible to receivers only once its record is durable: what a consumer can
///   see, a publisher was (or is about to be) told is accepted.
/// - Lock order: `state` → the store's internal locks. No other broker lock is taken under `state`.
public final class QueueManager: Sendable {
    let store: any LogStore & MetaStore
    let callbackQueue: DispatchQueue
    let clock: @Sendable () -> Int64
    let renderer: any QueueMessageRenderer
    let contentHash: @Sendable ([UInt8]) -> String
    let state = Mutex(State())
    let identity: QueueIdentity
    let messageIDs: MessageIDGenerator

    struct State {
        var queues: [UInt32: QueueSlot] = [:]
        var ids: [String: UInt32] = [:]
        var nextQueueID: UInt32 = 1
        var nextEntry: UInt64 = 1
        /// Stored messages held by more than one queue (a topic's record shared by its queues):
        /// how many still hold it. Absent = one holder.
        var holders: [UInt64: UInt32] = [:]
        var nextWaiterID: UInt64 = 1
        var sequence: UInt64 = 0
    }

    /// One queue: its state machine and its parked long polls. A class, so changing a queue in
    /// `State.queues` changes it in place: a struct copied out of the dictionary and changed would
    /// copy the queue's whole storage (O(depth) per operation).
    final class QueueSlot: @unchecked Sendable {  // only touched under `state`'s lock
        let id: UInt32
        let name: String
        var core: QueueCore
        var createdAtMillis: Int64
        var lastModifiedAtMillis: Int64
        var waiters: [Waiter] = []
        /// When a timer is already armed for this queue (uptime nanoseconds), so one is armed at a time.
        var timerAt: UInt64?
        /// Entries up to this one were purged: a message written before the purge but enqueued
        /// after it (its write was still in flight) is not taken.
        var purgedThrough: UInt64 = 0

        init(id: UInt32, name: String, core: QueueCore, createdAtMillis: Int64, lastModifiedAtMillis: Int64) {
            self.id = id
            self.name = name
            self.core = core
            self.createdAtMillis = createdAtMillis
            self.lastModifiedAtMillis = lastModifiedAtMillis
        }
    }

    struct Waiter {
        let id: UInt64
        let poll: LongPoll
        let max: Int
        let visibilityTimeout: Int?
        /// Uptime nanoseconds: a long poll waits real time, whatever the manager's clock says.
        let deadline: UInt64
        let reply: @Sendable (Result<[ReceivedQueueMessage], HeraldError>) -> Void
    }

    /// - Parameters:
    ///   - clock: milliseconds since 1970 (SQS's timestamps are wall-clock).
    ///   - contentHash: lower-case hex SHA-256 (FIFO content-based deduplication).
    public init(
        store: any LogStore & MetaStore, renderer: any QueueMessageRenderer, identity: QueueIdentity = QueueIdentity(),
        callbackQueue: DispatchQueue = DispatchQueue(label: "herald.queues"),
        clock: @escaping @Sendable () -> Int64, contentHash: @escaping @Sendable ([UInt8]) -> String
    ) {
        self.store = store
        self.renderer = renderer
        self.identity = identity
        self.callbackQueue = callbackQueue
        self.clock = clock
        self.contentHash = contentHash
        var system = SystemRandomNumberGenerator()
        self.messageIDs = MessageIDGenerator(seed: system.next())
    }

    // MARK: - Queues

    /// SQS CreateQueue: creates `name`, or succeeds when it exists with the same attributes
    /// (`QueueAlreadyExists` when they differ).
    /// `validatingName` false: a queue the server makes for itself (a durable named subscription's),
    /// whose name is outside what users may name.
    public func createQueue(
        _ name: String, attributes: QueueAttributes, validatingName: Bool = true, reply: @escaping @Sendable (Result<Void, HeraldError>) -> Void
    ) {
        do throws(HeraldError) {
            if validatingName { try QueueName.validate(name) }
        } catch {
            return callbackQueue.async { reply(.failure(error)) }
        }
        let now = clock()
        let outcome = state.withLock { state -> Result<UInt32?, HeraldError> in
            if let id = state.ids[name], let existing = state.queues[id] {
                if existing.core.attributes == attributes { return .success(nil) }
                return .failure(HeraldError(.queueAlreadyExists, "A queue already exists with the same name and a different value for attribute(s) \(Self.differingAttributes(existing.core.attributes, attributes))"))
            }
            if let target = attributes.redrivePolicy?.deadLetterTargetQueue {
                guard let dlq = state.ids[target].flatMap({ state.queues[$0] }) else {
                    return .failure(HeraldError(.invalidParameterValue, "Value \(identity.queueARN(target)) for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist."))
                }
                guard dlq.core.attributes.fifo == attributes.fifo else {
                    return .failure(HeraldError(.invalidParameterValue, "Value \(identity.queueARN(target)) for parameter RedrivePolicy is invalid. Reason: Dead-letter target queue must be of the same type (FIFO or standard) as the source queue."))
                }
            }
            let id = state.nextQueueID
            state.nextQueueID += 1
            state.ids[name] = id
            state.queues[id] = QueueSlot(id: id, name: name, core: QueueCore(name: name, attributes: attributes), createdAtMillis: now, lastModifiedAtMillis: now)
            return .success(id)
        }
        switch outcome {
        case .failure(let error): callbackQueue.async { reply(.failure(error)) }
        case .success(nil): callbackQueue.async { reply(.success(())) }
        case .success(let id?):
            let record = QueueRecord(id: id, name: name, attributes: attributes.sqsAttributes, createdAtMillis: now)
            store.put(QueueRecord.key(name), record.encoded(), ifRevision: nil, on: callbackQueue) { [self] result in
                if case .failure = result {
                    // Not durable, so not created: a restart would not know it.
                    self.state.withLock { state in
                        if state.ids[name] == id { state.ids.removeValue(forKey: name) }
                        state.queues.removeValue(forKey: id)
                    }
                }
                reply(result.map { _ in () }.mapError(Self.storageError))
            }
        }
    }

    /// SQS DeleteQueue: the queue and every message in it.
    public func deleteQueue(_ name: String, reply: @escaping @Sendable (Result<Void, HeraldError>) -> Void) {
        let removed = state.withLock { state -> QueueSlot? in
            guard let id = state.ids.removeValue(forKey: name) else { return nil }
            guard let slot = state.queues.removeValue(forKey: id) else { return nil }
            for entry in slot.core.entries() { releaseHolder(entry, in: &state) }
            // Its messages' records may outlive it in the journal, and after a restart its id can
            // be a new queue's: the purge record keeps a replay from giving them to that queue.
            store.append([.purge(queue: id, throughEntry: UInt64.max)], on: callbackQueue) { _ in }
            return slot
        }
        guard let removed else { return callbackQueue.async { reply(.failure(Self.noSuchQueue)) } }
        for waiter in removed.waiters { callbackQueue.async { waiter.reply(.failure(Self.noSuchQueue)) } }
        store.put(QueueRecord.key(name), nil, ifRevision: nil, on: callbackQueue) { result in
            reply(result.map { _ in () }.mapError(Self.storageError))
        }
    }

    /// SQS SetQueueAttributes.
    public func setAttributes(_ name: String, _ attributes: QueueAttributes, reply: @escaping @Sendable (Result<Void, HeraldError>) -> Void) {
        let now = clock()
        let result = state.withLock { state -> Result<QueueRecord, HeraldError> in
            guard let id = state.ids[name], let slot = state.queues[id] else { return .failure(Self.noSuchQueue) }
            if let target = attributes.redrivePolicy?.deadLetterTargetQueue {
                guard let dlq = state.ids[target].flatMap({ state.queues[$0] }), dlq.core.isFIFO == attributes.fifo, target != name else {
                    return .failure(HeraldError(.invalidParameterValue, "Value \(identity.queueARN(target)) for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist or is not of the same type (FIFO or standard) as the source queue."))
                }
            }
            slot.core.attributes = attributes
            slot.lastModifiedAtMillis = now
            return .success(QueueRecord(id: id, name: name, attributes: attributes.sqsAttributes, createdAtMillis: slot.createdAtMillis))
        }
        let record: QueueRecord
        switch result {
        case .success(let made): record = made
        case .failure(let error): return callbackQueue.async { reply(.failure(error)) }
        }
        store.put(QueueRecord.key(name), record.encoded(), ifRevision: nil, on: callbackQueue) { result in
            reply(result.map { _ in () }.mapError(Self.storageError))
        }
    }

    /// Queue names, sorted, optionally by prefix (SQS ListQueues).
    public func queueNames(prefix: String = "") -> [String] {
        state.withLock { state in state.ids.keys.filter { $0.hasPrefix(prefix) } }.sorted()
    }

    /// Attributes and approximate counts of one queue, nil when it does not exist.
    public func summary(_ name: String) -> QueueSummary? {
        let now = clock()
        return state.withLock { state in
            guard let id = state.ids[name], let slot = state.queues[id] else { return nil }
            let counts = slot.core.counts(now: now)
            return QueueSummary(
                name: name, attributes: slot.core.attributes, createdAtMillis: slot.createdAtMillis,
                visible: counts.visible, inFlight: counts.inFlight, delayed: counts.delayed)
        }
    }

    /// The serial queue replies run on (front ends that store metadata reply on it too).
    public var replyQueue: DispatchQueue { callbackQueue }

    /// Whether `name` exists and is FIFO (nil: no such queue).
    public func isFIFO(_ name: String) -> Bool? {
        state.withLock { state in state.ids[name].flatMap { state.queues[$0]?.core.attributes.fifo } }
    }

    // MARK: - Helpers (state locked)

    /// One queue stopped holding `entry`: releases the stored record once no queue holds it.
    func releaseHolder(_ entry: QueueEntry, in state: inout State) {
        if let count = state.holders[entry.entry] {
            if count > 2 {
                state.holders[entry.entry] = count - 1
            } else {
                state.holders.removeValue(forKey: entry.entry)
            }
            return
        }
        store.release(LogPosition(packed: entry.position))
    }

    /// SQS's answer for a queue that does not exist (every front end uses this one).
    public static let noSuchQueue = HeraldError(.queueDoesNotExist, "The specified queue does not exist.")

    static func storageError(_ error: StoreError) -> HeraldError {
        HeraldError(.storageUnavailable, "The message store could not make this durable (\(error)); nothing was confirmed. Retry later.")
    }

    private static func differingAttributes(_ a: QueueAttributes, _ b: QueueAttributes) -> String {
        let old = a.sqsAttributes, new = b.sqsAttributes
        return Set(old.keys).union(new.keys).filter { old[$0] != new[$0] }.sorted().joined(separator: ", ")
    }
}

/// A receive that may be parked (long poll). `cancel()` (from any thread) makes sure it is handed
/// no message; it then answers empty when the queue next looks at its waiters, at the latest at its
/// deadline.
public final class LongPoll: Sendable {
    private let cancelled = Atomic<Bool>(false)
    public init() {}
    public func cancel() { cancelled.store(true, ordering: .releasing) }
    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }
}

/// The account and region ARNs and URLs name (SNS/SQS compatibility; a single-node broker has one).
public struct QueueIdentity: Sendable, Hashable {
    public var region: String
    public var account: String
    /// Base of `QueueUrl`s, e.g. `http://127.0.0.1:4566` (the HTTP API's public URL).
    public var baseURL: String

    public init(region: String = "us-east-1", account: String = "000000000000", baseURL: String = "http://127.0.0.1:4566") {
        self.region = region
        self.account = account
        self.baseURL = baseURL
    }

    public func queueARN(_ name: String) -> String { "arn:aws:sqs:\(region):\(account):\(name)" }
    public func queueURL(_ name: String) -> String { "\(baseURL)/\(account)/\(name)" }
    public func topicARN(_ topic: String) -> String { "arn:aws:sns:\(region):\(account):\(topic)" }
    public func subscriptionARN(topic: String, subscription: String) -> String { "\(topicARN(topic)):\(subscription)" }
}
