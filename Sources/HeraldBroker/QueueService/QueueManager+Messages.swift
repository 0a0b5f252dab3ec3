import Dispatch
import HeraldCore
import HeraldStore

extension QueueManager {
    // MARK: - Send

    /// SQS SendMessage(Batch): validated requests (the front end checks sizes and attributes with
    /// SQS's texts). Each is written to the journal, then enqueued; replies once durable.
    public func send(
        _ queueName: String, _ requests: [QueueSendRequest],
        reply: @escaping @Sendable ([Result<QueueSendResult, HeraldError>]) -> Void
    ) {
        let now = clock()
        var fifo = false
        let prepared = state.withLock { state -> Result<[(StoredMessage, Result<Void, HeraldError>)], HeraldError> in
            guard let id = state.ids[queueName], let slot = state.queues[id] else { return .failure(Self.noSuchQueue) }
            let attributes = slot.core.attributes
            fifo = attributes.fifo
            var out: [(StoredMessage, Result<Void, HeraldError>)] = []
            let ids = messageIDs.next(requests.count)
            for (index, request) in requests.enumerated() {
                let delay = request.delaySeconds ?? attributes.delaySeconds
                let check = Self.checkSend(request, attributes: attributes)
                var deduplicationID = request.deduplicationID
                if attributes.fifo, deduplicationID == nil, attributes.contentBasedDeduplication {
                    deduplicationID = contentHash(request.body)
                }
                let entry = state.nextEntry
                state.nextEntry += 1
                let message = StoredMessage(
                    entry: entry, messageID: ids[index].text, sentAtMillis: now, attributes: request.attributes,
                    body: request.body, groupID: request.groupID, deduplicationID: deduplicationID,
                    targets: [.init(queue: id, visibleAtMillis: now + Int64(delay) * 1000)])
                out.append((message, check))
            }
            return .success(out)
        }
        switch prepared {
        case .failure(let error):
            callbackQueue.async { reply(requests.map { _ in .failure(error) }) }
        case .success(let prepared):
            let records = prepared.compactMap { message, check -> JournalRecord? in
                if case .success = check { return .message(message) }
                return nil
            }
            let finish: @Sendable (Result<[LogPosition], StoreError>) -> Void = { [self, fifo] result in
                var positions: [LogPosition] = []
                var failure: HeraldError?
                switch result {
                case .success(let written): positions = written
                case .failure(let error): failure = Self.storageError(error)
                }
                var results: [Result<QueueSendResult, HeraldError>] = []
                var written = 0
                var toEnqueue: [(StoredMessage, LogPosition)] = []
                for (message, check) in prepared {
                    if case .failure(let error) = check {
                        results.append(.failure(error))
                    } else if let failure {
                        results.append(.failure(failure))
                    } else {
                        toEnqueue.append((message, positions[written]))
                        written += 1
                        // FIFO queues answer SQS's SequenceNumber: the journal entry number,
                        // unique and increasing (the same number a FIFO topic's envelope carries).
                        let sequence = fifo ? String(message.entry) : nil
                        results.append(.success(QueueSendResult(messageID: message.messageID, sequenceNumber: sequence)))
                    }
                }
                let outcomes = enqueueDurable(toEnqueue)
                var next = 0
                for index in results.indices {
                    guard case .success = results[index] else { continue }
                    if let original = outcomes[next], case .success(let sent) = results[index] {
                        results[index] = .success(QueueSendResult(messageID: original, sequenceNumber: sent.sequenceNumber))
                    }
                    next += 1
                }
                reply(results)
            }
            if records.isEmpty {
                callbackQueue.async { finish(.success([])) }
            } else {
                store.append(records, on: callbackQueue, finish)
            }
        }
    }

