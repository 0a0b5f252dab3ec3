import Foundation
import HeraldConfig
import HeraldCore
import HeraldHTTP
import HeraldTestSupport
import HeraldWire
import Testing
@testable import HeraldServer

/// The SQS JSON protocol on the HTTP API listener, against a real server on 127.0.0.1:<ephemeral>
/// with a data directory (so the signing certificate is on disk): Herald's own HTTP client
/// sends what botocore sends, and a boto3 script drives it when boto3 is installed.
extension Integration {
    @Suite struct IntegrationSQSAPITests {
        /// A started server with `http:` on an ephemeral loopback port.
        final class APIServer: Sendable {
            let server: Server
            let port: Int
            let directory: String
            let client: HTTPClient

            init(_ configure: (inout HeraldConfig) -> Void = { _ in }) throws {
                directory = makeTemporaryDirectory("herald-sqs-api")
                var config = TestServer.baseConfig()
                config.dataDir = directory + "/data"
                config.http = HeraldConfig.HTTPAPI(listen: ListenAddress(host: "127.0.0.1", port: 0))
                configure(&config)
                server = Server(config: config)
                try server.start()
                port = try #require(server.httpAPIPort)
                client = try HTTPClient()
            }

            deinit {
                client.shutDown()
                server.stop()
                server.closeStore()
                try? FileManager.default.removeItem(atPath: directory)
            }

            /// POSTs `json` as botocore does (SigV4-shaped Authorization, JSON 1.0 content type).
            func call(_ action: String, _ json: String, target: String? = nil, authorization: String? = APIServer.sigV4) async throws -> HTTPResponse {
                var headers: HTTPHeaders = [
                    "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target ?? "AmazonSQS.\(action)", "x-amzn-query-mode": "true",
                ]
                if let authorization { headers.append("Authorization", authorization) }
                let request = HTTPRequest(method: "POST", target: "/", headers: headers, body: Array(json.utf8))
                return try await client.send(request, to: HTTPURL("http://127.0.0.1:\(port)/"), timeout: .seconds(30)).get()
            }

            func get(_ path: String) async throws -> HTTPResponse {
                try await client.send(HTTPRequest(method: "GET", target: path), to: HTTPURL("http://127.0.0.1:\(port)\(path)"), timeout: .seconds(30)).get()
            }

            static let sigV4 = "AWS4-HMAC-SHA256 Credential=test/20261206/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
        }

        static func json(_ response: HTTPResponse) throws -> JSONValue {
            try JSONParser.parse(response.body, limits: .init(maxDepth: 16))
        }

        static func string(_ value: JSONValue?) -> String? {
            if case .string(let text)? = value { return text }
            return nil
        }

        /// Asserts an AWS JSON error: status, `__type`, `x-amzn-query-error`, and a non-empty message.
        static func expectError(
            _ response: HTTPResponse, status: Int, type: String, queryError: String, sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            #expect(response.status == status, sourceLocation: sourceLocation)
            #expect(response.headers["Content-Type"] == "application/x-amz-json-1.0", sourceLocation: sourceLocation)
            #expect(response.headers["x-amzn-query-error"] == queryError, sourceLocation: sourceLocation)
            let body = try json(response)
            #expect(string(body["__type"]) == "com.amazonaws.sqs#\(type)", sourceLocation: sourceLocation)
            #expect(string(body["message"])?.isEmpty == false, sourceLocation: sourceLocation)
        }

