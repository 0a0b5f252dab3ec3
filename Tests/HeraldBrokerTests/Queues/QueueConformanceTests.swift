import HeraldCore
import Testing
@testable import HeraldBroker

/// Randomized scripts (seeded SplitMix64) through `QueueCore` and `ReferenceQueue` side by side:
/// sends (FIFO: three groups, deduplication ids from a small pool), receives with assorted maxima and
/// timeouts, deletes and visibility changes with old and new handles, delay changes, purges, and
/// the manager's `expire` before every step. After every step the counts agree and `nextChange` is
/// never later than the reference's.
enum QueueScenario {
    static func run(seed: UInt64, fifo: Bool, steps: Int = 400, flaw: ReferenceQueue.Flaw = .none) -> [String] {
        var tally: [String: Int] = [:]
        return run(seed: seed, fifo: fifo, steps: steps, flaw: flaw, tally: &tally)
    }

    /// `tally` counts what happened (received, deadLettered, expired, duplicate, deleted, refused, purged).
    static func run(seed: UInt64, fifo: Bool, steps: Int, flaw: ReferenceQueue.Flaw, tally: inout [String: Int]) -> [String] {
        var rng = SplitMix64(seed: seed)
        func pick<T>(_ options: [T]) -> T { options[Int(rng.next() % UInt64(options.count))] }
        var attributes = QueueAttributes(fifo: fifo)
        attributes.messageRetentionPeriod = 60
        attributes.visibilityTimeout = 5
        attributes.delaySeconds = pick([0, 0, 2])
        if rng.next() % 2 == 0 {
            let name = fifo ? "dead.fifo" : "dead"
            attributes.redrivePolicy = RedrivePolicy(deadLetterTargetQueue: name, deadLetterTargetArn: "arn:aws:sqs:r:1:\(name)", maxReceiveCount: 3)
        }
        var real = QueueCore(name: fifo ? "s.fifo" : "s", attributes: attributes)
        var reference = ReferenceQueue(attributes: attributes, flaw: flaw)
        var now: Int64 = 1_000_000
        var nextID: UInt64 = 1
        var handles: [String] = []
        var problems: [String] = []

        for step in 0..<steps {
            func note(_ problem: String) { problems.append("seed \(seed) step \(step) t=\(now): \(problem)") }
            now += pick([0, 500, 1000, 1000, 2000, 5000, 13_000])
            let expired = Set(real.expire(now: now).map(\.entry)), expected = reference.expire(now: now)
            tally["expired", default: 0] += expired.count
            if expired != expected { note("expired \(expired.sorted()), expected \(expected.sorted())") }

            switch rng.next() % 10 {
            case 0...3 where reference.messages.count < 14:
                let id = nextID
                nextID += 1
                let group = fifo ? pick(["a", "b", "c"]) : nil
                let dedupID = fifo ? "d\(rng.next() % 40)" : nil
                let delay: Int? = fifo ? nil : pick([nil, nil, 0, 1, 3])
                let answer = try? real.enqueue(
                    QueueEntry(entry: id, position: id, sentAtMillis: now, size: 10), messageID: "m\(id)", groupID: group,
                    deduplicationID: dedupID, delaySeconds: delay, now: now)
                let expectedAnswer = reference.enqueue(id: id, group: group, dedupID: dedupID, delay: delay, now: now)
                if case .duplicate = answer { tally["duplicate", default: 0] += 1 }
                if answer != expectedAnswer { note("send \(id): \(String(describing: answer)), expected \(expectedAnswer)") }
            case 4, 5:
                let max = Int(rng.next() % 10) + 1
                let timeout: Int? = pick([nil, 0, 1, 3, 10])
                do {
                    let outcome = try real.receive(max: max, visibilityTimeout: timeout, now: now)
                    handles += outcome.received.map(\.receiptHandle)
                    tally["received", default: 0] += outcome.received.count
                    tally["deadLettered", default: 0] += outcome.deadLettered.count
                    tally["redelivered", default: 0] += outcome.received.filter { $0.entry.receiveCount > 1 }.count
                    let timeoutMillis = Int64(timeout ?? attributes.visibilityTimeout) * 1000
                    for problem in reference.checkReceive(outcome, max: max, timeoutMillis: timeoutMillis, now: now) { note(problem) }
                } catch {
                    note("receive threw \(error)")
                }
            case 6...7 where !handles.isEmpty:
                let text = handles[handles.count - 1 - Int(rng.next() % UInt64(Swift.min(handles.count, 6)))]
                guard let handle = try? ReceiptHandle(parsing: text) else { note("unparsable handle"); break }
                let answer: ReferenceQueue.Answer
                do { answer = .deleted(try real.delete(receiptHandle: text, now: now)?.entry) } catch { answer = .error(error.code) }
                let expectedAnswer = reference.delete(handle, now: now)
                if case .deleted(.some) = answer { tally["deleted", default: 0] += 1 }
                if case .error = answer { tally["refused", default: 0] += 1 }
                if answer != expectedAnswer { note("delete \(handle): \(answer), expected \(expectedAnswer)") }
            case 8 where !handles.isEmpty:
                let text = handles[handles.count - 1 - Int(rng.next() % UInt64(Swift.min(handles.count, 6)))]
                guard let handle = try? ReceiptHandle(parsing: text) else { note("unparsable handle"); break }
                let timeout = pick([0, 1, 4, 20, 43_200])
                let answer: ReferenceQueue.Answer
                do {
                    _ = try real.changeVisibility(receiptHandle: text, timeout: timeout, now: now)
                    answer = .deleted(nil)
                } catch { answer = .error(error.code) }
                let expectedAnswer = reference.changeVisibility(handle, timeout: timeout, now: now)
                if answer != expectedAnswer { note("change visibility \(handle) to \(timeout): \(answer), expected \(expectedAnswer)") }
            case 9:
                if rng.next() % 4 == 0 {
                    let purged = (try? real.purge(now: now)).map { Set($0.map(\.entry)) }
                    let expectedPurge = reference.purge(now: now)
                    if purged != nil { tally["purged", default: 0] += 1 }
                    if purged != expectedPurge { note("purge \(String(describing: purged)), expected \(String(describing: expectedPurge))") }
                } else {
                    let delay = pick([0, 2, 7])
                    real.attributes.delaySeconds = delay
                    reference.setDelay(delay)
                }
            default:
                break
            }
            let counts = real.counts(now: now), expectedCounts = reference.counts(now: now)
            if counts != expectedCounts { note("counts \(counts), expected \(expectedCounts)") }
            if counts.visible + counts.inFlight + counts.delayed != real.storedCount { note("stored \(real.storedCount) ≠ counts \(counts)") }
            if let expectedNext = reference.nextChange(now: now), (real.nextChange(after: now) ?? .max) > expectedNext {
                note("nextChange \(String(describing: real.nextChange(after: now))) later than \(expectedNext)")
            }
            if problems.count >= 5 { break }
        }
        return problems
    }
}

