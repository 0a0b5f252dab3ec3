import Foundation
import HeraldClient
import HeraldConfig
import HeraldCore
import HeraldTestSupport
import Synchronization
import Testing
@testable import HeraldServer

/// Queues over the stream protocol on loopback TLS, with a real data directory.
extension Integration {
    @Suite struct IntegrationQueueTests {
        func config(_ dataDir: String, _ configure: (inout HeraldConfig) -> Void = { _ in }) -> HeraldConfig {
            var config = TestServer.baseConfig()
            config.dataDir = dataDir
            configure(&config)
            return config
        }

        func start(_ config: HeraldConfig) throws -> (Server, HeraldClient) {
            let server = Server(config: config)
            try server.start()
            let port = try #require(server.listenAddresses.first).port
            let client = try HeraldClient.connect(ClientOptions(host: "127.0.0.1", port: port, caFile: TestPaths.ca, connectTimeout: .seconds(10)))
            return (server, client)
        }

        func stop(_ server: Server, _ client: HeraldClient) {
            client.close()
            server.stop()
            server.closeStore()
        }

        @Test func badRequestsGetSQSErrorsAndTheConnectionStays() throws {
            let directory = makeTemporaryDirectory("herald-q")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let (server, client) = try start(config(directory + "/data"))
            defer { stop(server, client) }
            _ = try client.createQueue(name: "jobs")
            func failure(_ action: String, _ json: String) -> ClientError? {
                if case .failure(let error) = client.queueRequest(action: action, json: Array(json.utf8)) { return error }
                return nil
            }
            #expect(failure("ReceiveMessage", #"{"QueueName":"jobs","MaxNumberOfMessages":11}"#)?.message
                == "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.")
            #expect(failure("ReceiveMessage", #"{"QueueName":"jobs","WaitTimeSeconds":21}"#)?.message
                == "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.")
            #expect(failure("ReceiveMessage", #"{"QueueName":"nope"}"#)?.code == "QueueDoesNotExist")
            #expect(failure("SendMessage", #"{"QueueName":"jobs"}"#)?.message == "The request must contain the parameter MessageBody.")
            #expect(failure("SendMessage", "{not json")?.code == "InvalidParameterValue")
            #expect(failure("Frobnicate", "{}")?.code == "InvalidAction")
            let eleven = (0..<11).map { #"{"Id":"e\#($0)","MessageBody":"x"}"# }.joined(separator: ",")
            #expect(failure("SendMessageBatch", #"{"QueueName":"jobs","Entries":[\#(eleven)]}"#)?.message
                == "Maximum number of entries per request are 10. You have sent 11.")
            #expect(failure("SendMessageBatch", #"{"QueueName":"jobs","Entries":[{"Id":"a","MessageBody":"x"},{"Id":"a","MessageBody":"y"}]}"#)?.code
                == "BatchEntryIdsNotDistinct")
            #expect(failure("ReceiveMessage", #"{"QueueName":"subscription/x"}"#)?.code == "QueueDoesNotExist", "the server's own queues are not reachable")
            #expect(failure("StartMessageMoveTask", #"{"SourceArn":"arn:aws:sqs:us-east-1:000000000000:subscription/x"}"#)?.code == "QueueDoesNotExist",
                    "not through an ARN either")
            #expect(failure("DeleteMessage", #"{"QueueName":"jobs","ReceiptHandle":"garbage"}"#)?.code == "ReceiptHandleIsInvalid")
            // Still serving after all of that.
            _ = try client.send(queue: "jobs", body: "ok")
            #expect(try client.receive(queue: "jobs", max: 10, wait: 1).map(\.bodyText) == ["ok"])
        }

        @Test func aNamedSubscriptionKeepsMessagesWhileNoClientIsAttachedAndAcrossARestart() throws {
            let directory = makeTemporaryDirectory("herald-q")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let settings = config(directory + "/data") { config in
                config.topics = [HeraldConfig.Topic(name: "orders")]
                config.subscriptions = [HeraldConfig.Subscription(name: "audit-log", topic: "orders", protocol: .stream)]
            }
            var (server, client) = try start(settings)
            for n in 1...3 { _ = try client.publish(topic: "orders", body: Array("early-\(n)".utf8)) }

            let got = Collector<String>()
            let sid = try client.subscribe(topic: "orders", ackMode: .afterHandler, subscriptionName: "audit-log") { got.append(String(decoding: $0.body, as: UTF8.self)) }
            #expect(got.waitForCount(3, timeout: .seconds(10)))
            #expect(got.all == ["early-1", "early-2", "early-3"], "the backlog, in order, to the client that attaches")
            _ = try client.publish(topic: "orders", body: Array("live".utf8))
            #expect(got.waitForCount(4, timeout: .seconds(10)))
            try client.unsubscribe(sid: sid)
            _ = try client.publish(topic: "orders", body: Array("while-away".utf8))
            stop(server, client)

            (server, client) = try start(settings)
            defer { stop(server, client) }
            let kept = try #require(server.queueManager?.summary("subscription/audit-log"))
            #expect(kept.visible == 1, "the journal kept it: \(kept)")
            let later = Collector<String>()
            _ = try client.subscribe(topic: "orders", ackMode: .afterHandler, subscriptionName: "audit-log") { later.append(String(decoding: $0.body, as: UTF8.self)) }
            #expect(later.waitForCount(1, timeout: .seconds(10)))
            usleep(300_000)
            #expect(later.all == ["while-away"], "acked messages are gone; the one published while away survived the restart")
        }

        @Test func runTimeSubscriptionsAndMessagesSurviveARestart() throws {
            let directory = makeTemporaryDirectory("herald-q")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let settings = config(directory + "/data")
            var (server, client) = try start(settings)
            _ = try client.createQueue(name: "blue-things")
            let arn = try client.subscribe(topic: "things", queue: "blue-things", filterPolicy: #"{"color":["blue"]}"#, raw: true)
            #expect(arn.hasPrefix("arn:aws:sns:"))
            _ = try client.publish(topic: "things", attributes: ["color": .string("blue")], body: Array("b1".utf8))
            _ = try client.publish(topic: "things", attributes: ["color": .string("red")], body: Array("r1".utf8))
            stop(server, client)

            (server, client) = try start(settings)
            defer { stop(server, client) }
            _ = try client.publish(topic: "things", attributes: ["color": .string("blue")], body: Array("b2".utf8))
            let got = try client.receive(queue: "blue-things", max: 10, wait: 1)
            #expect(got.map(\.bodyText).sorted() == ["b1", "b2"], "the queue, its message and the subscription came back")
            #expect(try client.listSubscriptions(topic: "things").count == 1)
        }

        @Test func anEnvelopedMessageCarriesSNSsFields() throws {
            let directory = makeTemporaryDirectory("herald-q")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let (server, client) = try start(config(directory + "/data"))
            defer { stop(server, client) }
            _ = try client.createQueue(name: "env")
            _ = try client.subscribe(topic: "news", queue: "env")
            let id = try client.publish(topic: "news", attributes: ["n": .number("7")], body: Array("hello \"world\"".utf8))
            let got = try #require(try client.receive(queue: "env", max: 1, wait: 2).first)
            let json = try JSONParser.parse(got.body, limits: .init(maxDepth: 8))
            #expect(json["Type"] == .string("Notification"))
            #expect(json["MessageId"] == .string(id.text))
            #expect(json["Message"] == .string("hello \"world\""))
            #expect(json["TopicArn"] == .string("arn:aws:sns:us-east-1:000000000000:news"))
            #expect(json["SignatureVersion"] == .string("1"))
            if case .string(let signature)? = json["Signature"] { #expect(Base64.decode(signature)?.count == 256, "RSA-2048") } else { Issue.record("no Signature") }
            #expect(json["MessageAttributes"]?["n"]?["Value"] == .string("7"))
        }
    }
}

