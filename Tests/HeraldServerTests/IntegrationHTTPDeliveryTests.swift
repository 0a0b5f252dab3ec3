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

/// SNS HTTP/S subscriptions end to end: a real server (data directory on disk, HTTP API on an
/// ephemeral port) POSTs to a real `TestHTTPReceiver`; signatures are checked with the `openssl`
/// command line, not with Herald's code.
extension Integration {
    @Suite struct IntegrationHTTPDeliveryTests {
        @Test(arguments: [1, 2]) func notificationsArriveAsSNSSendsThem(signatureVersion: Int) throws {
            let receiver = try TestHTTPReceiver()
            defer { receiver.close() }
            let push = try PushServer { config in
                config.topics = [HeraldConfig.Topic(name: "orders")]
                config.subscriptions = [HTTPPush.subscription("billing", endpoint: receiver.url("/hooks/orders"))]
                config.signatureVersion = signatureVersion
            }
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            let id = try client.publish(topic: "orders", attributes: ["kind": .string("created")], body: Array("hello \"world\"".utf8))
            let counted = try client.subscriptionAttributes(arn: "arn:aws:sns:us-east-1:000000000000:orders:billing")
            #expect(counted["Matched"] == "1" && counted["FilteredOut"] == "0")
            #expect(receiver.waitForRequests(1))
            let request = try #require(receiver.requests.first)
            #expect(request.method == "POST")
            #expect(request.target == "/hooks/orders")
            let topicArn = "arn:aws:sns:us-east-1:000000000000:orders"
            #expect(request.headers["Content-Type"] == "text/plain; charset=UTF-8")
            #expect(request.headers["User-Agent"] == "Amazon Simple Notification Service Agent")
            #expect(request.headers["x-amz-sns-message-type"] == "Notification")
            #expect(request.headers["x-amz-sns-message-id"] == id.text)
            #expect(request.headers["x-amz-sns-topic-arn"] == topicArn)
            #expect(request.headers["x-amz-sns-subscription-arn"] == "\(topicArn):billing")
            #expect(request.headers["x-amz-sns-rawdelivery"] == nil)
            let envelope = try HTTPPush.json(request)
            #expect(HTTPPush.string(envelope["Type"]) == "Notification")
            #expect(HTTPPush.string(envelope["MessageId"]) == id.text)
            #expect(HTTPPush.string(envelope["Message"]) == "hello \"world\"")
            #expect(HTTPPush.string(envelope["SignatureVersion"]) == String(signatureVersion))
            #expect(HTTPPush.string(envelope["UnsubscribeURL"]) == "http://127.0.0.1:\(push.apiPort)/?Action=Unsubscribe&SubscriptionArn=\(topicArn):billing")
            #expect(envelope["MessageAttributes"]?["kind"]?["Value"] == .string("created"))
            // The field order SNS writes (spec §4.1).
            let text = String(decoding: request.body, as: UTF8.self)
            let order = ["\"Type\"", "\"MessageId\"", "\"TopicArn\"", "\"Message\"", "\"Timestamp\"", "\"SignatureVersion\"", "\"Signature\"",
                         "\"SigningCertURL\"", "\"UnsubscribeURL\"", "\"MessageAttributes\""]
            let positions = order.compactMap { text.range(of: $0)?.lowerBound }
            #expect(positions.count == order.count && positions == positions.sorted())
            try Self.verifyWithOpenSSL(envelope, notification: true, certificateURL: try #require(HTTPPush.string(envelope["SigningCertURL"])))
        }

        @Test func rawDeliveryAndContentTypeFromTheDeliveryPolicy() throws {
            let receiver = try TestHTTPReceiver()
            defer { receiver.close() }
            let push = try PushServer { config in
                var subscription = HTTPPush.subscription("raw", endpoint: receiver.url("/raw"), raw: true)
                subscription.deliveryPolicy = try? HTTPDeliveryPolicy.parse(Array(#"{"requestPolicy":{"headerContentType":"application/json"}}"#.utf8), rawMessageDelivery: true)
                config.subscriptions = [subscription]
                config.autoCreateTopics = true
            }
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            _ = try client.publish(topic: "orders", attributes: ["kind": .string("x")], body: Array(#"{"id":7}"#.utf8))
            #expect(receiver.waitForRequests(1))
            let request = try #require(receiver.requests.first)
            #expect(request.body == Array(#"{"id":7}"#.utf8))
            #expect(request.headers["x-amz-sns-rawdelivery"] == "true")
            #expect(request.headers["Content-Type"] == "application/json")
        }

        @Test func runTimeSubscriptionWaitsForItsConfirmation() throws {
            let receiver = try TestHTTPReceiver()
            defer { receiver.close() }
            let push = try PushServer { config in config.topics = [HeraldConfig.Topic(name: "orders")] }
            defer { push.shutDown() }
            let client = try push.client()
            defer { client.close() }
            let answer = try client.subscribe(topic: "orders", endpoint: receiver.url("/confirm-me"))
            #expect(answer == "pending confirmation")
            #expect(receiver.waitForRequests(1))
            let confirmation = try #require(receiver.requests.first)
            #expect(confirmation.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation")
            #expect(confirmation.headers["x-amz-sns-subscription-arn"] == nil)
            let document = try HTTPPush.json(confirmation)
            let topicArn = "arn:aws:sns:us-east-1:000000000000:orders"
            let token = try #require(HTTPPush.string(document["Token"]))
            let subscribeURL = try #require(HTTPPush.string(document["SubscribeURL"]))
            #expect(subscribeURL == "http://127.0.0.1:\(push.apiPort)/?Action=ConfirmSubscription&TopicArn=\(topicArn)&Token=\(token)")
            #expect(HTTPPush.string(document["Message"]) == "You have chosen to subscribe to the topic \(topicArn).\nTo confirm the subscription, visit the SubscribeURL included in this message.")
            try Self.verifyWithOpenSSL(document, notification: false, certificateURL: try #require(HTTPPush.string(document["SigningCertURL"])))

            // Pending: a publish now reaches nobody.
            _ = try client.publish(topic: "orders", body: Array("too early".utf8))
            Thread.sleep(forTimeInterval: 0.5)
            #expect(receiver.requestCount == 1)

            let http = try HTTPClient()
            defer { http.shutDown() }
            let wrong = try HTTPPush.get(http, "http://127.0.0.1:\(push.apiPort)/?Action=ConfirmSubscription&TopicArn=\(topicArn)&Token=00")
            #expect(wrong.status == 400)
            #expect(String(decoding: wrong.body, as: UTF8.self).contains("<Message>Invalid parameter: Token</Message>"))
            let confirmed = try HTTPPush.get(http, subscribeURL)
            #expect(confirmed.status == 200)
            let xml = String(decoding: confirmed.body, as: UTF8.self)
            #expect(xml.hasPrefix("<ConfirmSubscriptionResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><ConfirmSubscriptionResult><SubscriptionArn>\(topicArn):"))

            _ = try client.publish(topic: "orders", body: Array("now".utf8))
            #expect(receiver.waitForRequests(2))
            let delivered = try HTTPPush.json(try #require(receiver.requests.last))
            #expect(HTTPPush.string(delivered["Message"]) == "now")

            // Subscribe is idempotent: the confirmed subscription answers its ARN, with no new
            // confirmation, and a changed filter policy applies to the next message.
            let again = try client.subscribe(topic: "orders", endpoint: receiver.url("/confirm-me"), filterPolicy: #"{"kind":["wanted"]}"#)
            #expect(again.hasPrefix("\(topicArn):"))
            _ = try client.publish(topic: "orders", attributes: ["kind": .string("other")], body: Array("filtered".utf8))
            _ = try client.publish(topic: "orders", attributes: ["kind": .string("wanted")], body: Array("kept".utf8))
            #expect(receiver.waitForRequests(3))
            #expect(HTTPPush.string(try HTTPPush.json(try #require(receiver.requests.last))["Message"]) == "kept")

            // The UnsubscribeURL ends it and sends an UnsubscribeConfirmation.
            let unsubscribeURL = try #require(HTTPPush.string(delivered["UnsubscribeURL"]))
            let unsubscribed = try HTTPPush.get(http, unsubscribeURL)
            #expect(unsubscribed.status == 200)
            #expect(receiver.waitForRequests(4))
            #expect(receiver.requests.last?.headers["x-amz-sns-message-type"] == "UnsubscribeConfirmation")
            _ = try client.publish(topic: "orders", attributes: ["kind": .string("wanted")], body: Array("after".utf8))
            Thread.sleep(forTimeInterval: 0.5)
            #expect(receiver.requestCount == 4)
        }

        /// Rebuilds SNS's string to sign from the document and checks `Signature` with `openssl`
        /// against the certificate served at `SigningCertURL`.
        static func verifyWithOpenSSL(_ document: JSONValue, notification: Bool, certificateURL: String) throws {
            let keys = notification
                ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
                : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
            var text = ""
            for key in keys { if let value = HTTPPush.string(document[key]) { text += "\(key)\n\(value)\n" } }
            let signatureText = try #require(HTTPPush.string(document["Signature"]))
            let signature = try #require(Data(base64Encoded: signatureText))
            let http = try HTTPClient()
            defer { http.shutDown() }
            let certificate = try HTTPPush.get(http, certificateURL)
            #expect(certificate.status == 200)
            let directory = makeTemporaryDirectory("herald-sig")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try Data(certificate.body).write(to: URL(fileURLWithPath: directory + "/cert.pem"))
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/signed.txt"))
            try signature.write(to: URL(fileURLWithPath: directory + "/signature.bin"))
            let key = try ChildProcess.run("/usr/bin/openssl", ["x509", "-in", directory + "/cert.pem", "-pubkey", "-noout", "-out", directory + "/key.pem"])
            #expect(key.status == 0)
            let digest = HTTPPush.string(document["SignatureVersion"]) == "2" ? "-sha256" : "-sha1"
            let verified = try ChildProcess.run(
                "/usr/bin/openssl", ["dgst", digest, "-verify", directory + "/key.pem", "-signature", directory + "/signature.bin", directory + "/signed.txt"])
            #expect(verified.status == 0, "openssl: \(verified.output)")
            #expect(verified.output.contains("Verified OK"))
        }
    }
}

extension Integration.IntegrationHTTPDeliveryTests {
    /// The "why did my endpoint get nothing?" numbers: what the filter let through and kept out,
    /// and what the endpoint answered.
    @Test func countersSayWhatTheFilterAndTheEndpointDid() throws {
        let receiver = try TestHTTPReceiver()
        defer { receiver.close() }
        let push = try PushServer { config in
            var subscription = HTTPPush.subscription("gold", endpoint: receiver.url("/gold"))
            subscription.filterPolicy = try? FilterPolicy.parse(utf8: Array(#"{"tier":["gold"]}"#.utf8), scope: .messageAttributes, limits: .init())
            config.topics = [HeraldConfig.Topic(name: "orders")]
            config.subscriptions = [subscription]
        }
        defer { push.shutDown() }
        let client = try push.client()
        defer { client.close() }
        for tier in ["gold", "silver", "bronze", "gold"] {
            _ = try client.publish(topic: "orders", attributes: ["tier": .string(tier)], body: Array(tier.utf8))
        }
        #expect(receiver.waitForRequests(2))
        let arn = "arn:aws:sns:us-east-1:000000000000:orders:gold"
        #expect(waitUntil(.seconds(5)) { (try? client.subscriptionAttributes(arn: arn)["Delivered"]) == "2" })
        let attributes = try client.subscriptionAttributes(arn: arn)
        #expect(attributes["Matched"] == "2")
        #expect(attributes["FilteredOut"] == "2")
        #expect(attributes["Failed"] == "0" && attributes["Retried"] == "0" && attributes["DeadLettered"] == "0")
        #expect(receiver.requests.compactMap { try? HTTPPush.json($0)["Message"] } == [.string("gold"), .string("gold")])
    }
}

extension Integration.IntegrationHTTPDeliveryTests {
    /// `confirm: true` on a declared subscription: nothing is delivered until the endpoint visits
    /// the SubscribeURL; the confirmation is kept in the journal, so a restart keeps delivering.
    @Test func aDeclaredSubscriptionCanAskItsEndpointToConfirm() throws {
        let receiver = try TestHTTPReceiver()
        defer { receiver.close() }
        let directory = makeTemporaryDirectory("herald-http-confirm")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configure: (inout HeraldConfig) -> Void = { config in
            var subscription = HTTPPush.subscription("audited", endpoint: receiver.url("/audited"))
            subscription.confirm = true
            config.topics = [HeraldConfig.Topic(name: "orders")]
            config.subscriptions = [subscription]
        }
        var push = try PushServer(directory: directory, configure)
        #expect(receiver.waitForRequests(1))
        let confirmation = try #require(receiver.requests.first)
        #expect(confirmation.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation")
        var client = try push.client()
        _ = try client.publish(topic: "orders", body: Array("before".utf8))
        Thread.sleep(forTimeInterval: 0.5)
        #expect(receiver.requestCount == 1)

        let http = try HTTPClient()
        defer { http.shutDown() }
        let subscribeURL = try #require(HTTPPush.string(try HTTPPush.json(confirmation)["SubscribeURL"]))
        #expect(try HTTPPush.get(http, subscribeURL).status == 200)
        _ = try client.publish(topic: "orders", body: Array("after".utf8))
        #expect(receiver.waitForRequests(2))
        #expect(HTTPPush.string(try HTTPPush.json(try #require(receiver.requests.last))["Message"]) == "after")
        client.close()
        push.shutDown(removing: false)

        // Restarted: still confirmed (no second confirmation request), still delivering.
        push = try PushServer(directory: directory, configure)
        client = try push.client()
        _ = try client.publish(topic: "orders", body: Array("restarted".utf8))
        #expect(receiver.waitForRequests(3))
        Thread.sleep(forTimeInterval: 0.3)
        #expect(receiver.requestCount == 3)
        #expect(HTTPPush.string(try HTTPPush.json(try #require(receiver.requests.last))["Message"]) == "restarted")
        client.close()
        push.shutDown(removing: false)

        // The file now names another endpoint: that one must confirm before it gets anything.
        push = try PushServer(directory: directory) { config in
            configure(&config)
            config.subscriptions[0].endpoint = receiver.url("/moved")
        }
        defer { push.shutDown() }
        client = try push.client()
        defer { client.close() }
        #expect(receiver.waitForRequests(4))
        let moved = try #require(receiver.requests.last)
        #expect(moved.target == "/moved" && moved.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation")
        _ = try client.publish(topic: "orders", body: Array("unconfirmed".utf8))
        Thread.sleep(forTimeInterval: 0.5)
        #expect(receiver.requestCount == 4)
    }
}

extension Integration.IntegrationHTTPDeliveryTests {
    /// ListSubscriptions shows the config file's subscriptions next to run-time ones, read-only,
    /// credentials kept out of endpoints; one waiting for its endpoint is "PendingConfirmation".
    @Test func declaredSubscriptionsAreListed() throws {
        let receiver = try TestHTTPReceiver()
        defer { receiver.close() }
        let push = try PushServer { config in
            config.topics = [HeraldConfig.Topic(name: "orders")]
            config.queues = [HeraldConfig.Queue(name: "audit")]
            var hook = HTTPPush.subscription("hook", endpoint: "http://user:secret@127.0.0.1:\(receiver.port)/hook")
            hook.confirm = true
            config.subscriptions = [
                HeraldConfig.Subscription(name: "to-audit", topic: "orders", protocol: .sqs, queue: "audit"),
                hook,
                HeraldConfig.Subscription(name: "live", topic: "orders"),
            ]
        }
        defer { push.shutDown() }
        let client = try push.client()
        defer { client.close() }
        let listed = try client.listSubscriptions(topic: "orders")
        let topicArn = "arn:aws:sns:us-east-1:000000000000:orders"
        let rows = Set(listed.map { "\($0.subscriptionArn) \($0.protocolName) \($0.endpoint)" })
        #expect(rows == [
            "\(topicArn):to-audit sqs arn:aws:sqs:us-east-1:000000000000:audit",
            "PendingConfirmation http http://…@127.0.0.1:\(receiver.port)/hook",
            "\(topicArn):live stream live",
        ])
        #expect(listed.allSatisfy { $0.topicArn == topicArn })
    }
}
