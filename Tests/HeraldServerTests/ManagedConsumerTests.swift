import Dispatch
import Foundation
@testable import HeraldBroker
import HeraldConfig
import HeraldCore
import HeraldHTTP
import HeraldTestSupport
import HeraldWire
import Synchronization
import Testing
@testable import HeraldServer

/// The pure half: the Lambda event and the partial-batch answer rules.
@Suite struct LambdaSQSEventTests {
    static let source = LambdaSQSEvent.Source(queueARN: "arn:aws:sqs:us-east-1:000000000000:orders", region: "us-east-1", senderID: "000000000000")

    static func message(_ id: String, _ body: String, attributes: MessageAttributes = [:], group: String? = nil, dedup: String? = nil) -> ReceivedQueueMessage {
        ReceivedQueueMessage(
            messageID: id, receiptHandle: "handle-\(id)", body: Array(body.utf8), attributes: attributes, receiveCount: 2,
            sentAtMillis: 1_545_082_649_183, firstReceiveAtMillis: 1_545_082_649_185, groupID: group, deduplicationID: dedup,
            deadLetterSourceQueue: nil)
    }

    @Test func theEventHasLambdasShapeAndFieldOrder() throws {
        let bytes = LambdaSQSEvent.render([Self.message("m-1", "test")], source: Self.source)
        // AWS's example event, with this message's values.
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"Records":[{"messageId":"m-1","receiptHandle":"handle-m-1","body":"test","attributes":{"ApproximateReceiveCount":"2","SentTimestamp":"1545082649183","SenderId":"000000000000","ApproximateFirstReceiveTimestamp":"1545082649185"},"messageAttributes":{},"md5OfBody":"098f6bcd4621d373cade4e832627b4f6","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:000000000000:orders","awsRegion":"us-east-1"}]}"#)
    }

    @Test func attributesFIFOFieldsAndEscaping() throws {
        let attributes: MessageAttributes = ["b": .binary([0, 1, 2]), "a": .string("x\"y"), "n": .number("1.5")]
        let bytes = LambdaSQSEvent.render(
            [Self.message("m-1", "line\n\"q\"", attributes: attributes, group: "g1", dedup: "d1")], source: Self.source)
        let record = try #require(try JSONParser.parse(bytes, limits: .init(maxDepth: 16))["Records"].flatMap { value -> JSONValue? in
            if case .array(let items) = value { return items.first }
            return nil
        })
        #expect(record["body"] == .string("line\n\"q\""))
        #expect(record["md5OfBody"] == .string(SQSDigest.md5Hex(Array("line\n\"q\"".utf8))))
        #expect(record["md5OfMessageAttributes"] == .string(SQSDigest.md5OfMessageAttributes(attributes)))
        #expect(record["attributes"]?["MessageGroupId"] == .string("g1"))
        #expect(record["attributes"]?["MessageDeduplicationId"] == .string("d1"))
        #expect(record["messageAttributes"]?.text
            == #"{"a":{"stringValue":"x\"y","stringListValues":[],"binaryListValues":[],"dataType":"String"},"b":{"binaryValue":"AAEC","stringListValues":[],"binaryListValues":[],"dataType":"Binary"},"n":{"stringValue":"1.5","stringListValues":[],"binaryListValues":[],"dataType":"Number"}}"#)
    }

    @Test(arguments: [
        ("", LambdaSQSEvent.Answer.allSucceeded),
        (" \n", .allSucceeded),
        ("null", .allSucceeded),
        ("{}", .allSucceeded),
        (#"{"batchItemFailures":null}"#, .allSucceeded),
        (#"{"batchItemFailures":[]}"#, .allSucceeded),
        (#"{"batchItemFailures":[{"itemIdentifier":"b"}]}"#, .failed(["b"])),
        (#"{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"c"},{"itemIdentifier":"a"}]}"#, .failed(["a", "c"])),
    ])
    func answersLambdaTakes(body: String, expected: LambdaSQSEvent.Answer) {
        #expect(LambdaSQSEvent.answer(Array(body.utf8), batch: ["a", "b", "c"]) == expected)
    }

    @Test(arguments: [
        ("{not json", "not JSON"),
        (#"["a"]"#, "not a JSON object"),
        (#""ok""#, "not a JSON object"),
        (#"{"batchItemFailures":"a"}"#, "not a list"),
        (#"{"batchItemFailures":[{"itemIdentifier":"zz"}]}"#, "names no message"),
        (#"{"batchItemFailures":[{"itemIdentifier":""}]}"#, "empty itemIdentifier"),
        (#"{"batchItemFailures":[{"itemIdentifier":null}]}"#, "no itemIdentifier"),
        (#"{"batchItemFailures":[{"itemidentifier":"a"}]}"#, "no itemIdentifier"),
        (#"{"batchItemFailures":["a"]}"#, "no itemIdentifier"),
    ])
    func answersThatFailTheWholeBatch(body: String, why: String) {
        guard case .malformed(let reason) = LambdaSQSEvent.answer(Array(body.utf8), batch: ["a", "b", "c"]) else {
            Issue.record("\(body) was taken")
            return
        }
        #expect(reason.contains(why))
    }
}

/// A real endpoint whose answers a closure computes from each request; it counts requests in
/// flight (arrived, not yet answered).
final class ComputedEndpoint: Sendable {
    private struct State {
        var requests: [HTTPRequest] = []
        var inFlight = 0
        var peak = 0
    }

    /// Shared by the server's handler and the test's reads.
    private final class Recorder: Sendable {
        let state = Mutex(State())
    }

    let server: HTTPServer
    private let recorder = Recorder()

    init(delay: Duration = .zero, answer: @escaping @Sendable (HTTPRequest) -> HTTPResponse) throws {
        let recorder = self.recorder
        server = try HTTPServer(configuration: HTTPServer.Configuration(), handler: { request, respond in
            recorder.state.withLock { s in
                s.requests.append(request)
                s.inFlight += 1
                s.peak = max(s.peak, s.inFlight)
            }
            let response = answer(request)
            DispatchQueue.global().asyncAfter(deadline: .now() + QueueConsumer.interval(delay)) {
                recorder.state.withLock { $0.inFlight -= 1 }
                respond(response)
            }
        })
    }

    var url: String { "http://127.0.0.1:\(server.port)/handler" }
    var requests: [HTTPRequest] { recorder.state.withLock { $0.requests } }
    var peakInFlight: Int { recorder.state.withLock { $0.peak } }
    func close() { server.close() }
}

/// The records of a POSTed event (empty when it is not one).
func records(_ request: HTTPRequest) -> [JSONValue] {
    guard let event = try? JSONParser.parse(request.body, limits: .init(maxDepth: 16)), case .array(let items)? = event["Records"] else { return [] }
    return items
}

func string(_ value: JSONValue?) -> String? {
    if case .string(let text)? = value { return text }
    return nil
}

extension Integration {
    /// Managed consumers end to end: a real server with in-memory queues, real HTTP receivers.
    @Suite struct ManagedConsumerTests {
        func start(queues: [HeraldConfig.Queue], consumers: [HeraldConfig.Consumer]) throws -> Server {
            var config = TestServer.baseConfig()
            config.queues = queues
            config.consumers = consumers
            let server = Server(config: config)
            try server.start()
            return server
        }

        /// Sends `bodies` in one SendMessageBatch-like call; the message ids, in order. Tests here wait
        /// with `eventually` (not blocking: a blocked cooperative thread slows every other suite).
        @discardableResult
        func send(_ server: Server, _ queue: String, _ bodies: [String], attributes: MessageAttributes = [:]) async throws -> [String] {
            let manager = try #require(server.queueManager)
            let sent = await withCheckedContinuation { continuation in
                manager.send(queue, bodies.map { QueueSendRequest(body: Array($0.utf8), attributes: attributes) }) { results in
                    continuation.resume(returning: results.compactMap { try? $0.get().messageID })
                }
            }
            #expect(sent.count == bodies.count)
            return sent
        }

        func isEmpty(_ server: Server, _ queue: String) -> Bool {
            guard let summary = server.queueManager?.summary(queue) else { return false }
            return summary.visible == 0 && summary.inFlight == 0 && summary.delayed == 0
        }

        @Test func aBatchOfTenArrivesAsOneLambdaEventAndA2xxDeletesIt() async throws {
            let receiver = try TestHTTPReceiver()
            defer { receiver.close() }
            let server = try start(
                queues: [HeraldConfig.Queue(name: "orders")],
                consumers: [HeraldConfig.Consumer(queue: "orders", endpoint: receiver.url("/handler?x=1"), maxBatchingWindow: .seconds(2))])
            defer { server.stop() }
            let bodies = (1...10).map { #"{"order":\#($0)}"# }
            let ids = try await send(server, "orders", bodies, attributes: ["kind": .string("test"), "blob": .binary([1, 2])])
            #expect(await eventually(.seconds(10)) { receiver.requestCount >= 1 })
            #expect(await eventually(.seconds(5)) { isEmpty(server, "orders") }, "the 2xx deleted the batch")
            #expect(receiver.requestCount == 1, "one POST for the whole batch")
            let request = try #require(receiver.requests.first)
            #expect(request.method == "POST" && request.target == "/handler?x=1")
            #expect(request.headers["Content-Type"] == "application/json")
            let got = records(request)
            #expect(got.count == 10)
            #expect(Set(got.compactMap { string($0["messageId"]) }) == Set(ids))
            #expect(Set(got.compactMap { string($0["body"]) }) == Set(bodies))
            for record in got {
                let body = try #require(string(record["body"]))
                #expect(string(record["md5OfBody"]) == SQSDigest.md5Hex(Array(body.utf8)))
                #expect(string(record["md5OfBody"])?.count == 32)
                #expect(string(record["receiptHandle"])?.isEmpty == false)
                #expect(string(record["eventSource"]) == "aws:sqs")
                #expect(string(record["eventSourceARN"]) == "arn:aws:sqs:us-east-1:000000000000:orders")
                #expect(string(record["awsRegion"]) == "us-east-1")
                #expect(string(record["attributes"]?["ApproximateReceiveCount"]) == "1")
                #expect(string(record["attributes"]?["SenderId"]) == "000000000000")
                let sent = try #require(string(record["attributes"]?["SentTimestamp"]).flatMap { Int64($0) })
                let first = try #require(string(record["attributes"]?["ApproximateFirstReceiveTimestamp"]).flatMap { Int64($0) })
                #expect(first >= sent && sent > 1_700_000_000_000)
                #expect(string(record["messageAttributes"]?["kind"]?["stringValue"]) == "test")
                #expect(string(record["messageAttributes"]?["blob"]?["binaryValue"]) == "AQI=")
                #expect(string(record["messageAttributes"]?["blob"]?["dataType"]) == "Binary")
            }
            let stats = try #require(server.consumers.statistics("orders"))
            #expect(stats.batchesSucceeded == 1 && stats.messagesPosted == 10)
            #expect(await eventually(.seconds(2)) { server.consumers.statistics("orders")?.messagesDeleted == 10 })
        }

        @Test func a500DeletesNothingAndTheRedrivePolicyDeadLettersTheMessages() async throws {
            let receiver = try TestHTTPReceiver(fallback: TestHTTPReceiver.Step(status: 500, body: "boom"))
            defer { receiver.close() }
            let server = try start(
                queues: [
                    HeraldConfig.Queue(name: "work-dlq"),
                    HeraldConfig.Queue(name: "work", visibilityTimeoutSeconds: 1, deadLetter: HeraldConfig.DeadLetter(queue: "work-dlq", maxReceiveCount: 2)),
                ],
                consumers: [HeraldConfig.Consumer(queue: "work", endpoint: receiver.url())])
            defer { server.stop() }
            let ids = try await send(server, "work", ["a", "b", "c"])
            #expect(await eventually(.seconds(9)) { server.queueManager?.summary("work-dlq")?.visible == 3 }, "dead-lettered after 2 receives")
            #expect(isEmpty(server, "work"))
            // Each message was posted exactly maxReceiveCount times, with its receive count.
            var posts: [String: [String]] = [:]
            for record in receiver.requests.flatMap(records) {
                if let id = string(record["messageId"]) { posts[id, default: []].append(string(record["attributes"]?["ApproximateReceiveCount"]) ?? "?") }
            }
            #expect(Set(posts.keys) == Set(ids))
            #expect(posts.values.allSatisfy { $0 == ["1", "2"] }, "\(posts)")
            let stats = try #require(server.consumers.statistics("work"))
            #expect(stats.batchesFailed >= 2 && stats.messagesDeleted == 0 && stats.batchesSucceeded == 0)
            #expect(stats.lastError?.contains("HTTP 500") == true)
        }

        @Test func aPartialFailureDeletesOnlyTheOthers() async throws {
            // Fails the record whose body is "m2", once.
            let failedOnce = Atomic<Bool>(false)
            let endpoint = try ComputedEndpoint { request in
                let id = records(request).first { string($0["body"]) == "m2" }.flatMap { string($0["messageId"]) }
                guard let id, !failedOnce.exchange(true, ordering: .relaxed) else { return HTTPResponse(status: 200) }
                return HTTPResponse(status: 200, body: Array(#"{"batchItemFailures":[{"itemIdentifier":"\#(id)"}]}"#.utf8))
            }
            defer { endpoint.close() }
            let server = try start(
                queues: [HeraldConfig.Queue(name: "jobs", visibilityTimeoutSeconds: 1)],
                consumers: [HeraldConfig.Consumer(queue: "jobs", endpoint: endpoint.url, reportBatchItemFailures: true)])
            defer { server.stop() }
            let ids = try await send(server, "jobs", ["m1", "m2", "m3"])
            #expect(await eventually(.seconds(8)) { endpoint.requests.count >= 2 && isEmpty(server, "jobs") })
            let posted = endpoint.requests.map { records($0).compactMap { string($0["messageId"]) } }
            #expect(posted.count == 2)
            #expect(Set(posted.first ?? []) == Set(ids))
            #expect(posted.last == [ids[1]], "only the failed message came back")
            #expect(records(endpoint.requests[1]).first.flatMap { string($0["attributes"]?["ApproximateReceiveCount"]) } == "2")
            let stats = try #require(server.consumers.statistics("jobs"))
            #expect(stats.batchesPartiallyFailed == 1 && stats.batchesSucceeded == 1)
        }

        @Test func aMalformedOrUnknownPartialAnswerRetriesTheWholeBatch() async throws {
            let receiver = try TestHTTPReceiver(script: [
                TestHTTPReceiver.Step(status: 200, body: #"{"batchItemFailures":[{"itemIdentifier":"no-such-message"}]}"#),
                TestHTTPReceiver.Step(status: 200, body: #"{"batchItemFailures":"#),
            ])
            defer { receiver.close() }
            let server = try start(
                queues: [HeraldConfig.Queue(name: "jobs", visibilityTimeoutSeconds: 1)],
                consumers: [HeraldConfig.Consumer(queue: "jobs", endpoint: receiver.url(), reportBatchItemFailures: true)])
            defer { server.stop() }
            let ids = try await send(server, "jobs", ["m1", "m2", "m3"])
            #expect(await eventually(.seconds(9)) { receiver.requestCount >= 3 && isEmpty(server, "jobs") })
            let posted = receiver.requests.map { Set(records($0).compactMap { string($0["messageId"]) }) }
            #expect(posted == [Set(ids), Set(ids), Set(ids)], "the whole batch each time")
            let counts = receiver.requests.map { records($0).compactMap { string($0["attributes"]?["ApproximateReceiveCount"]) } }
            #expect(counts == [["1", "1", "1"], ["2", "2", "2"], ["3", "3", "3"]])
            let stats = try #require(server.consumers.statistics("jobs"))
            #expect(stats.batchesFailed == 2 && stats.batchesSucceeded == 1)
        }

        @Test func aBatchOf25IsCollectedAcrossReceivesWithinTheWindow() async throws {
            let receiver = try TestHTTPReceiver()
            defer { receiver.close() }
            let server = try start(
                queues: [HeraldConfig.Queue(name: "bulk")],
                consumers: [HeraldConfig.Consumer(queue: "bulk", endpoint: receiver.url(), batchSize: 25, maxBatchingWindow: .seconds(3))])
            defer { server.stop() }
            var ids: [String] = []
            for chunk in [0..<10, 10..<20, 20..<25] {
                ids += try await send(server, "bulk", chunk.map { "n\($0)" })
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(await eventually(.seconds(10)) { receiver.requestCount >= 1 })
            #expect(await eventually(.seconds(3)) { isEmpty(server, "bulk") })
            #expect(receiver.requestCount == 1)
            #expect(receiver.requests.first.map { Set(records($0).compactMap { string($0["messageId"]) }) } == Set(ids))
        }

        @Test func aWindowPostsAPartialBatchWhenItRunsOut() async throws {
            let receiver = try TestHTTPReceiver()
            defer { receiver.close() }
            let server = try start(
                queues: [HeraldConfig.Queue(name: "bulk")],
                consumers: [HeraldConfig.Consumer(queue: "bulk", endpoint: receiver.url(), batchSize: 100, maxBatchingWindow: .milliseconds(600))])
            defer { server.stop() }
            let started = ContinuousClock.now
            try await send(server, "bulk", ["a", "b"])
            #expect(await eventually(.seconds(5)) { receiver.requestCount >= 1 })
            let waited = ContinuousClock.now - started
            #expect(waited >= .milliseconds(500) && waited < .seconds(3), "posted when the window closed (\(waited))")
            #expect(receiver.requests.first.map { records($0).count } == 2)
        }

        @Test func concurrencyGrowsWithABacklogStaysWithinTheLimitAndHalvesOnErrors() async throws {
            let failing = Atomic<Bool>(false)
            let endpoint = try ComputedEndpoint(delay: .milliseconds(150)) { _ in
                HTTPResponse(status: failing.load(ordering: .relaxed) ? 503 : 200)
            }
            defer { endpoint.close() }
            let server = try start(
                queues: [HeraldConfig.Queue(name: "backlog", visibilityTimeoutSeconds: 30)],
                consumers: [HeraldConfig.Consumer(queue: "backlog", endpoint: endpoint.url, batchSize: 2, maxConcurrency: 3)])
            defer { server.stop() }
            for chunk in 0..<6 { try await send(server, "backlog", (0..<10).map { "c\(chunk)-\($0)" }) }
            #expect(await eventually(.seconds(9)) { isEmpty(server, "backlog") })
            #expect(endpoint.peakInFlight == 3, "grew past one batch in flight, never past maxConcurrency")
            let stats = try #require(server.consumers.statistics("backlog"))
            #expect(stats.peakInFlight == 3 && stats.concurrencyLimit == 3 && stats.messagesDeleted == 60)
            // Errors halve the limit: 3 → 1 after two failed batches.
            failing.store(true, ordering: .relaxed)
            try await send(server, "backlog", (0..<6).map { "late-\($0)" })
            #expect(await eventually(.seconds(5)) { (server.consumers.statistics("backlog")?.batchesFailed ?? 0) >= 2 })
            #expect(server.consumers.statistics("backlog")?.concurrencyLimit == 1)
        }

        @Test func aReceiverThatIsDownLosesNothing() async throws {
            // A port nobody listens on (a receiver opened and closed), later served again.
            let probe = try TestHTTPReceiver()
            let port = probe.port
            probe.close()
            let server = try start(
                queues: [HeraldConfig.Queue(name: "jobs", visibilityTimeoutSeconds: 1)],
                consumers: [HeraldConfig.Consumer(queue: "jobs", endpoint: "http://127.0.0.1:\(port)/")])
            defer { server.stop() }
            let ids = try await send(server, "jobs", (1...5).map { "d\($0)" })
            #expect(await eventually(.seconds(5)) { (server.consumers.statistics("jobs")?.batchesFailed ?? 0) >= 1 })
            #expect(server.consumers.statistics("jobs")?.lastError?.contains("connect") == true)
            #expect(server.queueManager?.summary("jobs").map { $0.visible + $0.inFlight } == 5, "nothing deleted")
            let receiver = try TestHTTPReceiver { $0.port = port }
            defer { receiver.close() }
            #expect(await eventually(.seconds(8)) { isEmpty(server, "jobs") })
            let delivered = Set(receiver.requests.flatMap(records).compactMap { string($0["messageId"]) })
            #expect(delivered == Set(ids))
        }

        @Test func fifoRecordsCarryTheirGroupAndKeepItsOrder() async throws {
            let receiver = try TestHTTPReceiver()
            defer { receiver.close() }
            let server = try start(
                queues: [HeraldConfig.Queue(name: "steps.fifo")],
                consumers: [HeraldConfig.Consumer(queue: "steps.fifo", endpoint: receiver.url(), batchSize: 10, maxBatchingWindow: .seconds(1))])
            defer { server.stop() }
            let manager = try #require(server.queueManager)
            let requests = (1...6).map { n in
                QueueSendRequest(body: Array("step-\(n)".utf8), groupID: n % 2 == 0 ? "even" : "odd", deduplicationID: "d\(n)")
            }
            let sent = await withCheckedContinuation { continuation in
                manager.send("steps.fifo", requests) { continuation.resume(returning: $0.filter { (try? $0.get()) != nil }.count) }
            }
            #expect(sent == 6)
            #expect(await eventually(.seconds(5)) { isEmpty(server, "steps.fifo") })
            let got = receiver.requests.flatMap(records)
            #expect(got.compactMap { string($0["body"]) }.filter { ["step-1", "step-3", "step-5"].contains($0) } == ["step-1", "step-3", "step-5"])
            #expect(got.compactMap { string($0["body"]) }.filter { ["step-2", "step-4", "step-6"].contains($0) } == ["step-2", "step-4", "step-6"])
            for record in got {
                let body = try #require(string(record["body"]))
                let n = try #require(Int(body.dropFirst(5)))
                #expect(string(record["attributes"]?["MessageGroupId"]) == (n % 2 == 0 ? "even" : "odd"))
                #expect(string(record["attributes"]?["MessageDeduplicationId"]) == "d\(n)")
            }
        }

        @Test func stoppingReleasesACollectedBatchAtOnce() async throws {
            let receiver = try TestHTTPReceiver()
            defer { receiver.close() }
            let server = try start(
                queues: [HeraldConfig.Queue(name: "slow", visibilityTimeoutSeconds: 60)],
                consumers: [HeraldConfig.Consumer(queue: "slow", endpoint: receiver.url(), batchSize: 100, maxBatchingWindow: .seconds(30))])
            try await send(server, "slow", ["x", "y", "z"])
            #expect(await eventually(.seconds(5)) { server.queueManager?.summary("slow")?.inFlight == 3 }, "collected into a batch")
            server.stop()
            #expect(await eventually(.seconds(3)) { server.queueManager?.summary("slow")?.visible == 3 }, "visible again, not after 60 s")
            #expect(receiver.requestCount == 0)
        }

        @Test func anEndpointHTTPURLRefusesStopsTheStart() async throws {
            var config = TestServer.baseConfig()
            config.queues = [HeraldConfig.Queue(name: "jobs")]
            config.consumers = [HeraldConfig.Consumer(queue: "jobs", endpoint: "http://a!b/")]
            let server = Server(config: config)
            #expect {
                try server.start()
            } throws: { error in
                (error as? ServerError)?.message.contains("consumer jobs: endpoint: host 'a!b'") == true
            }
            #expect(server.listenAddresses.isEmpty, "what start opened is closed")
        }

        @Test func aReloadStartsChangedAndNewConsumersAndStopsRemovedOnes() async throws {
            let first = try TestHTTPReceiver()
            let second = try TestHTTPReceiver()
            defer { first.close(); second.close() }
            var config = TestServer.baseConfig()
            config.queues = [HeraldConfig.Queue(name: "jobs"), HeraldConfig.Queue(name: "other")]
            config.consumers = [HeraldConfig.Consumer(queue: "jobs", endpoint: first.url())]
            let server = Server(config: config)
            try server.start()
            defer { server.stop() }
            try await send(server, "jobs", ["before"])
            #expect(await eventually(.seconds(10)) { first.requestCount >= 1 })
            config.consumers = [HeraldConfig.Consumer(queue: "other", endpoint: second.url())]
            let notes = try server.reload(config)
            #expect(notes.contains("consumer jobs: stopped") && notes.contains("consumer other: started with the new settings"))
            try await send(server, "jobs", ["after"])
            try await send(server, "other", ["elsewhere"])
            #expect(await eventually(.seconds(10)) { second.requestCount >= 1 })
            try await Task.sleep(for: .milliseconds(300))
            #expect(first.requestCount == 1, "the removed consumer takes nothing more")
            #expect(server.queueManager?.summary("jobs")?.visible == 1)
        }
    }
}