    /// Enqueues messages whose records are durable (on `callbackQueue`); per message the original
    /// message id when a FIFO queue dropped it as a duplicate, else nil. Wakes long polls.
    /// A queue that does not take a message (a FIFO duplicate, a purge that came after its write,
    /// a queue whose type changed) gets a delete record, so a replay agrees with memory.
    func enqueueDurable(_ messages: [(StoredMessage, LogPosition)]) -> [String?] {
        guard !messages.isEmpty else { return [] }
        let now = clock()
        var touched = Set<UInt32>()
        let outcomes = state.withLock { state -> [String?] in
            var outcomes: [String?] = []
            var refused: [UInt32: [UInt64]] = [:]
            for (message, position) in messages {
                var holders: UInt32 = 0
                var duplicateOf: String?
                for target in message.targets {
                    guard let slot = state.queues[target.queue] else { continue }
                    // Written before a purge of this queue, enqueued after it: the purge covers it.
                    guard message.entry > slot.purgedThrough else {
                        refused[target.queue, default: []].append(message.entry)
                        continue
                    }
                    let fifo = slot.core.isFIFO
                    let entry = QueueEntry(
                        entry: message.entry, position: position.packed, sentAtMillis: message.sentAtMillis,
                        visibleAtMillis: target.visibleAtMillis, firstReceiveAtMillis: 0, receiveCount: 0,
                        size: UInt32(clamping: message.body.count))
                    do throws(HeraldError) {
                        // FIFO queues take no per-message delay; standard queues no deduplication id
                        // (a FIFO topic's message reaching a standard queue carries one).
                        switch try slot.core.enqueue(
                            entry, messageID: message.messageID, groupID: message.groupID,
                            deduplicationID: fifo ? message.deduplicationID : nil,
                            delaySeconds: fifo ? nil : max(0, Int((target.visibleAtMillis - message.sentAtMillis) / 1000)), now: now)
                        {
                        case .enqueued:
                            holders += 1
                            touched.insert(target.queue)
                        case .duplicate(let original):
                            duplicateOf = original
                            refused[target.queue, default: []].append(message.entry)
                        }
                    } catch {
                        refused[target.queue, default: []].append(message.entry)
                    }
                }
                if holders == 0 {
                    store.release(position)
                } else if holders > 1 {
                    state.holders[message.entry] = holders
                }
                outcomes.append(duplicateOf)
            }
            if !refused.isEmpty {
                store.append(refused.map { JournalRecord.delete(queue: $0.key, entries: $0.value) }, on: callbackQueue) { _ in }
            }
            return outcomes
        }
        for queue in touched { serveWaiters(queue) }
        return outcomes
    }

    // MARK: - Receive

    /// SQS ReceiveMessage: up to `max` messages; with `wait` > 0 and none visible, parks until one
    /// arrives or the wait runs out (no thread is held). `visibilityTimeout` nil = the queue's.
    /// Returns the poll, which the caller may cancel: a cancelled poll is handed no message and
    /// answers empty.
    @discardableResult
    public func receive(
        _ queueName: String, max: Int, wait: Int?, visibilityTimeout: Int?,
        reply: @escaping @Sendable (Result<[ReceivedQueueMessage], HeraldError>) -> Void
    ) -> LongPoll {
        let poll = LongPoll()
        let now = clock()
        let taken = state.withLock { state -> Result<(UInt32, [ReceivedMessage])?, HeraldError> in
            guard let id = state.ids[queueName], let slot = state.queues[id] else { return .failure(Self.noSuchQueue) }
            let outcome: ReceiveOutcome
            do throws(HeraldError) {
                outcome = try slot.core.receive(max: max, visibilityTimeout: visibilityTimeout, now: now)
            } catch {
                return .failure(error)
            }
            let wait = wait ?? slot.core.attributes.receiveMessageWaitTimeSeconds
            applyReceiveSideEffects(queue: id, outcome, in: &state)
            if outcome.received.isEmpty && wait > 0 {
                let waiter = Waiter(
                    id: state.nextWaiterID, poll: poll, max: max, visibilityTimeout: visibilityTimeout,
                    deadline: DispatchTime.now().uptimeNanoseconds + UInt64(wait) * 1_000_000_000, reply: reply)
                state.nextWaiterID += 1
                state.queues[id]?.waiters.append(waiter)
                armTimer(id, now: now, in: &state)
                return .success(nil)  // parked: a waiter replies
            }
            return .success((id, outcome.received))
        }
        switch taken {
        case .failure(let error):
            callbackQueue.async { reply(.failure(error)) }
        case .success(nil):
            break
        case .success(let (queue, received)?):
            let messages = render(received, queue: queue)
            callbackQueue.async { reply(.success(messages)) }
        }
        return poll
    }