        @Test func createSendReceiveDelete() async throws {
            let api = try APIServer()
            let created = try await api.call("CreateQueue", #"{"QueueName":"jobs"}"#)
            #expect(created.status == 200)
            #expect(created.headers["Content-Type"] == "application/x-amz-json-1.0")
            #expect(created.headers["x-amzn-RequestId"]?.count == 36)
            let url = try #require(Self.string(try Self.json(created)["QueueUrl"]))
            #expect(url.hasSuffix("/000000000000/jobs"))

            let sent = try await api.call("SendMessage", #"{"QueueUrl":"\#(url)","MessageBody":"hello"}"#)
            #expect(sent.status == 200)
            let sentJSON = try Self.json(sent)
            #expect(Self.string(sentJSON["MD5OfMessageBody"]) == SQSDigest.md5Hex(Array("hello".utf8)))
            let messageID = try #require(Self.string(sentJSON["MessageId"]))

            let received = try await api.call("ReceiveMessage", #"{"QueueUrl":"\#(url)","MaxNumberOfMessages":10,"WaitTimeSeconds":1}"#)
            #expect(received.status == 200)
            guard case .array(let messages)? = try Self.json(received)["Messages"], let message = messages.first else {
                Issue.record("no message received: \(String(decoding: received.body, as: UTF8.self))")
                return
            }
            #expect(messages.count == 1)
            #expect(Self.string(message["Body"]) == "hello")
            #expect(Self.string(message["MessageId"]) == messageID)
            let handle = try #require(Self.string(message["ReceiptHandle"]))

            let deleted = try await api.call("DeleteMessage", #"{"QueueUrl":"\#(url)","ReceiptHandle":"\#(handle)"}"#)
            #expect(deleted.status == 200)
            let attributes = try await api.call(
                "GetQueueAttributes", #"{"QueueUrl":"\#(url)","AttributeNames":["ApproximateNumberOfMessages","ApproximateNumberOfMessagesNotVisible"]}"#)
            let counts = try Self.json(attributes)["Attributes"]
            #expect(Self.string(counts?["ApproximateNumberOfMessages"]) == "0")
            #expect(Self.string(counts?["ApproximateNumberOfMessagesNotVisible"]) == "0")
        }

        @Test func errorsAreAWSJSONErrors() async throws {
            let api = try APIServer()
            try Self.expectError(
                try await api.call("GetQueueUrl", #"{"QueueName":"nowhere"}"#), status: 400, type: "QueueDoesNotExist",
                queryError: "AWS.SimpleQueueService.NonExistentQueue;Sender")
            try Self.expectError(
                try await api.call("SendMessage", #"{"MessageBody":"x"}"#), status: 400, type: "MissingParameter", queryError: "MissingParameter;Sender")
            try Self.expectError(
                try await api.call("CreateQueue", "{not json"), status: 400, type: "InvalidParameterValue", queryError: "InvalidParameterValue;Sender")
            try Self.expectError(
                try await api.call("DeleteMessageBatch", #"{"QueueUrl":"http://x/000000000000/nowhere","Entries":[]}"#), status: 400,
                type: "EmptyBatchRequest", queryError: "AWS.SimpleQueueService.EmptyBatchRequest;Sender")
            // A modelled SQS operation Herald does not implement yet reaches QueueAPI: InvalidAction.
            try Self.expectError(try await api.call("AddPermission", "{}"), status: 400, type: "InvalidAction", queryError: "InvalidAction;Sender")
            // A non-SigV4 Authorization header.
            try Self.expectError(
                try await api.call("ListQueues", "{}", authorization: "Basic dGVzdDp0ZXN0"), status: 403, type: "IncompleteSignature",
                queryError: "IncompleteSignature;Sender")
        }

        @Test func unknownTargetsAndPaths() async throws {
            let api = try APIServer()
            for target in ["AmazonSQS.Frobnicate", "AmazonSNS.Publish", "AmazonSQS.Subscribe", "AmazonSQS."] {
                try Self.expectError(
                    try await api.call("", "{}", target: target), status: 400, type: "UnknownOperationException",
                    queryError: "UnknownOperationException;Sender")
            }
            try Self.expectError(try await api.get("/nothing/here"), status: 404, type: "ResourceNotFoundException", queryError: "ResourceNotFoundException;Sender")
        }

        @Test func servesTheSigningCertificate() async throws {
            let api = try APIServer()
            let response = try await api.get(SQSJSONHandler.signingCertificatePath)
            #expect(response.status == 200)
            let onDisk = try #require(FileManager.default.contents(atPath: api.directory + "/data/signing-cert.pem"))
            #expect(response.body == [UInt8](onDisk))
            #expect(String(decoding: response.body, as: UTF8.self).hasPrefix("-----BEGIN CERTIFICATE-----"))
        }

        @Test func permissionsComeFromTheAnonymousOnes() async throws {
            let api = try APIServer { config in config.auth = HeraldConfig.Auth(allowAnonymous: true, anonymousPermissions: .none) }
            try Self.expectError(
                try await api.call("CreateQueue", #"{"QueueName":"jobs"}"#), status: 403, type: "AccessDenied", queryError: "AccessDenied;Sender")
            // Anonymous off, but the API listens on loopback only: every permission.
            let local = try APIServer { config in config.auth = HeraldConfig.Auth(allowAnonymous: false) }
            #expect(try await local.call("CreateQueue", #"{"QueueName":"jobs"}"#).status == 200)
        }

        @Test func accessDecisions() throws {
            #expect(try APIAccess.accessKeyID(authorization: nil).get() == nil)
            #expect(try APIAccess.accessKeyID(authorization: APIServer.sigV4).get() == "test")
            for bad in ["Basic x", "AWS4-HMAC-SHA256 SignedHeaders=host", "AWS4-HMAC-SHA256 Credential=/2026/us-east-1/sqs/aws4_request", "AWS4-HMAC-SHA256 Credential=a b/x"] {
                #expect(throws: APIAccessError.self) { try APIAccess.accessKeyID(authorization: bad).get() }
            }
            let closed = HeraldConfig.Auth(allowAnonymous: false)
            #expect(throws: APIAccessError.self) { try APIAccess.principal(accessKeyID: "k", auth: closed, loopbackOnly: false).get() }
            #expect(try APIAccess.principal(accessKeyID: "k", auth: closed, loopbackOnly: true).get().permissions == .all)
            let open = HeraldConfig.Auth(allowAnonymous: true, anonymousPermissions: .none)
            #expect(try APIAccess.principal(accessKeyID: nil, auth: open, loopbackOnly: true).get().permissions == .none)
            #expect(APIAccess.isLoopback("127.0.0.1") && APIAccess.isLoopback("::1") && !APIAccess.isLoopback("0.0.0.0"))
        }

        static let boto3Installed = ChildProcess.succeeds(["python3", "-c", "import boto3"])
        /// Credentials for the compatibility scripts, with the user's own AWS files out of the way.
        static let awsEnvironment = [
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        ]

        @Test(.enabled(if: boto3Installed, "boto3 is not installed (python3 -c 'import boto3')"))
        func boto3DrivesTheQueueAPI() throws {
            let api = try APIServer()
            let (status, text) = try ChildProcess.run("/usr/bin/env", ["python3", TestPaths.repository + "/Tests/Compatibility/sqs_boto3.py", "http://127.0.0.1:\(api.port)"], environment: Self.awsEnvironment)
            #expect(status == 0, "sqs_boto3.py failed:\n\(text)")
            #expect(text.contains("sqs_boto3: all checks passed"), "\(text)")
        }

        /// Queue semantics through boto3: visibility expiry and redelivery, redrive to a DLQ and
        /// back, FIFO order and deduplication (with SequenceNumber), SNS→SQS with filter
        /// policies of both scopes, raw and enveloped.
        @Test(.enabled(if: boto3Installed, "boto3 is not installed (python3 -c 'import boto3')"))
        func boto3ChecksQueueSemantics() throws {
            let api = try APIServer()
            let (status, text) = try ChildProcess.run(
                "/usr/bin/env", ["python3", TestPaths.repository + "/Tests/Compatibility/sqs_semantics_boto3.py", "http://127.0.0.1:\(api.port)"],
                environment: Self.awsEnvironment)
            #expect(status == 0, "sqs_semantics_boto3.py failed:\n\(text)")
            #expect(text.contains("sqs_semantics_boto3: all checks passed"), "\(text)")
        }

        /// With a user that has access keys, every request must be signed by one of them: boto3
        /// with the right secret works, a wrong secret is SignatureDoesNotMatch, an unknown key
        /// InvalidClientTokenId (both 403).
        @Test(.enabled(if: boto3Installed, "boto3 is not installed (python3 -c 'import boto3')"))
        func boto3SignaturesAreVerified() async throws {
            let keyID = "AKIAHERALDTEST000001", secret = "herald/test/secret+key"
            let api = try APIServer { config in
                var user = HeraldConfig.User(name: "api", permissions: .all)
                user.accessKeys = [HeraldConfig.AccessKey(id: keyID, secret: secret)]
                config.auth = HeraldConfig.Auth(allowAnonymous: false, anonymousPermissions: .none, users: [user])
            }
            let (status, text) = try ChildProcess.run(
                "/usr/bin/env", ["python3", TestPaths.repository + "/Tests/Compatibility/sqs_boto3_auth.py", "http://127.0.0.1:\(api.port)", keyID, secret],
                environment: ["AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"])
            #expect(status == 0, "sqs_boto3_auth.py failed:\n\(text)")
            #expect(text.contains("sqs_boto3_auth: all checks passed"), "\(text)")
            // Unsigned: no Authorization header at all.
            let unsigned = try await api.call("ListQueues", "{}", authorization: nil)
            #expect(unsigned.status == 403)
            #expect(unsigned.headers["x-amzn-query-error"]?.hasPrefix("MissingAuthenticationToken") == true)
        }

        static let awsCLIInstalled = ChildProcess.succeeds(["aws", "--version"])

        /// The real AWS CLI: SNS topic, two SQS subscriptions (filtered and raw; enveloped), publish,
        /// receive, list, get attributes, unsubscribe, an invalid publish, delete-topic.
        @Test(.enabled(if: awsCLIInstalled, "the AWS CLI is not installed"))
        func awsCLIDrivesTheSNSToSQSFanOut() throws {
            let api = try APIServer()
            let (status, text) = try ChildProcess.run("/bin/bash", [TestPaths.repository + "/Tests/Compatibility/sns_awscli.sh", "http://127.0.0.1:\(api.port)"])
            #expect(status == 0, "sns_awscli.sh failed:\n\(text)")
            #expect(text.contains("sns_awscli: all checks passed"), "\(text)")
        }

        /// `aws: {region, account}` shapes every ARN and queue URL the API hands out.
        @Test func regionAndAccountAreConfigurable() async throws {
            let api = try APIServer { config in config.aws = HeraldConfig.AWSIdentity(region: "eu-west-1", account: "123456789012") }
            let created = try Self.json(try await api.call("CreateQueue", #"{"QueueName":"regional"}"#))
            #expect(Self.string(created["QueueUrl"]) == "http://127.0.0.1:\(api.port)/123456789012/regional")
            let attributes = try Self.json(try await api.call(
                "GetQueueAttributes", #"{"QueueUrl":"http://127.0.0.1:\#(api.port)/123456789012/regional","AttributeNames":["QueueArn"]}"#))
            #expect(Self.string(attributes["Attributes"]?["QueueArn"]) == "arn:aws:sqs:eu-west-1:123456789012:regional")
        }
    }
}
