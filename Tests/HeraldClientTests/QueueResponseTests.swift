import Testing
import HeraldCore
@testable import HeraldClient

/// Reading QRES bodies into typed results; a malformed body is "InvalidResponse", never a crash.
@Suite struct QueueResponseTests {
    static func json(_ text: String) throws -> JSONValue { try QueueReply.parse(Array(text.utf8), action: "Test") }

    static let receiveBody = #"""
        {"Messages":[{"MessageId":"m-1","ReceiptHandle":"rh-1","MD5OfBody":"abc","Body":"héllo",
          "Attributes":{"SentTimestamp":"1796521760180","ApproximateReceiveCount":"3","ApproximateFirstReceiveTimestamp":"1796521760232","MessageGroupId":"g"},
          "MessageAttributes":{"bin":{"DataType":"Binary","BinaryValue":"AAH+/w=="},"s":{"DataType":"String","StringValue":"x"},"n":{"DataType":"Number.int","StringValue":"7"}}},
         {"MessageId":"m-2","ReceiptHandle":"rh-2","Body":""}]}
        """#

    @Test func receiveMessageParsesAttributesAndBase64() throws {
        let messages = try ReceivedMessage.list(try Self.json(Self.receiveBody))
        #expect(messages.count == 2)
        let first = try #require(messages.first)
        #expect(first.messageID == "m-1")
        #expect(first.receiptHandle == "rh-1")
        #expect(first.body == Array("héllo".utf8))
        #expect(first.bodyText == "héllo")
        #expect(first.receiveCount == 3)
        #expect(first.md5OfBody == "abc")
        #expect(first.attributes["MessageGroupId"] == "g")
        #expect(first.attributes["SentTimestamp"] == "1796521760180")
        #expect(first.messageAttributes["bin"] == .binary([0, 1, 0xFE, 0xFF]))
        #expect(first.messageAttributes["s"] == .string("x"))
        #expect(first.messageAttributes["n"] == MessageAttributeValue(dataType: "Number.int", payload: .string("7")))
        #expect(messages[1] == ReceivedMessage(messageID: "m-2", receiptHandle: "rh-2", body: []))
    }

    @Test func emptyLongPollIsNoMessages() throws {
        #expect(try ReceivedMessage.list(try Self.json("{}")).isEmpty)
        #expect(try ReceivedMessage.list(try QueueReply.parse([], action: "ReceiveMessage")).isEmpty)
    }

    @Test(arguments: [
        #"{"Messages":{}}"#,
        #"{"Messages":[{"ReceiptHandle":"r","Body":"b"}]}"#,
        #"{"Messages":[{"MessageId":"m","ReceiptHandle":"r","Body":5}]}"#,
        #"{"Messages":[{"MessageId":"m","ReceiptHandle":"r","Body":"b","Attributes":{"ApproximateReceiveCount":"many"}}]}"#,
        #"{"Messages":[{"MessageId":"m","ReceiptHandle":"r","Body":"b","MessageAttributes":{"x":{"DataType":"Binary","BinaryValue":"A=A="}}}]}"#,
        #"{"Messages":[{"MessageId":"m","ReceiptHandle":"r","Body":"b","MessageAttributes":{"x":{"DataType":"String"}}}]}"#,
        #"{"Messages":[{"MessageId":"m","ReceiptHandle":"r","Body":"b","MessageAttributes":{"x":{"StringValue":"v"}}}]}"#,
    ])
    func malformedReceiveAnswersAreInvalidResponse(_ text: String) throws {
        let error = #expect(throws: ClientError.self) { try ReceivedMessage.list(try Self.json(text)) }
        #expect(error?.code == "InvalidResponse")
    }

    @Test func nonJSONOrNonObjectBodiesAreInvalidResponse() {
        for text in ["not json", "[1]", "{\"a\":", "\"x\""] {
            let error = #expect(throws: ClientError.self) { try QueueReply.parse(Array(text.utf8), action: "ListQueues") }
            #expect(error?.code == "InvalidResponse", "\(text)")
        }
    }

    @Test func batchResults() throws {
        let send = try BatchResult(json: try Self.json(#"""
            {"Successful":[{"Id":"1","MessageId":"m-1","MD5OfMessageBody":"d","SequenceNumber":"10"}],
             "Failed":[{"Id":"2","Code":"InvalidParameterValue","Message":"bad","SenderFault":true}]}
            """#), withMessages: true)
        #expect(send.successful.map(\.id) == ["1"])
        #expect(send.successful.first?.message == SentMessage(messageID: "m-1", md5OfMessageBody: "d", sequenceNumber: "10"))
        #expect(send.failed.first?.code == "InvalidParameterValue")
        #expect(send.failed.first?.message == "bad")
        #expect(send.failed.first?.senderFault == true)
        let delete = try BatchResult(json: try Self.json(#"{"Successful":[{"Id":"a"}]}"#), withMessages: false)
        #expect(delete.successful.map(\.id) == ["a"])
        #expect(delete.successful.first?.message == nil)
        #expect(delete.failed.isEmpty)
        #expect(throws: ClientError.self) { try BatchResult(json: try Self.json(#"{"Successful":[{"Id":"a"}]}"#), withMessages: true) }
        #expect(throws: ClientError.self) { try BatchResult(json: try Self.json(#"{"Failed":[{"Id":"a","Code":"X","SenderFault":"yes"}]}"#), withMessages: false) }
    }

    @Test func otherAnswers() throws {
        #expect(try QueueReply.queueURLs(try Self.json(#"{"QueueUrls":["http://h/000000000000/a","http://h/000000000000/b"]}"#)).map(QueueReply.queueName(fromURL:)) == ["a", "b"])
        #expect(try QueueReply.queueURLs(try Self.json("{}")).isEmpty)
        #expect(throws: ClientError.self) { try QueueReply.queueURLs(try Self.json(#"{"QueueUrls":[1]}"#)) }
        #expect(try QueueReply.moveTask(try Self.json(#"{"TaskHandle":"t-1","ApproximateNumberOfMessagesMoved":4}"#)) == MoveTask(taskHandle: "t-1", approximateNumberOfMessagesMoved: 4))
        #expect(throws: ClientError.self) { try QueueReply.moveTask(try Self.json("{}")) }
        let subscriptions = try QueueReply.subscriptions(try Self.json(#"""
            {"Subscriptions":[{"SubscriptionArn":"arn:aws:sns:us-east-1:000000000000:t:s","TopicArn":"arn:aws:sns:us-east-1:000000000000:t","Protocol":"sqs","Endpoint":"arn:aws:sqs:us-east-1:000000000000:q"}]}
            """#))
        #expect(subscriptions == [SubscriptionSummary(
            subscriptionArn: "arn:aws:sns:us-east-1:000000000000:t:s", topicArn: "arn:aws:sns:us-east-1:000000000000:t",
            protocolName: "sqs", endpoint: "arn:aws:sqs:us-east-1:000000000000:q")])
        #expect(QueueReply.queueName(fromURL: "arn:aws:sqs:us-east-1:000000000000:q.fifo") == "q.fifo")
        #expect(QueueReply.queueName(fromURL: "plain") == "plain")
    }

    @Test func attributesRoundTripThroughSQSJSON() throws {
        let attributes: MessageAttributes = [
            "b": .binary(Array(0...255)), "e": .binary([]), "s": .string("é\"\n"),
            "arr": .stringArray(json: #"["a"]"#), "label": MessageAttributeValue(dataType: "Binary.png", payload: .binary([9])),
        ]
        let text = SQSAttributes.json(attributes).text
        let parsed = try SQSAttributes.parse(try QueueReply.parse(Array(text.utf8), action: "T"), context: "MessageAttributes")
        #expect(parsed == attributes)
    }
}
