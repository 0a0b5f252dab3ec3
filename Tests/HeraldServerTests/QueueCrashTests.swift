import Foundation
import HeraldClient
import HeraldCore
import HeraldTestSupport
import Synchronization
import Testing

/// `herald serve` as a child process with a data directory, SIGKILLed at random moments while a
/// publisher (confirmations awaited) and a consumer (receive + delete) work on a topic fanned out
/// to three filtered queues. Every confirmed message must be found — at least once — in exactly
/// the queues its filter selects, uncorrupted, and no message whose delete was confirmed may come
/// back.
extension Integration {
    @Suite struct QueueCrashTests {
        /// Which queues each kind of message reaches (the config's filter policies).
        static let routes: [String: Set<String>] = ["a": ["q-a", "q-c"], "b": ["q-b"], "c": ["q-c"]]
        static let queues = ["q-a", "q-b", "q-c"]
        static let kinds = ["a", "b", "c"]

        @Test(.timeLimit(.minutes(5))) func confirmedMessagesSurviveSIGKILL() throws {
            try #require(HeraldExecutable.exists, "the herald executable is built by `make test` before the tests: \(HeraldExecutable.path)")
            let directory = makeTemporaryDirectory("herald-crash")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let port = try #require(freeLoopbackPort())
            let configPath = directory + "/herald.yaml"
            try Self.config(port: port, dataDir: directory + "/data").write(toFile: configPath, atomically: true, encoding: .utf8)

            let ledger = CrashLedger()
            var sequence = 0
            var generator = SystemRandomNumberGenerator()
            let rounds = 20
            for round in 0..<rounds {
                let server = try ChildProcess(
                    executable: HeraldExecutable.path, arguments: ["serve", "--config", configPath], stderrPath: directory + "/server.log")
                let client = try Self.connect(port: port, server: server)
                let stop = StopFlag()
                let consumer = Thread {
                    Self.consume(client, stop: stop, ledger: ledger)
                }
                consumer.start()
                // Publish pipelined batches until the kill, at a random moment 100–600 ms in.
                let killAt = DispatchTime.now().uptimeNanoseconds + UInt64.random(in: 100...600, using: &generator) * 1_000_000
                let killer = Thread {
                    while DispatchTime.now().uptimeNanoseconds < killAt { usleep(5_000) }
                    server.kill()
                    stop.set()
                }
                killer.start()
                while !stop.isSet {
                    let batch = (0..<50).map { offset in (sequence + offset, Self.kinds[(sequence + offset) % 3]) }
                    sequence += batch.count
                    let group = DispatchGroup()
                    for (number, kind) in batch {
                        group.enter()
                        let body = "m-\(number)-\(kind)"
                        client.publish(topic: "orders", attributes: ["kind": .string(kind)], body: Array(body.utf8)) { result in
                            if case .success = result { ledger.published.withLock { $0[body] = kind } }
                            group.leave()
                        }
                    }
                    if group.wait(timeout: .now() + 20) == .timedOut { break }
                }
                client.close()
                while server.isRunning || !stop.isSet { usleep(10_000) }
                let killed = server.process.terminationReason == .uncaughtSignal && server.process.terminationStatus == SIGKILL
                #expect(killed, "round \(round): the server died of our SIGKILL, not on its own:\n\(server.stderrText.suffix(3000))")
                if !killed { return }
                usleep(50_000)
            }

            // Restart once more and drain every queue.
            let server = try ChildProcess(
                executable: HeraldExecutable.path, arguments: ["serve", "--config", configPath], stderrPath: directory + "/server.log")
            defer { server.kill() }
            let client = try Self.connect(port: port, server: server)
            defer { client.close() }
            var drained: [String: [String]] = [:]
            for queue in Self.queues {
                var bodies: [String] = []
                var quiet = 0
                while quiet < 3 {
                    let messages = try client.receive(queue: queue, max: 10, wait: 1, visibility: 600)
                    if messages.isEmpty {
                        let attributes = try client.queueAttributes(name: queue)
                        let left = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
                            .compactMap { attributes[$0].flatMap(Int.init) }.reduce(0, +)
                        quiet = left == 0 ? quiet + 1 : 0
                        continue
                    }
                    bodies += messages.map(\.bodyText)
                    _ = try client.deleteBatch(queue: queue, entries: messages.enumerated().map { ReceiptEntry(id: "e\($0.offset)", receiptHandle: $0.element.receiptHandle) })
                }
                drained[queue] = bodies
            }

            let confirmed = ledger.published.withLock { $0 }
            let confirmedDeletes = ledger.deleted.withLock { $0 }
            let attemptedDeletes = ledger.attempted.withLock { $0 }
            #expect(confirmed.count > 500, "the publisher got confirmations in every round (\(confirmed.count) in all)")
            for queue in Self.queues {
                let found = Set(drained[queue] ?? [])
                for body in drained[queue] ?? [] {
                    let parts = body.split(separator: "-")
                    #expect(parts.count == 3 && parts[0] == "m" && Int(parts[1]) != nil, "an intact message in \(queue): \(body)")
                    let kind = String(parts.last ?? "")
                    #expect(Self.routes[kind]?.contains(queue) == true, "\(body) is only in the queues its filter selects, not \(queue)")
                    #expect(confirmedDeletes[queue]?.contains(body) != true, "\(body) came back to \(queue) after its delete was confirmed")
                }
                var missing: [String] = []
                for (body, kind) in confirmed where Self.routes[kind]?.contains(queue) == true {
                    if !found.contains(body) && attemptedDeletes[queue]?.contains(body) != true { missing.append(body) }
                }
                #expect(missing.isEmpty, "confirmed messages missing from \(queue): \(missing.prefix(10)) (\(missing.count) in all)\n\(server.stderrText.suffix(2000))")
            }
        }

