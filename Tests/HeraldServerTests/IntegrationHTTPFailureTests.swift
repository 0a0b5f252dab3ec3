import FilterPolicy
import Foundation
import HeraldClient
import HeraldConfig
import HeraldCore
import HeraldHTTP
import HeraldTestSupport
import HeraldWire
import Testing
@testable import HeraldServer

/// SNS HTTP/S push when endpoints misbehave (spec §4–§5, issue 9 "Tests (real receivers)"): real
/// servers POST to real receivers that answer errors, hang, cut responses, speak garbage, are down,
/// present the wrong certificate name, or are many. Outcomes are read from what the receiver got,
/// from the subscription's counters (GetSubscriptionAttributes) and from the queues.
extension Integration {
    @Suite struct IntegrationHTTPFailureTests {
        typealias Step = TestHTTPReceiver.Step
        typealias Counters = HTTPPush.Counters

        /// Two retries, both at once: three attempts in all, within milliseconds.
        static let twoImmediateRetries =
            #"{"healthyRetryPolicy":{"numRetries":2,"numNoDelayRetries":2,"minDelayTarget":1,"maxDelayTarget":1}}"#

        /// `count` retries one second apart.
        static func retriesEverySecond(_ count: Int) -> String {
            #"{"healthyRetryPolicy":{"numRetries":\#(count),"minDelayTarget":1,"maxDelayTarget":1}}"#
        }

        /// A server with topic `orders`, queue `dlq`, and one HTTP/S subscription `hook` to
        /// `endpoint` with the given delivery policy and, if asked, `dlq` as its dead-letter queue.
        static func start(
            _ endpoint: String, policy: String?, deadLetterQueue: Bool = false, directory: String? = nil,
            _ more: (inout HeraldConfig) -> Void = { _ in }
        ) throws -> PushServer {
            let deliveryPolicy = try policy.map { try HTTPPush.deliveryPolicy($0) }
            return try PushServer(directory: directory) { config in
                config.topics = [HeraldConfig.Topic(name: "orders")]
                config.queues = [HeraldConfig.Queue(name: "dlq")]
                var subscription = HTTPPush.subscription("hook", endpoint: endpoint)
                subscription.deliveryPolicy = deliveryPolicy
                if deadLetterQueue { subscription.redrivePolicy = SubscriptionRedrivePolicy(deadLetterQueue: "dlq") }
                config.subscriptions = [subscription]
                more(&config)
            }
        }

        /// Polls subscription `hook`'s counters until `done` holds (or the timeout); the last read.
        static func counters(
            _ push: PushServer, _ client: HeraldClient, timeout: Duration = .seconds(10), until done: (Counters) -> Bool
        ) -> Counters? {
            var last: Counters?
            waitUntil(timeout, poll: .milliseconds(50)) {
                last = try? push.counters("hook", client: client)
                return last.map(done) ?? false
            }
            return last
        }

        /// Waits for the counters to read exactly `expected`; the last read.
        static func counters(_ push: PushServer, _ client: HeraldClient, reach expected: Counters, timeout: Duration = .seconds(10)) -> Counters? {
            counters(push, client, timeout: timeout) { $0 == expected }
        }

        /// Long enough for an attempt that should not happen to have happened.
        static func settle() { Thread.sleep(forTimeInterval: 0.5) }

        // MARK: - Status codes

        @Test func serverErrorThenSuccessIsDeliveredOnTheRetryWithTheSameMessageId() throws {
            let receiver = try TestHTTPReceiver(script: [Step(status: 500, body: "busy")])
            defer { receiver.close() }
            let push = try Self.start(receiver.url("/hook"), policy: Self.twoImmediateRetries)
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            let id = try client.publish(topic: "orders", body: Array("retry me".utf8))
            #expect(receiver.waitForRequests(2))
            let counters = Self.counters(push, client, reach: Counters(delivered: 1, retried: 1, failed: 0, deadLettered: 0))
            #expect(counters == Counters(delivered: 1, retried: 1, failed: 0, deadLettered: 0))
            Self.settle()
            #expect(HTTPPush.messageIDs(receiver) == [id.text, id.text])
            let bodies = try receiver.requests.map { HTTPPush.string(try HTTPPush.json($0)["MessageId"]) }
            #expect(bodies == [id.text, id.text])
            #expect(waitUntil { push.pendingDeliveries("hook") == 0 })
        }

