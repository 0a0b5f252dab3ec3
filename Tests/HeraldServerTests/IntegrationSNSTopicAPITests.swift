import Foundation
import HeraldConfig
import HeraldCore
import HeraldHTTP
import HeraldTestSupport
import HeraldWire
import Testing
@testable import HeraldServer

/// The SNS topic actions on the HTTP API listener, against a real server with a data directory
/// that is stopped and started again on the same directory: run-time topics and their attributes
/// survive, config topics keep the config's settings, a topic DeliveryPolicy reaches the HTTP/S
/// delivery path. Herald's own HTTP client speaks the query protocol; boto3 drives the rest.
extension Integration {
    @Suite struct IntegrationSNSTopicAPITests {
        /// A server with `http:` on an ephemeral loopback port, restartable on its data directory.
        final class RestartableServer: @unchecked Sendable {
            let directory: String
            let config: HeraldConfig
            private(set) var server: Server
            private(set) var port: Int
            let client: HTTPClient

            init(_ configure: (inout HeraldConfig) -> Void = { _ in }) throws {
                directory = makeTemporaryDirectory("herald-sns-topics")
                var config = TestServer.baseConfig()
                config.dataDir = directory + "/data"
                config.http = HeraldConfig.HTTPAPI(listen: ListenAddress(host: "127.0.0.1", port: 0))
                configure(&config)
                self.config = config
                server = Server(config: config)
                try server.start()
                port = try #require(server.httpAPIPort)
                client = try HTTPClient()
            }

            /// Stops the server, closes its store and starts a new one on the same directory.
            func restart() throws {
                server.stop()
                server.closeStore()
                server = Server(config: config)
                try server.start()
                port = try #require(server.httpAPIPort)
            }

            deinit {
                client.shutDown()
                server.stop()
                server.closeStore()
                try? FileManager.default.removeItem(atPath: directory)
            }

            /// An SNS query request (form-encoded POST, as botocore sends it); the XML answer.
            func sns(_ action: String, _ parameters: [(String, String)] = []) async throws -> (status: Int, xml: String) {
                let fields = [("Action", action), ("Version", "2010-03-31")] + parameters
                let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
                let headers: HTTPHeaders = [
                    "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261206/us-east-1/sns/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
                ]
                let request = HTTPRequest(method: "POST", target: "/", headers: headers, body: Array(body.utf8))
                let response = try await client.send(request, to: HTTPURL("http://127.0.0.1:\(port)/"), timeout: .seconds(30)).get()
                return (response.status, String(decoding: response.body, as: UTF8.self))
            }

            static func encode(_ text: String) -> String {
                text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
            }
        }

        /// `<entry><key>name</key><value>…</value></entry>`'s value (XML-escaped as sent).
        static func attribute(_ name: String, in xml: String) -> String? {
            guard let start = xml.range(of: "<key>\(name)</key><value>") else { return nil }
            guard let end = xml.range(of: "</value>", range: start.upperBound..<xml.endIndex) else { return nil }
            return String(xml[start.upperBound..<end.lowerBound])
        }

        static let arnPrefix = "arn:aws:sns:us-east-1:000000000000:"

