import Testing
import HeraldCore
@testable import HeraldClient
@testable import HeraldWire

/// The exact JSON each queue call sends (SQS JSON protocol bodies, queues named by QueueName).
@Suite struct QueueRequestTests {
    static func text(_ request: QueueRequest) -> String { String(decoding: request.json, as: UTF8.self) }

    @Test func queueAdministration() {
        #expect(Self.text(.createQueue(name: "orders")) == #"{"QueueName":"orders"}"#)
        #expect(Self.text(.createQueue(name: "o.fifo", attributes: ["VisibilityTimeout": "60", "FifoQueue": "true"]))
            == #"{"QueueName":"o.fifo","Attributes":{"FifoQueue":"true","VisibilityTimeout":"60"}}"#)
        #expect(QueueRequest.createQueue(name: "orders").action == "CreateQueue")
        #expect(Self.text(.deleteQueue(name: "orders")) == #"{"QueueName":"orders"}"#)
        #expect(QueueRequest.deleteQueue(name: "orders").action == "DeleteQueue")
        #expect(QueueRequest.purgeQueue(name: "orders").action == "PurgeQueue")
        #expect(Self.text(.listQueues()) == "{}")
        #expect(Self.text(.listQueues(prefix: "ord")) == #"{"QueueNamePrefix":"ord"}"#)
        #expect(Self.text(.queueAttributes(name: "q")) == #"{"QueueName":"q","AttributeNames":["All"]}"#)
        #expect(Self.text(.queueAttributes(name: "q", names: ["QueueArn"])) == #"{"QueueName":"q","AttributeNames":["QueueArn"]}"#)
        #expect(Self.text(.setQueueAttributes(name: "q", attributes: ["DelaySeconds": "5"])) == #"{"QueueName":"q","Attributes":{"DelaySeconds":"5"}}"#)
    }

    @Test func sendCarriesEveryOptionalMemberAndBase64Binary() {
        let message = OutgoingMessage(
            body: "héllo \"x\"\n", attributes: ["b": .binary([0, 1, 0xFE, 0xFF]), "a": .string("1"), "n": .number("2.5")],
            delaySeconds: 3, groupID: "g", deduplicationID: "d")
        let request = QueueRequest.send(queue: "q.fifo", message: message)
        #expect(request.action == "SendMessage")
        #expect(Self.text(request) == #"{"QueueName":"q.fifo","MessageBody":"héllo \"x\"\n","DelaySeconds":3,"#
            + #""MessageAttributes":{"a":{"DataType":"String","StringValue":"1"},"b":{"DataType":"Binary","BinaryValue":"AAH+/w=="},"#
            + #""n":{"DataType":"Number","StringValue":"2.5"}},"MessageGroupId":"g","MessageDeduplicationId":"d"}"#)
        #expect(Self.text(.send(queue: "q", message: OutgoingMessage(body: "x"))) == #"{"QueueName":"q","MessageBody":"x"}"#)
    }

    @Test func batches() {
        let send = QueueRequest.sendBatch(queue: "q", entries: [
            OutgoingBatchEntry(id: "1", message: OutgoingMessage(body: "a")),
            OutgoingBatchEntry(id: "2", message: OutgoingMessage(body: "b", delaySeconds: 0)),
        ])
        #expect(send.action == "SendMessageBatch")
        #expect(Self.text(send) == #"{"QueueName":"q","Entries":[{"Id":"1","MessageBody":"a"},{"Id":"2","MessageBody":"b","DelaySeconds":0}]}"#)
        let delete = QueueRequest.deleteBatch(queue: "q", entries: [ReceiptEntry(id: "x", receiptHandle: "rh1")])
        #expect(delete.action == "DeleteMessageBatch")
        #expect(Self.text(delete) == #"{"QueueName":"q","Entries":[{"Id":"x","ReceiptHandle":"rh1"}]}"#)
        let change = QueueRequest.changeVisibilityBatch(queue: "q", entries: [ReceiptEntry(id: "x", receiptHandle: "rh1")], visibilitySeconds: 9)
        #expect(change.action == "ChangeMessageVisibilityBatch")
        #expect(Self.text(change) == #"{"QueueName":"q","Entries":[{"Id":"x","ReceiptHandle":"rh1","VisibilityTimeout":9}]}"#)
    }