        static func connect(port: Int, server: ChildProcess) throws -> HeraldClient {
            let options = ClientOptions(host: "127.0.0.1", port: port, caFile: TestPaths.ca, connectTimeout: .seconds(5))
            let deadline = DispatchTime.now().uptimeNanoseconds + 30_000_000_000
            while true {
                if let client = try? HeraldClient.connect(options) { return client }
                guard server.isRunning, DispatchTime.now().uptimeNanoseconds < deadline else {
                    throw ClientError(code: "NotStarted", message: "herald serve did not come up:\n\(server.stderrText.suffix(3000))")
                }
                usleep(20_000)
            }
        }

        /// Receives from every queue and deletes what it got, recording confirmed deletes, until stopped.
        static func consume(_ client: HeraldClient, stop: StopFlag, ledger: CrashLedger) {
            var turn = 0
            while !stop.isSet {
                let queue = queues[turn % queues.count]
                turn += 1
                guard let messages = try? client.receive(queue: queue, max: 10, wait: 0, timeout: .seconds(5)), !messages.isEmpty else {
                    usleep(5_000)
                    continue
                }
                ledger.attempted.withLock { $0[queue, default: []].formUnion(messages.map(\.bodyText)) }
                let entries = messages.enumerated().map { ReceiptEntry(id: "e\($0.offset)", receiptHandle: $0.element.receiptHandle) }
                guard let result = try? client.deleteBatch(queue: queue, entries: entries, timeout: .seconds(5)) else { continue }
                let ok = Set(result.successful.map(\.id))
                ledger.deleted.withLock { $0[queue, default: []].formUnion(messages.enumerated().filter { ok.contains("e\($0.offset)") }.map(\.element.bodyText)) }
            }
        }

        static func config(port: Int, dataDir: String) -> String {
            """
            listeners:
              - listen: 127.0.0.1:\(port)
                tls:
                  cert: \(TestPaths.serverCert)
                  key: \(TestPaths.serverKey)
            auth:
              anonymous: true
            dataDir: \(dataDir)
            durability:
              fsync: always
            topics:
              - orders
            queues:
              - name: q-a
                visibilityTimeout: 1s
              - name: q-b
                visibilityTimeout: 1s
              - name: q-c
                visibilityTimeout: 1s
            subscriptions:
              - {name: to-a, topic: orders, protocol: sqs, queue: q-a, rawMessageDelivery: true, filterPolicy: {kind: [a]}}
              - {name: to-b, topic: orders, protocol: sqs, queue: q-b, rawMessageDelivery: true, filterPolicy: {kind: [b]}}
              - {name: to-c, topic: orders, protocol: sqs, queue: q-c, rawMessageDelivery: true, filterPolicy: {kind: [a, c]}}
            """
        }
    }
}

/// What the crash test's publisher and consumer were told, across rounds.
final class CrashLedger: Sendable {
    /// body → kind, for every publish that was confirmed.
    let published = Mutex<[String: String]>([:])
    /// queue → bodies whose delete was confirmed.
    let deleted = Mutex<[String: Set<String>]>([:])
    /// queue → bodies a delete was sent for (confirmed or not).
    let attempted = Mutex<[String: Set<String>]>([:])
}

final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}
