import HeraldBroker
import HeraldCore
import HeraldWire
import Testing
@testable import HeraldServer

/// The legacy SQS query protocol's codec: flattened parameters → the JSON request `QueueAPI`
/// reads, its JSON answer → SQS's XML, errors with the legacy codes, and the SNS/SQS routing.
@Suite struct SQSQueryProtocolTests {
    static func request(_ parameters: [String: String], path: Substring = "/") throws -> ActionRequest {
        ActionRequest(json: try SQSQueryParameters.json(parameters, path: path))
    }

    @Test func createQueueAttributesAndTags() throws {
        let request = try Self.request([
            "Action": "CreateQueue", "Version": "2012-11-05", "QueueName": "jobs",
            "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "45",
            "Attribute.2.Name": "DelaySeconds", "Attribute.2.Value": "3",
            "Tag.1.Key": "team", "Tag.1.Value": "ops", "Tag.2.Key": "empty",
        ])
        #expect(request.json["Action"] == nil && request.json["Version"] == nil)
        #expect(try request.requiredString("QueueName") == "jobs")
        #expect(try request.stringMap("Attributes") == ["VisibilityTimeout": "45", "DelaySeconds": "3"])
        #expect(try request.stringMap("Tags") == ["team": "ops", "empty": ""])
    }

    @Test func nameListsAndTagKeys() throws {
        let request = try Self.request([
            "QueueUrl": "http://h/000000000000/q", "AttributeName.2": "SentTimestamp", "AttributeName.1": "All",
            "MessageAttributeName.1": "color", "MessageSystemAttributeName.1": "AWSTraceHeader", "TagKey.1": "a", "TagKey.10": "c", "TagKey.2": "b",
        ])
        #expect(try QueueAPI.names(request, "AttributeNames") == ["All", "SentTimestamp"])
        #expect(try QueueAPI.names(request, "MessageAttributeNames") == ["color"])
        #expect(try QueueAPI.names(request, "MessageSystemAttributeNames") == ["AWSTraceHeader"])
        // N sorts numerically, not as text.
        #expect(try QueueAPI.names(request, "TagKeys") == ["a", "b", "c"])
        #expect(try request.queueName() == "q")
    }