    /// Writes what a receive changed (state locked): the receives' visibility marks, retention
    /// drops, and dead-letter moves. A move is one append: the message's new record in the
    /// dead-letter queue, then its delete from this queue, so a crash can duplicate it, never lose
    /// it; the dead-letter queue holds it once that append is durable.
    func applyReceiveSideEffects(queue: UInt32, _ outcome: ReceiveOutcome, in state: inout State) {
        var records: [JournalRecord] = []
        if !outcome.received.isEmpty {
            records.append(.visibility(queue: queue, marks: outcome.received.map {
                VisibilityMark(entry: $0.entry.entry, visibleAtMillis: $0.entry.visibleAtMillis, receiveCount: $0.entry.receiveCount, firstReceiveAtMillis: $0.entry.firstReceiveAtMillis)
            }))
        }
        var moved: [StoredMessage] = []
        /// Where each moved message's record sits in `records`.
        var movedAt: [Int] = []
        /// Dead-lettered entries on their way, with what putting them back needs if the write fails.
        var leaving: [(entry: QueueEntry, original: StoredMessage)] = []
        if !outcome.deadLettered.isEmpty {
            let dlq = state.queues[queue]?.core.attributes.redrivePolicy.flatMap { state.ids[$0.deadLetterTargetQueue] }
            let now = clock()
            for entry in outcome.deadLettered {
                // The body is read under the lock: moves are rare, and the record must be written
                // before the lock is released (see the contract on journal order).
                guard case .message(let original)? = try? store.read(LogPosition(packed: entry.position)) else {
                    releaseHolder(entry, in: &state)  // unreadable: nothing to move
                    records.append(.delete(queue: queue, entries: [entry.entry]))
                    continue
                }
                guard let dlq else {
                    // The dead-letter queue is gone: the message stays where it is.
                    state.queues[queue]?.core.restore(
                        entry, groupID: original.groupID, deduplicationID: original.deduplicationID, messageID: original.messageID, now: now)
                    continue
                }
                var stored = original
                let source = stored.targets.first { $0.queue == queue }
                stored.entry = state.nextEntry
                state.nextEntry += 1
                stored.targets = [.init(queue: dlq, subscription: source?.subscription ?? "", raw: source?.raw ?? true, visibleAtMillis: entry.sentAtMillis)]
                // SQS: a move into a FIFO queue deduplicates by the message id, not the original id.
                if stored.deduplicationID != nil { stored.deduplicationID = stored.messageID }
                moved.append(stored)
                leaving.append((entry, original))
                movedAt.append(records.count)
                records.append(.message(stored))
            }
        }
        let gone = outcome.expired + leaving.map(\.entry)
        if !gone.isEmpty {
            records.append(.delete(queue: queue, entries: gone.map(\.entry)))
            for entry in outcome.expired { releaseHolder(entry, in: &state) }
        }
        guard !records.isEmpty else { return }
        // Receives are confirmed to no one: a crash before they are durable only makes the messages
        // visible again (at-least-once), as a visibility timeout would. A failed dead-letter move
        // puts the messages back in their queue.
        // Visibility marks alone need no sync of their own (lost, a message is delivered again).
        let write = moved.isEmpty && gone.isEmpty ? store.appendUnsynced : store.append
        write(records, callbackQueue) { [self, moved, movedAt, leaving] result in
            guard !moved.isEmpty else { return }
            switch result {
            case .success(let positions):
                _ = enqueueDurable(zip(moved, movedAt).map { ($0, positions[$1]) })
                self.state.withLock { state in for item in leaving { releaseHolder(item.entry, in: &state) } }
            case .failure:
                putBack(leaving, into: queue)
            }
        }
    }