@Suite struct QueueConformanceTests {
    @Test(arguments: [false, true])
    func queueCoreAgreesWithTheReference(fifo: Bool) {
        var failures: [String] = []
        for seed in UInt64(1)...60 {
            failures += QueueScenario.run(seed: seed, fifo: fifo)
            if failures.count >= 5 { break }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// The scripts reach what they are meant to test: receives and redeliveries, dead-letter moves,
    /// expiries, FIFO duplicates, deletes and refused handles, purges.
    @Test(arguments: [false, true])
    func theScriptsReachTheInterestingStates(fifo: Bool) {
        var tally: [String: Int] = [:]
        for seed in UInt64(1)...60 { _ = QueueScenario.run(seed: seed, fifo: fifo, steps: 400, flaw: .none, tally: &tally) }
        var wanted = ["received", "redelivered", "deadLettered", "expired", "deleted", "purged"]
        if fifo { wanted += ["duplicate", "refused"] }
        for key in wanted { #expect(tally[key, default: 0] > 0, "\(key): \(tally)") }
    }

    @Test func aWrongReferenceIsCaught() {
        var lateVisibility: [String] = [], ignoresBlocking: [String] = []
        for seed in UInt64(1)...30 {
            lateVisibility += QueueScenario.run(seed: seed, fifo: false, flaw: .visibilityEndsLate)
            ignoresBlocking += QueueScenario.run(seed: seed, fifo: true, flaw: .fifoIgnoresGroupBlocking)
        }
        #expect(!lateVisibility.isEmpty)
        #expect(ignoresBlocking.contains { $0.contains("group") })
    }
}