extension Integration {
    /// A full disk under a running server: publishes into queues and sends are refused with
    /// `StorageUnavailable`, never confirmed; receives and plain stream traffic go on; once there
    /// is space again publishing works; after a restart nothing refused shows up.
    @Suite struct IntegrationDiskFullTests {
        @Test func aFullDiskRefusesDurableWritesAndTheServerStaysUp() throws {
            let directory = makeTemporaryDirectory("herald-full")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            var config = TestServer.baseConfig()
            config.dataDir = directory + "/data"
            let disk = FailingDisk()
            var server = Server(config: config, journalFiles: disk)
            try server.start()
            var port = try #require(server.listenAddresses.first).port
            var client = try HeraldClient.connect(ClientOptions(host: "127.0.0.1", port: port, caFile: TestPaths.ca))
            _ = try client.createQueue(name: "jobs")
            _ = try client.subscribe(topic: "work", queue: "jobs", raw: true)
            _ = try client.publish(topic: "work", body: Array("before".utf8))

            disk.full = true
            do {
                _ = try client.publish(topic: "work", body: Array("refused".utf8))
                Issue.record("a publish the journal could not keep was confirmed")
            } catch {
                #expect(error.code == "StorageUnavailable", "\(error)")
            }
            #expect(throws: ClientError.self) { _ = try client.send(queue: "jobs", body: "refused-send") }
            let stream = Collector<String>()
            _ = try client.subscribe(topic: "chat", ackMode: .auto) { stream.append(String(decoding: $0.body, as: UTF8.self)) }
            _ = try client.publish(topic: "chat", body: Array("still here".utf8))
            #expect(stream.waitForCount(1), "non-durable traffic goes on")
            let got = try client.receive(queue: "jobs", max: 10, wait: 1)
            #expect(got.map(\.bodyText) == ["before"], "receives keep working, and nothing refused is in the queue")
            #expect(disk.refusedWrites.load(ordering: .relaxed) > 0)

            disk.full = false
            _ = try client.publish(topic: "work", body: Array("after".utf8))
            #expect(try client.receive(queue: "jobs", max: 10, wait: 2).map(\.bodyText) == ["after"])
            client.close()
            server.stop()
            server.closeStore()

            server = Server(config: config)
            try server.start()
            defer { server.stop(); server.closeStore() }
            port = try #require(server.listenAddresses.first).port
            client = try HeraldClient.connect(ClientOptions(host: "127.0.0.1", port: port, caFile: TestPaths.ca))
            defer { client.close() }
            // "before" and "after" were received (in flight, 30 s); nothing refused may appear.
            let attributes = try client.queueAttributes(name: "jobs")
            let total = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
                .compactMap { attributes[$0].flatMap(Int.init) }.reduce(0, +)
            #expect(total == 2, "exactly the two confirmed messages came back: \(attributes)")
        }
    }
}