    @Test func receiveDeleteAndVisibility() {
        #expect(Self.text(.receive(queue: "q", max: 10, waitSeconds: 20, visibilitySeconds: 30))
            == #"{"QueueName":"q","MaxNumberOfMessages":10,"WaitTimeSeconds":20,"VisibilityTimeout":30,"MessageSystemAttributeNames":["All"],"MessageAttributeNames":["All"]}"#)
        #expect(Self.text(.receive(queue: "q")) == #"{"QueueName":"q","MessageSystemAttributeNames":["All"],"MessageAttributeNames":["All"]}"#)
        #expect(QueueRequest.receive(queue: "q").action == "ReceiveMessage")
        #expect(Self.text(.deleteMessage(queue: "q", receiptHandle: "r/1+")) == #"{"QueueName":"q","ReceiptHandle":"r/1+"}"#)
        #expect(QueueRequest.deleteMessage(queue: "q", receiptHandle: "r").action == "DeleteMessage")
        let change = QueueRequest.changeVisibility(queue: "q", receiptHandle: "r", visibilitySeconds: 0)
        #expect(change.action == "ChangeMessageVisibility")
        #expect(Self.text(change) == #"{"QueueName":"q","ReceiptHandle":"r","VisibilityTimeout":0}"#)
    }

    @Test func redriveAndSubscriptions() {
        #expect(QueueRequest.redrive(source: "dlq").action == "StartMessageMoveTask")
        #expect(Self.text(.redrive(source: "dlq")) == #"{"SourceQueueName":"dlq"}"#)
        #expect(Self.text(.redrive(source: "dlq", destination: "q")) == #"{"SourceQueueName":"dlq","DestinationQueueName":"q"}"#)
        #expect(Self.text(.subscribe(topic: "t", queue: "q")) == #"{"TopicName":"t","Protocol":"sqs","Endpoint":"q"}"#)
        #expect(Self.text(.subscribe(topic: "t", queue: "q", filterPolicy: #"{"a":["b"]}"#, scope: .messageBody, raw: true))
            == #"{"TopicName":"t","Protocol":"sqs","Endpoint":"q","Attributes":{"FilterPolicy":"{\"a\":[\"b\"]}","FilterPolicyScope":"MessageBody","RawMessageDelivery":"true"}}"#)
        #expect(QueueRequest.subscribe(topic: "t", queue: "q").action == "Subscribe")
        #expect(Self.text(.unsubscribe(arn: "arn:aws:sns:us-east-1:000000000000:t:s")) == #"{"SubscriptionArn":"arn:aws:sns:us-east-1:000000000000:t:s"}"#)
        #expect(Self.text(.listSubscriptions()) == "{}")
        #expect(Self.text(.listSubscriptions(topic: "t")) == #"{"TopicName":"t"}"#)
    }

    @Test func frameBytesDecodeAsTheSameQREQ() throws {
        let request = QueueRequest.receive(queue: "orders", max: 2)
        let frame = request.frameBytes(requestID: 42)
        #expect(String(decoding: frame.prefix(27), as: UTF8.self) == "QREQ 42 ReceiveMessage \(request.json.count)\r")
        var decoder = ClientFrameDecoder()
        decoder.append(frame)
        #expect(try decoder.next() == .queueRequest(QueueRequestFrame(requestID: 42, action: "ReceiveMessage", json: request.json)))
        #expect(try decoder.next() == nil)
        // The server parses the section back into the same JSON.
        #expect(try JSONParser.parse(request.json, limits: .init(maxDepth: 8)) == request.body)
    }
}