    /// Entries a failed move took out of `queue` go back into it (visible now).
    func putBack(_ entries: [(entry: QueueEntry, original: StoredMessage)], into queue: UInt32) {
        let now = clock()
        state.withLock { state in
            guard let slot = state.queues[queue] else {
                for item in entries { releaseHolder(item.entry, in: &state) }
                return
            }
            for item in entries {
                var entry = item.entry
                entry.visibleAtMillis = now
                slot.core.restore(
                    entry, groupID: item.original.groupID, deduplicationID: item.original.deduplicationID,
                    messageID: item.original.messageID, now: now)
            }
        }
        serveWaiters(queue)
    }

    /// Serves parked long polls of `queue` that can be served now, and times out expired ones.
    func serveWaiters(_ queue: UInt32) {
        let now = clock()
        let uptime = DispatchTime.now().uptimeNanoseconds
        var served: [(Waiter, [ReceivedMessage])] = []
        var timedOut: [Waiter] = []
        state.withLock { state in
            guard let slot = state.queues[queue], !slot.waiters.isEmpty else { return }
            var remaining: [Waiter] = []
            for waiter in slot.waiters {
                if waiter.poll.isCancelled {
                    timedOut.append(waiter)
                    continue
                }
                let outcome = (try? slot.core.receive(max: waiter.max, visibilityTimeout: waiter.visibilityTimeout, now: now))
                    ?? ReceiveOutcome()
                applyReceiveSideEffects(queue: queue, outcome, in: &state)
                if !outcome.received.isEmpty {
                    served.append((waiter, outcome.received))
                } else if waiter.deadline <= uptime {
                    timedOut.append(waiter)
                } else {
                    remaining.append(waiter)
                }
            }
            slot.waiters = remaining
            armTimer(queue, now: now, in: &state)
        }
        for waiter in timedOut { callbackQueue.async { waiter.reply(.success([])) } }
        for (waiter, received) in served {
            let messages = render(received, queue: queue)
            callbackQueue.async { waiter.reply(.success(messages)) }
        }
    }

    /// Arms one timer for the queue's next event: a waiter's deadline or a message becoming
    /// visible. Waits are real time (uptime); message times are the manager's clock, converted.
    func armTimer(_ queue: UInt32, now: Int64, in state: inout State) {
        guard let slot = state.queues[queue], !slot.waiters.isEmpty else { return }
        let uptime = DispatchTime.now().uptimeNanoseconds
        var at = slot.waiters.map(\.deadline).min() ?? uptime
        if let change = slot.core.nextChange(after: now) {
            at = min(at, uptime + UInt64(max(0, change - now)) * 1_000_000)
        }
        if let armed = slot.timerAt, armed <= at, armed > uptime { return }
        state.queues[queue]?.timerAt = at
        let armedAt = at
        callbackQueue.asyncAfter(deadline: DispatchTime(uptimeNanoseconds: at)) { [self] in
            self.state.withLock { state in
                if state.queues[queue]?.timerAt == armedAt { state.queues[queue]?.timerAt = nil }
            }
            serveWaiters(queue)
        }
    }

    /// Reads received entries' records back and renders what the consumer sees.
    func render(_ received: [ReceivedMessage], queue: UInt32) -> [ReceivedQueueMessage] {
        var messages: [ReceivedQueueMessage] = []
        messages.reserveCapacity(received.count)
        for item in received {
            guard case .message(let stored)? = try? store.read(LogPosition(packed: item.entry.position)) else { continue }
            let target = stored.targets.first { $0.queue == queue }
            let enveloped = target.map { !$0.raw && !$0.subscription.isEmpty } ?? false
            messages.append(ReceivedQueueMessage(
                messageID: stored.messageID, receiptHandle: item.receiptHandle,
                body: enveloped ? renderer.envelope(for: stored, subscription: target?.subscription ?? "") : stored.body,
                attributes: enveloped ? [:] : stored.attributes,
                receiveCount: Int(item.entry.receiveCount), sentAtMillis: item.entry.sentAtMillis,
                firstReceiveAtMillis: item.entry.firstReceiveAtMillis, groupID: stored.groupID,
                deduplicationID: stored.deduplicationID, deadLetterSourceQueue: nil))
        }
        return messages
    }