extension Integration {
    @Suite struct DurableSubscriptionAckTests {
        /// An ACK naming every possible tag (a valid range) on a durable subscription is answered
        /// like any ACK: tags not outstanding are ignored, the server stays up.
        @Test func anAckOfTheWholeTagRangeIsHarmless() throws {
            let server = try TestServer { config in
                config.topics = [HeraldConfig.Topic(name: "orders")]
                config.subscriptions = [HeraldConfig.Subscription(name: "audit", topic: "orders", protocol: .stream)]
            }
            defer { server.stop() }
            let raw = try server.raw()
            try raw.send("CONNECT {\"proto\":1}\r\nSUB 1 orders MessageAttributes ack 10 0 subscription=audit\r\n\r\n")
            _ = try raw.next { if case .subscribed = $0 { return true } else { return false } }
            try raw.send("ACK 1 0-18446744073709551615\r\nPING\r\n")
            #expect(try raw.next { if case .pong = $0 { return true } else { return false } } != nil, "answered, not crashed")
            try server.assertServing()
        }
    }
}

extension Integration {
    @Suite struct QueueLongPollDisconnectTests {
        /// A client that long-polls and goes away takes nothing: a message sent after it left goes
        /// to the next receiver, first time (receive count 1), not hidden for a visibility timeout.
        @Test func aLongPollOfAClientThatLeftTakesNothing() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.client()
            defer { client.close() }
            _ = try client.createQueue(name: "jobs")
            let raw = try server.raw()
            let body = #"{"QueueName":"jobs","WaitTimeSeconds":20}"#
            try raw.send("CONNECT {\"proto\":1}\r\nQREQ 7 ReceiveMessage \(body.utf8.count)\r\n\(body)\r\n")
            _ = try raw.next { if case .connected = $0 { return true } else { return false } }
            raw.close()
            usleep(300_000)
            _ = try client.send(queue: "jobs", body: "for whoever is there")
            let got = try client.receive(queue: "jobs", max: 1, wait: 5)
            #expect(got.map(\.bodyText) == ["for whoever is there"])
            #expect(got.first?.receiveCount == 1, "nobody received it before")
        }
    }
}