        @Test func runTimeTopicsSurviveARestart() async throws {
            let api = try RestartableServer()
            let created = try await api.sns("CreateTopic", [
                ("Name", "events.fifo"), ("Attributes.entry.1.key", "FifoTopic"), ("Attributes.entry.1.value", "true"),
                ("Attributes.entry.2.key", "ContentBasedDeduplication"), ("Attributes.entry.2.value", "true"),
            ])
            #expect(created.status == 200, "\(created.xml)")
            #expect(created.xml.contains("<TopicArn>\(Self.arnPrefix)events.fifo</TopicArn>"))
            #expect(try await api.sns("CreateTopic", [("Name", "orders")]).status == 200)
            let set = try await api.sns("SetTopicAttributes", [
                ("TopicArn", Self.arnPrefix + "orders"), ("AttributeName", "DeliveryPolicy"),
                ("AttributeValue", #"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":5,"numRetries":7}}}"#),
            ])
            #expect(set.status == 200, "\(set.xml)")
            #expect(!set.xml.contains("SetTopicAttributesResult"), "SetTopicAttributes has no result element")
            // The runtime topic policy reaches the HTTP/S delivery path.
            #expect(api.server.queueStack?.endpoints.effectivePolicy(topic: "orders", subscription: nil).retry.numRetries == 7)
            #expect(try await api.sns("CreateTopic", [("Name", "short-lived")]).status == 200)
            #expect(try await api.sns("DeleteTopic", [("TopicArn", Self.arnPrefix + "short-lived")]).status == 200)

            try api.restart()

            let listed = try await api.sns("ListTopics")
            #expect(listed.xml.contains("\(Self.arnPrefix)events.fifo</TopicArn>") && listed.xml.contains("\(Self.arnPrefix)orders</TopicArn>"))
            #expect(!listed.xml.contains("short-lived"), "a deleted topic stays deleted")
            let fifo = try await api.sns("GetTopicAttributes", [("TopicArn", Self.arnPrefix + "events.fifo")])
            #expect(Self.attribute("FifoTopic", in: fifo.xml) == "true")
            #expect(Self.attribute("ContentBasedDeduplication", in: fifo.xml) == "true")
            #expect(api.server.broker.deduplicationPolicy(topic: "events.fifo")?.contentBasedDeduplication == true)
            let orders = try await api.sns("GetTopicAttributes", [("TopicArn", Self.arnPrefix + "orders")])
            #expect(Self.attribute("DeliveryPolicy", in: orders.xml)?.contains("numRetries") == true)
            #expect(api.server.queueStack?.endpoints.effectivePolicy(topic: "orders", subscription: nil).retry.numRetries == 7)
        }

        @Test func configTopicsKeepTheConfigurationsSettings() async throws {
            let api = try RestartableServer { config in config.topics.append(HeraldConfig.Topic(name: "configured")) }
            let refused = try await api.sns("SetTopicAttributes", [
                ("TopicArn", Self.arnPrefix + "configured"), ("AttributeName", "DisplayName"), ("AttributeValue", "x"),
            ])
            #expect(refused.status == 400)
            #expect(refused.xml.contains("declared in the configuration"), "\(refused.xml)")
            // CreateTopic answers for it when it asks for nothing the configuration does not say.
            #expect(try await api.sns("CreateTopic", [("Name", "configured")]).status == 200)
            let different = try await api.sns("CreateTopic", [("Name", "configured"), ("Attributes.entry.1.key", "DisplayName"), ("Attributes.entry.1.value", "x")])
            #expect(different.status == 400)
            #expect(different.xml.contains(TopicAttributes.differentAttributesText))
            let got = try await api.sns("GetTopicAttributes", [("TopicArn", Self.arnPrefix + "configured")])
            #expect(Self.attribute("DisplayName", in: got.xml) == "")
            #expect(Self.attribute("Policy", in: got.xml)?.contains("__default_policy_ID") == true)
        }

        @Test func errorsUseSNSTexts() async throws {
            let api = try RestartableServer()
            let missing = try await api.sns("GetTopicAttributes", [("TopicArn", Self.arnPrefix + "nowhere")])
            #expect(missing.status == 404)
            #expect(missing.xml.contains("<Code>NotFound</Code>") && missing.xml.contains("Topic does not exist"))
            let shortArn = try await api.sns("GetTopicAttributes", [("TopicArn", "arn:aws:sns:x")])
            #expect(shortArn.xml.contains("An ARN must have at least 6 elements, not 4"))
            let token = try await api.sns("ListTopics", [("NextToken", "%%%")])
            #expect(token.status == 400 && token.xml.contains("Invalid parameter: NextToken"))
            let structure = try await api.sns("Publish", [("TopicArn", Self.arnPrefix + "nowhere"), ("Message", "[1]"), ("MessageStructure", "json")])
            #expect(structure.xml.contains(ProtocolBodies.noDefaultEntry), "\(structure.xml)")
        }

        @Test(.enabled(if: IntegrationSQSAPITests.boto3Installed, "boto3 is not installed (python3 -c 'import boto3')"))
        func boto3DrivesTheTopicAPIAcrossARestart() throws {
            let api = try RestartableServer()
            let script = TestPaths.repository + "/Tests/Compatibility/sns_topics_boto3.py"
            var (status, text) = try ChildProcess.run(
                "/usr/bin/env", ["python3", script, "http://127.0.0.1:\(api.port)", "main"], environment: IntegrationSQSAPITests.awsEnvironment)
            #expect(status == 0, "sns_topics_boto3.py main failed:\n\(text)")
            #expect(text.contains("sns_topics_boto3: main passed"), "\(text)")
            try api.restart()
            (status, text) = try ChildProcess.run(
                "/usr/bin/env", ["python3", script, "http://127.0.0.1:\(api.port)", "after-restart"], environment: IntegrationSQSAPITests.awsEnvironment)
            #expect(status == 0, "sns_topics_boto3.py after-restart failed:\n\(text)")
            #expect(text.contains("sns_topics_boto3: after-restart passed"), "\(text)")
        }
    }
}