    // MARK: - Delete, visibility, purge

    /// SQS DeleteMessage(Batch): per receipt handle, success or why not; replies once durable.
    /// `synced` false (a pusher's own deletes): the delete record needs no sync of its own — lost
    /// in a crash, the message is delivered again (at least once), never lost.
    public func delete(
        _ queueName: String, receiptHandles: [String], synced: Bool = true, reply: @escaping @Sendable ([Result<Void, HeraldError>]) -> Void
    ) {
        let now = clock()
        let outcome = state.withLock { state -> Result<[Result<Void, HeraldError>], HeraldError> in
            guard let id = state.ids[queueName], let slot = state.queues[id] else { return .failure(Self.noSuchQueue) }
            var results: [Result<Void, HeraldError>] = []
            var deleted: [QueueEntry] = []
            for handle in receiptHandles {
                do throws(HeraldError) {
                    if let entry = try slot.core.delete(receiptHandle: handle, now: now) { deleted.append(entry) }
                    results.append(.success(()))
                } catch {
                    results.append(.failure(error))
                }
            }
            guard !deleted.isEmpty else { return .success(results) }
            for entry in deleted { releaseHolder(entry, in: &state) }
            let write = synced ? store.append : store.appendUnsynced
            write([.delete(queue: id, entries: deleted.map(\.entry))], callbackQueue) { [results] result in
                if case .failure(let error) = result { return reply(results.map { _ in .failure(Self.storageError(error)) }) }
                reply(results)
            }
            return .success([])
        }
        switch outcome {
        case .failure(let error):
            callbackQueue.async { reply(receiptHandles.map { _ in .failure(error) }) }
        case .success(let results) where !results.isEmpty:
            callbackQueue.async { reply(results) }
        case .success:
            break  // replied once the delete record is durable
        }
    }

    /// SQS ChangeMessageVisibility(Batch).
    public func changeVisibility(
        _ queueName: String, _ changes: [(receiptHandle: String, timeout: Int)],
        reply: @escaping @Sendable ([Result<Void, HeraldError>]) -> Void
    ) {
        let now = clock()
        let outcome = state.withLock { state -> Result<[Result<Void, HeraldError>], HeraldError> in
            guard let id = state.ids[queueName], let slot = state.queues[id] else { return .failure(Self.noSuchQueue) }
            var results: [Result<Void, HeraldError>] = []
            var marks: [VisibilityMark] = []
            for change in changes {
                do throws(HeraldError) {
                    let entry = try slot.core.changeVisibility(receiptHandle: change.receiptHandle, timeout: change.timeout, now: now).entry
                    marks.append(VisibilityMark(entry: entry.entry, visibleAtMillis: entry.visibleAtMillis, receiveCount: entry.receiveCount, firstReceiveAtMillis: entry.firstReceiveAtMillis))
                    results.append(.success(()))
                } catch {
                    results.append(.failure(error))
                }
            }
            armTimer(id, now: now, in: &state)
            guard !marks.isEmpty else { return .success(results) }
            store.append([.visibility(queue: id, marks: marks)], on: callbackQueue) { [self, results] result in
                if case .failure(let error) = result { return reply(results.map { _ in .failure(Self.storageError(error)) }) }
                reply(results)
                serveWaiters(id)  // a timeout of 0 made messages visible now
            }
            return .success([])
        }
        switch outcome {
        case .failure(let error): callbackQueue.async { reply(changes.map { _ in .failure(error) }) }
        case .success(let results) where !results.isEmpty: callbackQueue.async { reply(results) }
        case .success: break
        }
    }