    @Test func messageAttributesAndBatchEntries() throws {
        let single = try Self.request([
            "MessageBody": "hi", "MessageAttribute.1.Name": "s", "MessageAttribute.1.Value.DataType": "String",
            "MessageAttribute.1.Value.StringValue": "x", "MessageAttribute.2.Name": "b", "MessageAttribute.2.Value.DataType": "Binary",
            "MessageAttribute.2.Value.BinaryValue": "AAE=",
        ])
        let attributes = try single.messageAttributes()
        #expect(attributes == ["s": .string("x"), "b": .binary([0, 1])])
        // The test vector of spec §5 (moto's `s` String `x` + `b` Binary 00 01).
        #expect(SQSDigest.md5OfMessageAttributes(attributes) == "a9eb64ad3b0c64963ecbf0eb754a3add")

        var batch: [String: String] = ["Action": "SendMessageBatch"]
        for index in 1...11 {
            batch["SendMessageBatchRequestEntry.\(index).Id"] = "m\(index)"
            batch["SendMessageBatchRequestEntry.\(index).MessageBody"] = "body \(index)"
        }
        batch["SendMessageBatchRequestEntry.2.DelaySeconds"] = "5"
        batch["SendMessageBatchRequestEntry.2.MessageAttribute.1.Name"] = "n"
        batch["SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.DataType"] = "Number"
        batch["SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.StringValue"] = "7"
        let entries = try #require(try Self.request(batch).array("Entries"))
        #expect(entries.count == 11)
        #expect(try entries.map { try ActionRequest(json: $0).requiredString("Id") } == (1...11).map { "m\($0)" })
        let second = ActionRequest(json: entries[1])
        #expect(try second.int("DelaySeconds") == 5)
        #expect(try second.messageAttributes() == ["n": .number("7")])

        let deletes = try #require(try Self.request([
            "DeleteMessageBatchRequestEntry.1.Id": "a", "DeleteMessageBatchRequestEntry.1.ReceiptHandle": "h1",
            "DeleteMessageBatchRequestEntry.2.Id": "b", "DeleteMessageBatchRequestEntry.2.ReceiptHandle": "h2",
        ]).array("Entries"))
        #expect(try deletes.map { try ActionRequest(json: $0).requiredString("ReceiptHandle") } == ["h1", "h2"])
        let changes = try #require(try Self.request([
            "ChangeMessageVisibilityBatchRequestEntry.1.Id": "c", "ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout": "9",
        ]).array("Entries"))
        #expect(try changes.map { try ActionRequest(json: $0).int("VisibilityTimeout") } == [9])
    }

    @Test func queueURLFromThePath() throws {
        #expect(try Self.request(["MessageBody": "x"], path: "/000000000000/orders").queueName() == "orders")
        // A QueueUrl in the form wins over the path.
        #expect(try Self.request(["QueueUrl": "http://h/000000000000/a"], path: "/000000000000/b").queueName() == "a")
        for path: Substring in ["/", "/orders", "/12345/orders", "/000000000000/", "/000000000000/a/b", "/00000000000x/a"] {
            #expect(SQSQueryParameters.queueName(path: path) == nil, "\(path)")
            #expect(throws: HeraldError.self) { try Self.request(["MessageBody": "x"], path: path).queueName() }
        }
    }

    @Test func malformedParametersAreClearErrors() throws {
        let cases: [([String: String], HeraldErrorCode, String)] = [
            (["Attribute.x.Name": "a"], .invalidParameterValue, "Attribute.x.Name"),
            (["Attribute.0.Name": "a"], .invalidParameterValue, "Attribute.0.Name"),
            (["Attribute.1.Nmae": "a"], .invalidParameterValue, "Attribute.1.Nmae"),
            (["Attribute.1.Value": "a"], .missingParameter, "Attribute.1.Name"),
            (["MessageAttribute.1.Value.StringListValue.1": "a", "MessageAttribute.1.Name": "n"], .invalidParameterValue, "MessageAttribute.1.Value.StringListValue.1"),
            (["Frobnicate.1": "a"], .invalidParameterValue, "Frobnicate.1"),
            (["AttributeName.1.Extra": "a"], .invalidParameterValue, "AttributeName.1.Extra"),
            (["SendMessageBatchRequestEntry.1.Bogus.1.Name": "a"], .invalidParameterValue, "SendMessageBatchRequestEntry.1.Bogus.1.Name"),
            (["SendMessageBatchRequestEntry.1": "a"], .invalidParameterValue, "SendMessageBatchRequestEntry.1"),
            (["DeleteMessageBatchRequestEntry.1.Id": "a", "ChangeMessageVisibilityBatchRequestEntry.1.Id": "b"], .invalidParameterValue,
             "ChangeMessageVisibilityBatchRequestEntry.N and DeleteMessageBatchRequestEntry.N"),
        ]
        for (parameters, code, name) in cases {
            do throws(HeraldError) {
                _ = try SQSQueryParameters.json(parameters)
                Issue.record("accepted \(parameters)")
            } catch {
                #expect(error.code == code, "\(parameters)")
                #expect(error.message.contains(name), "\(error.message)")
            }
        }
    }

    @Test func receiveMessageRendersFlattenedXML() {
        let output = ActionResponse.object([("Messages", .array([ActionResponse.object([
            ("MessageId", .string("m1")), ("ReceiptHandle", .string("r1")), ("MD5OfBody", .string("d")), ("Body", .string("a<b>&\"c\"\r\n")),
            ("Attributes", ActionResponse.strings(["SentTimestamp": "17", "ApproximateReceiveCount": "1"])),
            ("MD5OfMessageAttributes", .string("a9")),
            ("MessageAttributes", ActionResponse.attributes(["s": .string("x"), "b": .binary([0, 1])])),
        ])]))])
        let xml = SQSQueryXML.response(action: "ReceiveMessage", result: output, requestID: "req-1")
        #expect(xml == """
            <ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ReceiveMessageResult><Message>\
            <MessageId>m1</MessageId><ReceiptHandle>r1</ReceiptHandle><MD5OfBody>d</MD5OfBody><Body>a&lt;b&gt;&amp;&quot;c&quot;&#xD;\n</Body>\
            <Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute><Attribute><Name>SentTimestamp</Name><Value>17</Value></Attribute>\
            <MD5OfMessageAttributes>a9</MD5OfMessageAttributes>\
            <MessageAttribute><Name>b</Name><Value><DataType>Binary</DataType><BinaryValue>AAE=</BinaryValue></Value></MessageAttribute>\
            <MessageAttribute><Name>s</Name><Value><DataType>String</DataType><StringValue>x</StringValue></Value></MessageAttribute>\
            </Message></ReceiveMessageResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></ReceiveMessageResponse>
            """)
        // No messages: an empty Result element, still there.
        #expect(SQSQueryXML.response(action: "ReceiveMessage", result: ActionResponse.object([("Messages", .array([]))]), requestID: "r")
            .contains("<ReceiveMessageResult></ReceiveMessageResult>"))
    }

    @Test func listsBatchesTagsAndEmptyResults() {
        let list = SQSQueryXML.response(action: "ListQueues", result: ActionResponse.object([("QueueUrls", .array([.string("u1"), .string("u2")]))]), requestID: "r")
        #expect(list.contains("<ListQueuesResult><QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl></ListQueuesResult>"))
        let sources = SQSQueryXML.response(action: "ListDeadLetterSourceQueues", result: ActionResponse.object([("queueUrls", .array([.string("u")]))]), requestID: "r")
        #expect(sources.contains("<ListDeadLetterSourceQueuesResult><QueueUrl>u</QueueUrl></ListDeadLetterSourceQueuesResult>"))
        let batch = SQSQueryXML.response(action: "DeleteMessageBatch", result: ActionResponse.object([
            ("Successful", .array([ActionResponse.object([("Id", .string("a"))])])),
            ("Failed", .array([ActionResponse.failure(id: "b", HeraldError(.receiptHandleIsInvalid, "bad"))])),
        ]), requestID: "r")
        #expect(batch.contains(
            "<DeleteMessageBatchResult><DeleteMessageBatchResultEntry><Id>a</Id></DeleteMessageBatchResultEntry><BatchResultErrorEntry><Id>b</Id><Code>ReceiptHandleIsInvalid</Code><Message>bad</Message><SenderFault>true</SenderFault></BatchResultErrorEntry></DeleteMessageBatchResult>"))
        let tags = SQSQueryXML.response(action: "ListQueueTags", result: ActionResponse.object([("Tags", ActionResponse.strings(["k": "v"]))]), requestID: "r")
        #expect(tags.contains("<ListQueueTagsResult><Tag><Key>k</Key><Value>v</Value></Tag></ListQueueTagsResult>"))
        let attributes = SQSQueryXML.response(action: "GetQueueAttributes", result: ActionResponse.object([("Attributes", ActionResponse.strings(["DelaySeconds": "0"]))]), requestID: "r")
        #expect(attributes.contains("<GetQueueAttributesResult><Attribute><Name>DelaySeconds</Name><Value>0</Value></Attribute></GetQueueAttributesResult>"))
        for action in SQSQueryXML.actionsWithoutResult {
            let xml = SQSQueryXML.response(action: action, result: ActionResponse.object([]), requestID: "r9")
            #expect(xml == "<\(action)Response xmlns=\"\(SQSQueryXML.namespace)\"><ResponseMetadata><RequestId>r9</RequestId></ResponseMetadata></\(action)Response>")
        }
        // An operation with an output keeps its (here empty) Result element: botocore needs it.
        #expect(SQSQueryXML.response(action: "ListQueueTags", result: ActionResponse.object([]), requestID: "r").contains("<ListQueueTagsResult></ListQueueTagsResult>"))
    }

    @Test func errorsCarryLegacyCodesAndTexts() {
        let missing = SQSQueryHandler.error(QueueManager.noSuchQueue, requestID: "rid")
        #expect(missing.status == 400)
        #expect(missing.headers["Content-Type"] == "text/xml")
        #expect(missing.headers["x-amzn-RequestId"] == "rid")
        #expect(String(decoding: missing.body, as: UTF8.self) == """
            <ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type>\
            <Code>AWS.SimpleQueueService.NonExistentQueue</Code><Message>The specified queue does not exist for this wsdl version.</Message>\
            <Detail/></Error><RequestId>rid</RequestId></ErrorResponse>
            """)
        let purge = SQSQueryHandler.error(HeraldError(.purgeQueueInProgress, "Only one PurgeQueue operation on q is allowed every 60 seconds."), requestID: "r")
        #expect(purge.status == 403)
        #expect(String(decoding: purge.body, as: UTF8.self).contains("<Code>AWS.SimpleQueueService.PurgeQueueInProgress</Code><Message>Only one PurgeQueue"))
        let server = SQSQueryHandler.error(HeraldError(.internal, "a<b"), requestID: "r")
        #expect(server.status == 500)
        #expect(String(decoding: server.body, as: UTF8.self).contains("<Type>Receiver</Type><Code>InternalFailure</Code><Message>a&lt;b</Message>"))
    }

    @Test func routingBetweenSQSAndSNS() {
        func route(_ target: String, _ parameters: [String: String], authorization: String? = nil) -> Bool {
            var headers: HTTPHeaders = [:]
            if let authorization { headers.append("Authorization", authorization) }
            return SQSQueryHandler.isSQS(HTTPRequest(method: "POST", target: target, headers: headers), parameters: parameters)
        }
        let sqsScope = "AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0"
        let snsScope = "AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0"
        #expect(route("/", ["Action": "ListQueues", "Version": "2012-11-05"]))
        #expect(!route("/", ["Action": "ListTopics", "Version": "2010-03-31"]))
        // Version decides over scope and path.
        #expect(!route("/000000000000/q", ["Action": "AddPermission", "Version": "2010-03-31"], authorization: sqsScope))
        #expect(route("/", ["Action": "AddPermission"], authorization: sqsScope))
        #expect(!route("/000000000000/q", ["Action": "AddPermission"], authorization: snsScope))
        #expect(route("/", ["Action": "ListQueues", "X-Amz-Credential": "AKID/20261206/us-east-1/sqs/aws4_request"]))
        #expect(route("/000000000000/q", ["Action": "SendMessage"]))
        // The SubscribeURL an SNS endpoint follows: unsigned, no Version, path `/`.
        #expect(!route("/?Action=ConfirmSubscription&TopicArn=a&Token=t", ["Action": "ConfirmSubscription", "TopicArn": "a", "Token": "t"]))
    }
}
