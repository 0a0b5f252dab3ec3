import HeraldConfig
import HeraldCore
import HeraldHTTP
import HeraldTestSupport
import HeraldWire
import Testing
@testable import HeraldServer

/// The legacy SQS query protocol against a real server: `Tests/Compatibility/sqs_query.py` signs
/// form-encoded requests with botocore's SigV4Auth, sends them with urllib and reads the XML with
/// xml.etree, as an older SDK would; Herald's own HTTP client checks the routing of an unsigned
/// query request beside SNS's.
extension Integration {
    @Suite struct IntegrationSQSQueryTests {
        typealias APIServer = IntegrationSQSAPITests.APIServer

        static let botocoreInstalled = ChildProcess.succeeds(["python3", "-c", "import botocore.auth, botocore.awsrequest"])

        /// With a user that has access keys, so every signature over the form body is verified.
        @Test(.enabled(if: botocoreInstalled, "python3 with botocore is not installed (python3 -c 'import botocore'): the query-protocol client script cannot run"))
        func signedQueryClientDrivesTheQueues() throws {
            let keyID = "AKIAHERALDQUERY00001", secret = "herald/query/secret+key"
            let api = try APIServer { config in
                var user = HeraldConfig.User(name: "legacy", permissions: .all)
                user.accessKeys = [HeraldConfig.AccessKey(id: keyID, secret: secret)]
                config.auth = HeraldConfig.Auth(allowAnonymous: false, anonymousPermissions: .none, users: [user])
            }
            try Self.runScript(api, keyID, secret, "--verified")
        }

        /// The embedded defaults (any key on loopback): the same script passes.
        @Test(.enabled(if: botocoreInstalled, "python3 with botocore is not installed (python3 -c 'import botocore'): the query-protocol client script cannot run"))
        func queryClientOnTheEmbeddedDefaults() throws {
            try Self.runScript(try APIServer(), "test", "test")
        }

        /// Runs sqs_query.py against `api`, with the user's own AWS files out of the way.
        static func runScript(_ api: APIServer, _ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) throws {
            let script = TestPaths.repository + "/Tests/Compatibility/sqs_query.py"
            let (status, text) = try ChildProcess.run(
                "/usr/bin/env", ["python3", script, "http://127.0.0.1:\(api.port)"] + arguments,
                environment: ["AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"])
            #expect(status == 0, "sqs_query.py failed:\n\(text)", sourceLocation: sourceLocation)
            #expect(text.contains("sqs_query: all checks passed"), "\(text)", sourceLocation: sourceLocation)
        }

        /// `Version` picks the service: the same port answers SQS's XML for 2012-11-05 and SNS's
        /// for 2010-03-31; a queue-URL path with no Version is SQS.
        @Test func versionAndPathRouteTheRequest() async throws {
            let api = try APIServer()
            func post(_ path: String, _ form: String) async throws -> (Int, String) {
                let request = HTTPRequest(
                    method: "POST", target: path, headers: ["Content-Type": "application/x-www-form-urlencoded"], body: Array(form.utf8))
                let response = try await api.client.send(request, to: HTTPURL("http://127.0.0.1:\(api.port)\(path)"), timeout: .seconds(30)).get()
                return (response.status, String(decoding: response.body, as: UTF8.self))
            }
            let (created, createdXML) = try await post("/", "Action=CreateQueue&Version=2012-11-05&QueueName=routed")
            #expect(created == 200)
            #expect(createdXML.contains("<CreateQueueResponse xmlns=\"\(SQSQueryXML.namespace)\"><CreateQueueResult><QueueUrl>http://127.0.0.1:\(api.port)/000000000000/routed</QueueUrl>"))
            let (sent, sentXML) = try await post("/000000000000/routed", "Action=SendMessage&MessageBody=hello+there")
            #expect(sent == 200)
            #expect(sentXML.contains("<MD5OfMessageBody>\(SQSDigest.md5Hex(Array("hello there".utf8)))</MD5OfMessageBody>"))
            let (topics, topicsXML) = try await post("/", "Action=ListTopics&Version=2010-03-31")
            #expect(topics == 200)
            #expect(topicsXML.contains("http://sns.amazonaws.com/doc/2010-03-31/"))
            let (missing, missingXML) = try await post("/", "Action=GetQueueUrl&Version=2012-11-05&QueueName=nowhere")
            #expect(missing == 400)
            #expect(missingXML.contains("<Code>AWS.SimpleQueueService.NonExistentQueue</Code><Message>\(SQSQueryXML.nonExistentQueueText)</Message>"))
            // An SNS-only action under SQS's Version is SQS's InvalidAction, not an SNS call.
            let (wrong, wrongXML) = try await post("/", "Action=Subscribe&Version=2012-11-05&TopicArn=x")
            #expect(wrong == 400)
            #expect(wrongXML.contains("<Code>InvalidAction</Code>") && wrongXML.contains(SQSQueryXML.namespace))
        }
    }
}