    /// SQS PurgeQueue (one per queue per 60 s).
    public func purge(_ queueName: String, reply: @escaping @Sendable (Result<Void, HeraldError>) -> Void) {
        let now = clock()
        let outcome = state.withLock { state -> Result<Void, HeraldError> in
            guard let id = state.ids[queueName], let slot = state.queues[id] else { return .failure(Self.noSuchQueue) }
            let removed: [QueueEntry]
            do throws(HeraldError) { removed = try slot.core.purge(now: now) } catch { return .failure(error) }
            for entry in removed { releaseHolder(entry, in: &state) }
            slot.purgedThrough = state.nextEntry - 1
            store.append([.purge(queue: id, throughEntry: state.nextEntry - 1)], on: callbackQueue) { result in
                reply(result.map { _ in () }.mapError(Self.storageError))
            }
            return .success(())
        }
        if case .failure(let error) = outcome { callbackQueue.async { reply(.failure(error)) } }
    }
}

extension QueueManager {
    // MARK: - Redrive

    /// Moves every visible message of `source` (a dead-letter queue) to `destination` as new
    /// messages (new id and enqueue time, as SQS's redrive does). One append: the new records, then
    /// the deletes, so a crash can duplicate a message, never lose it. Replies with the count.
    public func redrive(from source: String, to destination: String, reply: @escaping @Sendable (Result<Int, HeraldError>) -> Void) {
        let now = clock()
        let outcome = state.withLock { state -> Result<Int, HeraldError> in
            guard let from = state.ids[source], let slot = state.queues[from],
                  let to = state.ids[destination], let target = state.queues[to]
            else { return .failure(Self.noSuchQueue) }
            guard from != to else {
                return .failure(HeraldError(.invalidParameterValue, "The source and destination of a message move task must differ."))
            }
            guard slot.core.isFIFO == target.core.isFIFO else {
                return .failure(HeraldError(.invalidParameterValue, "The source and destination queues of a message move task must be of the same type (FIFO or standard)."))
            }
            var copies: [StoredMessage] = []
            var moved: [(entry: QueueEntry, original: StoredMessage)] = []
            let ids = messageIDs.next(slot.core.entries().count)
            for entry in slot.core.entries() where entry.visibleAtMillis <= now {
                guard case .message(var stored)? = try? store.read(LogPosition(packed: entry.position)),
                      slot.core.remove(entry: entry.entry) != nil
                else { continue }
                let original = stored
                let old = stored.targets.first { $0.queue == from }
                stored.entry = state.nextEntry
                state.nextEntry += 1
                stored.messageID = ids[copies.count].text
                stored.sentAtMillis = now
                if stored.deduplicationID != nil { stored.deduplicationID = stored.messageID }
                stored.targets = [.init(
                    queue: to, subscription: old?.subscription ?? "", raw: old?.raw ?? true,
                    visibleAtMillis: now + Int64(target.core.attributes.delaySeconds) * 1000)]
                copies.append(stored)
                moved.append((entry, original))
            }
            guard !moved.isEmpty else { return .success(0) }
            let records = copies.map { JournalRecord.message($0) } + [.delete(queue: from, entries: moved.map(\.entry.entry))]
            let count = moved.count
            store.append(records, on: callbackQueue) { [self, copies, moved] result in
                switch result {
                case .success(let positions):
                    _ = enqueueDurable(Array(zip(copies, positions)))
                    self.state.withLock { state in for item in moved { releaseHolder(item.entry, in: &state) } }
                    reply(.success(count))
                case .failure(let error):
                    putBack(moved, into: from)  // nothing moved: the messages stay in the dead-letter queue
                    reply(.failure(Self.storageError(error)))
                }
            }
            return .success(-1)
        }
        switch outcome {
        case .failure(let error): callbackQueue.async { reply(.failure(error)) }
        case .success(let count) where count >= 0: callbackQueue.async { reply(.success(count)) }
        case .success: break
        }
    }

    /// The queues whose redrive policy names `deadLetterQueue` (a redrive's default destination).
    public func sourceQueues(of deadLetterQueue: String) -> [String] {
        state.withLock { state in
            state.queues.values.filter { $0.core.attributes.redrivePolicy?.deadLetterTargetQueue == deadLetterQueue }.map(\.name)
        }.sorted()
    }
}