        /// The queue's visibility timer is the retry timer: a retry waits the policy's delay (no
        /// jitter under 10 s), not more, not less.
        @Test func retryWaitsThePolicysDelay() throws {
            let receiver = try TestHTTPReceiver(script: [Step(status: 500, body: "busy")])
            defer { receiver.close() }
            let push = try Self.start(receiver.url("/later"), policy: Self.retriesEverySecond(1))
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            let id = try client.publish(topic: "orders", body: Array("in a second".utf8))
            #expect(receiver.waitForRequests(2, timeout: .seconds(5)))
            let arrivals = receiver.arrivals
            try #require(arrivals.count == 2)
            let gap = arrivals[1] - arrivals[0]
            #expect(gap >= .milliseconds(900) && gap < .seconds(3), "retry after \(gap)")
            #expect(HTTPPush.messageIDs(receiver) == [id.text, id.text])
            let expected = Counters(delivered: 1, retried: 1, failed: 0, deadLettered: 0)
            #expect(Self.counters(push, client, reach: expected) == expected)
        }

        @Test func tooManyRequestsIsRetried() throws {
            let receiver = try TestHTTPReceiver(script: [Step(status: 429, body: "slow down")])
            defer { receiver.close() }
            let push = try Self.start(receiver.url("/hook"), policy: Self.twoImmediateRetries)
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            let id = try client.publish(topic: "orders", body: Array("throttled".utf8))
            #expect(receiver.waitForRequests(2))
            #expect(Self.counters(push, client, reach: Counters(delivered: 1, retried: 1, failed: 0, deadLettered: 0)) != nil)
            Self.settle()
            #expect(HTTPPush.messageIDs(receiver) == [id.text, id.text])
        }

        /// 4xx other than 429 is the endpoint refusing the message: no retry, straight to the DLQ
        /// with the body the endpoint was sent.
        @Test(arguments: [404, 400])
        func clientErrorIsNotRetriedAndGoesToTheDeadLetterQueueAtOnce(status: Int) throws {
            let receiver = try TestHTTPReceiver(fallback: Step(status: status, body: "no"))
            defer { receiver.close() }
            let push = try Self.start(receiver.url("/hook"), policy: Self.twoImmediateRetries, deadLetterQueue: true)
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            let id = try client.publish(topic: "orders", attributes: ["kind": .string("created")], body: Array("refused".utf8))
            let expected = Counters(delivered: 0, retried: 0, failed: 1, deadLettered: 1)
            #expect(Self.counters(push, client, reach: expected) == expected)
            Self.settle()
            #expect(receiver.requestCount == 1)
            let sent = try #require(receiver.requests.first)

            let dead = try client.receive(queue: "dlq", max: 10, wait: 5)
            #expect(dead.count == 1)
            let message = try #require(dead.first)
            #expect(message.body == sent.body)
            let envelope = try JSONParser.parse(message.body, limits: .init(maxDepth: 16))
            #expect(HTTPPush.string(envelope["Type"]) == "Notification")
            #expect(HTTPPush.string(envelope["MessageId"]) == id.text)
            #expect(HTTPPush.string(envelope["Message"]) == "refused")
            #expect(envelope["MessageAttributes"]?["kind"]?["Value"] == .string("created"))
            #expect(push.pendingDeliveries("hook") == 0)
        }

        // MARK: - Retries exhausted

        @Test func exhaustedRetriesMakeExactlyThreeAttemptsThenTheDeadLetterQueue() throws {
            let receiver = try TestHTTPReceiver(fallback: Step(status: 500, body: "down"))
            defer { receiver.close() }
            let push = try Self.start(receiver.url("/hook"), policy: Self.twoImmediateRetries, deadLetterQueue: true)
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            let id = try client.publish(topic: "orders", body: Array("doomed".utf8))
            let expected = Counters(delivered: 0, retried: 2, failed: 1, deadLettered: 1)
            #expect(Self.counters(push, client, reach: expected) == expected)
            Self.settle()
            #expect(HTTPPush.messageIDs(receiver) == [id.text, id.text, id.text])
            let dead = try client.receive(queue: "dlq", max: 10, wait: 5)
            #expect(dead.count == 1)
            let envelope = try JSONParser.parse(try #require(dead.first).body, limits: .init(maxDepth: 16))
            #expect(HTTPPush.string(envelope["MessageId"]) == id.text)
            #expect(push.pendingDeliveries("hook") == 0)
        }

        @Test func exhaustedRetriesWithoutADeadLetterQueueDropTheMessage() throws {
            let receiver = try TestHTTPReceiver(fallback: Step(status: 503, body: "down"))
            defer { receiver.close() }
            let push = try Self.start(receiver.url("/hook"), policy: Self.twoImmediateRetries)
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            let id = try client.publish(topic: "orders", body: Array("doomed".utf8))
            let expected = Counters(delivered: 0, retried: 2, failed: 1, deadLettered: 0)
            #expect(Self.counters(push, client, reach: expected) == expected)
            #expect(waitUntil { push.pendingDeliveries("hook") == 0 })
            Self.settle()
            #expect(HTTPPush.messageIDs(receiver) == [id.text, id.text, id.text])
            #expect(push.messagesIn("dlq") == 0)
        }

        // MARK: - Transport failures

        @Test func receiverDownIsRetriedUntilItComesUp() throws {
            let port = try #require(freeLoopbackPort())
            let push = try Self.start("http://127.0.0.1:\(port)/late", policy: Self.retriesEverySecond(10))
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            let id = try client.publish(topic: "orders", body: Array("wait for me".utf8))
            // Refused at least once before anything listens.
            let refused = Self.counters(push, client) { ($0.retried ?? 0) >= 1 }
            #expect((refused?.retried ?? 0) >= 1)
            #expect(refused?.delivered == 0)

            let receiver = try TestHTTPReceiver { $0.port = port }
            defer { receiver.close() }
            #expect(receiver.waitForRequests(1, timeout: .seconds(5)))
            #expect(receiver.requests.first?.target == "/late")
            #expect(HTTPPush.messageIDs(receiver).first == id.text)
            let delivered = Self.counters(push, client) { $0.delivered == 1 }
            #expect(delivered?.delivered == 1)
            #expect(delivered?.failed == 0)
        }

        @Test func slowReceiverPastTheTimeoutIsRetried() throws {
            let receiver = try TestHTTPReceiver(script: [Step(status: 200, body: "too late", delay: .seconds(3))])
            defer { receiver.close() }
            let push = try Self.start(receiver.url("/slow"), policy: Self.twoImmediateRetries) { config in
                config.httpDelivery.timeout = .seconds(1)
            }
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            let started = ContinuousClock.now
            let id = try client.publish(topic: "orders", body: Array("hurry".utf8))
            #expect(receiver.waitForRequests(2, timeout: .seconds(5)))
            // The retry follows the 1 s timeout, not the 3 s answer.
            #expect(ContinuousClock.now - started < .seconds(3))
            let expected = Counters(delivered: 1, retried: 1, failed: 0, deadLettered: 0)
            #expect(Self.counters(push, client, reach: expected) == expected)
            #expect(HTTPPush.messageIDs(receiver) == [id.text, id.text])
        }

        @Test func responseCutOffMidwayIsRetried() throws {
            // A 200 that dies after 20 bytes is not a delivery.
            let cut = Step(status: 200, headers: ["Content-Type": "text/plain"], body: Array(repeating: UInt8(ascii: "k"), count: 200), closeAfterBytes: 20)
            let receiver = try TestHTTPReceiver(script: [cut])
            defer { receiver.close() }
            let push = try Self.start(receiver.url("/cut"), policy: Self.twoImmediateRetries)
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            let id = try client.publish(topic: "orders", body: Array("again".utf8))
            #expect(receiver.waitForRequests(2))
            let expected = Counters(delivered: 1, retried: 1, failed: 0, deadLettered: 0)
            #expect(Self.counters(push, client, reach: expected) == expected)
            #expect(HTTPPush.messageIDs(receiver) == [id.text, id.text])
        }

        @Test func malformedResponseIsRetried() throws {
            let garbage = try RawResponseServer(answer: Array("SSH-2.0-OpenSSH_9.6\r\n\u{1}\u{2}\u{3} not http\r\n\r\n".utf8))
            defer { garbage.close() }
            let push = try Self.start("http://127.0.0.1:\(garbage.port)/garbage", policy: Self.twoImmediateRetries)
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            _ = try client.publish(topic: "orders", body: Array("to nowhere".utf8))
            let expected = Counters(delivered: 0, retried: 2, failed: 1, deadLettered: 0)
            #expect(Self.counters(push, client, reach: expected) == expected)
            Self.settle()
            #expect(garbage.requestCount == 3)
            #expect(push.pendingDeliveries("hook") == 0)
        }

        @Test func responseOverTheClientsLimitsIsAFailedAttempt() throws {
            let huge = Step(status: 200, headers: ["Content-Type": "text/plain"], body: Array(repeating: UInt8(ascii: "x"), count: HTTPLimits.default.maxBodyBytes + 1))
            let receiver = try TestHTTPReceiver(script: [huge])
            defer { receiver.close() }
            let push = try Self.start(receiver.url("/huge"), policy: Self.twoImmediateRetries)
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            let id = try client.publish(topic: "orders", body: Array("small".utf8))
            #expect(receiver.waitForRequests(2))
            let expected = Counters(delivered: 1, retried: 1, failed: 0, deadLettered: 0)
            #expect(Self.counters(push, client, reach: expected) == expected)
            #expect(HTTPPush.messageIDs(receiver) == [id.text, id.text])
        }

        // MARK: - HTTPS

        @Test func httpsEndpointTrustedThroughTheConfiguredCA() throws {
            let receiver = try TestHTTPReceiver(tls: true)
            defer { receiver.close() }
            let endpoint = receiver.url("/secure")
            #expect(endpoint.hasPrefix("https://"))
            let push = try Self.start(endpoint, policy: Self.twoImmediateRetries)
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            let id = try client.publish(topic: "orders", body: Array("sealed".utf8))
            #expect(receiver.waitForRequests(1))
            let expected = Counters(delivered: 1, retried: 0, failed: 0, deadLettered: 0)
            #expect(Self.counters(push, client, reach: expected) == expected)
            let request = try #require(receiver.requests.first)
            #expect(request.target == "/secure")
            #expect(HTTPPush.string(try HTTPPush.json(request)["MessageId"]) == id.text)
        }

        /// The dev certificate names localhost, 127.0.0.1 and ::1; reached as 127.0.0.2 it must be
        /// refused, however well signed.
        @Test func httpsEndpointWhoseCertificateNamesAnotherHostIsNeverDelivered() throws {
            let receiver = try TestHTTPReceiver(tls: true) { $0.host = "0.0.0.0" }
            defer { receiver.close() }
            let push = try Self.start("https://127.0.0.2:\(receiver.port)/wrong-name", policy: Self.twoImmediateRetries, deadLetterQueue: true)
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            let id = try client.publish(topic: "orders", body: Array("not for impostors".utf8))
            let expected = Counters(delivered: 0, retried: 2, failed: 1, deadLettered: 1)
            #expect(Self.counters(push, client, reach: expected) == expected)
            // The connections were made (not refused) and failed in the handshake: no request came through.
            #expect(receiver.acceptedConnections >= 1)
            #expect(receiver.requestCount == 0)
            let dead = try client.receive(queue: "dlq", max: 10, wait: 5)
            #expect(dead.count == 1)
            let envelope = try JSONParser.parse(try #require(dead.first).body, limits: .init(maxDepth: 16))
            #expect(HTTPPush.string(envelope["MessageId"]) == id.text)
        }

        // MARK: - Restart

        @Test func restartWhileRetriesArePendingLosesNothing() throws {
            let receiver = try TestHTTPReceiver(fallback: Step(status: 500, body: "not yet"))
            defer { receiver.close() }
            let directory = makeTemporaryDirectory("herald-http-restart")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let policy = #"{"healthyRetryPolicy":{"numRetries":5,"minDelayTarget":2,"maxDelayTarget":2}}"#
            let first = try Self.start(receiver.url("/restart"), policy: policy, directory: directory)
            let id: MessageID
            do {
                let client = try first.client()
                defer { client.close() }
                id = try client.publish(topic: "orders", body: Array("survive".utf8))
                #expect(receiver.waitForRequests(1))
                let failedOnce = Self.counters(first, client) { ($0.retried ?? 0) >= 1 }
                #expect(failedOnce?.retried == 1)
                #expect(failedOnce?.delivered == 0)
            }
            first.shutDown(removing: false)
            let attemptsBefore = receiver.requestCount
            receiver.setFallback(Step(status: 200, body: "ok"))

            let second = try Self.start(receiver.url("/restart"), policy: policy, directory: directory)
            defer { second.shutDown() }
            let client = try second.client()
            defer { client.close() }
            #expect(receiver.waitForRequests(attemptsBefore + 1))
            let delivered = Self.counters(second, client) { $0.delivered == 1 }
            #expect(delivered?.delivered == 1)
            #expect(Set(HTTPPush.messageIDs(receiver)) == [id.text])
            #expect(waitUntil { second.pendingDeliveries("hook") == 0 })
        }

        // MARK: - Scale and pacing

        @Test func oneThousandEndpointsOnOneTopicEachGetThePublish() throws {
            let receiver = try TestHTTPReceiver()
            defer { receiver.close() }
            let count = 1_000
            let push = try PushServer { config in
                config.topics = [HeraldConfig.Topic(name: "orders")]
                config.subscriptions = (0..<count).map { HTTPPush.subscription("fan-\($0)", endpoint: receiver.url("/fan/\($0)")) }
            }
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            let id = try client.publish(topic: "orders", body: Array("to all".utf8))
            #expect(receiver.waitForRequests(count, timeout: .seconds(20)))
            Self.settle()
            let requests = receiver.requests
            #expect(requests.count == count)
            #expect(Set(requests.map(\.target)) == Set((0..<count).map { "/fan/\($0)" }))
            #expect(Set(requests.compactMap { $0.headers["x-amz-sns-message-id"] }) == [id.text])
            #expect(Set(requests.compactMap { $0.headers["x-amz-sns-subscription-arn"] }).count == count)
        }

        @Test func throttlePolicySpreadsDeliveries() throws {
            let receiver = try TestHTTPReceiver()
            defer { receiver.close() }
            let push = try Self.start(receiver.url("/paced"), policy: #"{"throttlePolicy":{"maxReceivesPerSecond":2}}"#)
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            // A quiet spell first: the bucket is full, and the burst must still be the bucket's 2.
            Thread.sleep(forTimeInterval: 1.2)
            for index in 0..<6 { _ = try client.publish(topic: "orders", body: Array("paced \(index)".utf8)) }
            #expect(receiver.waitForRequests(6, timeout: .seconds(10)))
            let arrivals = receiver.arrivals
            let spread = try #require(arrivals.last) - (try #require(arrivals.first))
            // 2 per second with a burst of 2: the last four wait 0.5 s each (2 s in all).
            #expect(spread >= .milliseconds(1_800), "6 deliveries at 2/s arrived within \(spread)")
            #expect(spread < .seconds(6))
        }

        @Test func filterPolicyKeepsNonMatchingMessagesFromTheEndpoint() throws {
            let receiver = try TestHTTPReceiver()
            defer { receiver.close() }
            let policy = try FilterPolicy.parse(#"{"kind":["keep"]}"#)
            let push = try Self.start(receiver.url("/filtered"), policy: nil) { config in
                config.subscriptions[0].filterPolicy = policy
                config.subscriptions[0].filterPolicyText = #"{"kind":["keep"]}"#
            }
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            _ = try client.publish(topic: "orders", attributes: ["kind": .string("drop")], body: Array("no 1".utf8))
            _ = try client.publish(topic: "orders", body: Array("no attributes".utf8))
            let kept = try client.publish(topic: "orders", attributes: ["kind": .string("keep")], body: Array("yes".utf8))
            _ = try client.publish(topic: "orders", attributes: ["kind": .string("KEEP")], body: Array("no 2".utf8))
            let last = try client.publish(topic: "orders", attributes: ["kind": .string("keep")], body: Array("yes again".utf8))
            #expect(receiver.waitForRequests(2))
            Self.settle()
            // One pump may have both out at once: compare without order.
            #expect(HTTPPush.messageIDs(receiver).sorted() == [kept.text, last.text].sorted())
            let messages = try receiver.requests.compactMap { HTTPPush.string(try HTTPPush.json($0)["Message"]) }
            #expect(messages.sorted() == ["yes", "yes again"])
            #expect(push.pendingDeliveries("hook") == 0)
        }
    }
}
