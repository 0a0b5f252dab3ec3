import HeraldCore
import Testing
@testable import HeraldBroker

@Suite struct QueueAttributesTests {
    @Test func defaultsAreSQSs() throws {
        let attributes = try QueueAttributes(sqsAttributes: [:], queueName: "orders")
        let map = attributes.sqsAttributes
        #expect(map["VisibilityTimeout"] == "30")
        #expect(map["MessageRetentionPeriod"] == "345600")
        #expect(map["DelaySeconds"] == "0")
        #expect(map["ReceiveMessageWaitTimeSeconds"] == "0")
        #expect(map["MaximumMessageSize"] == "1048576")
        #expect(map["FifoQueue"] == nil)
        #expect(map["RedrivePolicy"] == nil)
        let fifo = try QueueAttributes(sqsAttributes: ["FifoQueue": "true"], queueName: "orders.fifo")
        #expect(fifo.fifo)
        #expect(fifo.sqsAttributes["ContentBasedDeduplication"] == "false")
        #expect(fifo.sqsAttributes["DeduplicationScope"] == "queue")
    }

    @Test func valuesParseAndRoundTrip() throws {
        let input = [
            "VisibilityTimeout": "5", "MessageRetentionPeriod": "60", "DelaySeconds": "900",
            "ReceiveMessageWaitTimeSeconds": "20", "MaximumMessageSize": "1024", "Policy": "{}",
        ]
        let attributes = try QueueAttributes(sqsAttributes: input, queueName: "q")
        #expect(attributes.visibilityTimeout == 5)
        #expect(attributes.messageRetentionPeriod == 60)
        #expect(attributes.delaySeconds == 900)
        #expect(attributes.receiveMessageWaitTimeSeconds == 20)
        #expect(attributes.maximumMessageSize == 1024)
        let again = try QueueAttributes(sqsAttributes: attributes.sqsAttributes, queueName: "q")
        #expect(again == attributes)
    }

    @Test func outOfRangeAndUnknownNamesAreSQSErrors() {
        let cases: [([String: String], HeraldErrorCode, String)] = [
            (["VisibilityTimeout": "43201"], .invalidAttributeValue, "Invalid value for the parameter VisibilityTimeout."),
            (["MessageRetentionPeriod": "59"], .invalidAttributeValue, "Invalid value for the parameter MessageRetentionPeriod."),
            (["DelaySeconds": "-1"], .invalidAttributeValue, "Invalid value for the parameter DelaySeconds."),
            (["ReceiveMessageWaitTimeSeconds": "x"], .invalidAttributeValue, "Invalid value for the parameter ReceiveMessageWaitTimeSeconds."),
            (["MaximumMessageSize": "1023"], .invalidAttributeValue, "Invalid value for the parameter MaximumMessageSize."),
            (["Colour": "blue"], .invalidAttributeName, "Unknown Attribute Colour."),
            (["ContentBasedDeduplication": "true"], .invalidAttributeName, "Unknown Attribute ContentBasedDeduplication."),
        ]
        for (input, code, message) in cases {
            let error = QueueFixture.error { () throws(HeraldError) in try QueueAttributes(sqsAttributes: input, queueName: "q") }
            #expect(error == HeraldError(code, message), "\(input)")
        }
    }

    @Test func redrivePolicyTakesANumberOrAString() throws {
        let arn = "arn:aws:sqs:us-east-1:000000000000:dead"
        for count in ["5", "\"5\""] {
            let attributes = try QueueAttributes(
                sqsAttributes: ["RedrivePolicy": "{\"deadLetterTargetArn\":\"\(arn)\",\"maxReceiveCount\":\(count)}"], queueName: "q")
            #expect(attributes.redrivePolicy == RedrivePolicy(deadLetterTargetQueue: "dead", deadLetterTargetArn: arn, maxReceiveCount: 5))
            #expect(attributes.sqsAttributes["RedrivePolicy"] == "{\"deadLetterTargetArn\":\"\(arn)\",\"maxReceiveCount\":5}")
        }
        let cleared = try QueueAttributes(sqsAttributes: ["RedrivePolicy": "{\"deadLetterTargetArn\":\"\(arn)\",\"maxReceiveCount\":2}"], queueName: "q")
            .applying(["RedrivePolicy": ""])
        #expect(cleared.redrivePolicy == nil)
    }

    @Test func badRedrivePoliciesSaySo() {
        let arn = "arn:aws:sqs:us-east-1:000000000000:dead"
        let cases: [(String, String)] = [
            ("[1]", "Redrive policy is not a valid JSON map."),
            ("{\"maxReceiveCount\":5}", "Redrive policy does not contain mandatory attribute: deadLetterTargetArn."),
            ("{\"deadLetterTargetArn\":\"\(arn)\"}", "Redrive policy does not contain mandatory attribute: maxReceiveCount."),
            ("{\"deadLetterTargetArn\":\"\(arn)\",\"maxReceiveCount\":0}", "Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive."),
            ("{\"deadLetterTargetArn\":\"\(arn)\",\"maxReceiveCount\":1001}", "Invalid value for maxReceiveCount: 1001, valid values are from 1 to 1000 both inclusive."),
            ("{\"deadLetterTargetArn\":\"nope\",\"maxReceiveCount\":3}", "Invalid value for deadLetterTargetArn."),
        ]
        for (text, reason) in cases {
            let error = QueueFixture.error { () throws(HeraldError) in try QueueAttributes(sqsAttributes: ["RedrivePolicy": text], queueName: "q") }
            #expect(error == HeraldError(.invalidParameterValue, "Value \(text) for parameter RedrivePolicy is invalid. Reason: \(reason)"))
        }
    }

    @Test func queueNamesFollowSQSRules() {
        #expect(QueueFixture.error { () throws(HeraldError) in try QueueName.validate(String(repeating: "a", count: 80)) } == nil)
        #expect(QueueFixture.error { () throws(HeraldError) in try QueueName.validate(String(repeating: "a", count: 75) + ".fifo") } == nil)
        let standardText = "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        for bad in ["", String(repeating: "a", count: 81), "a.b", "a b", "é"] {
            #expect(QueueFixture.error { () throws(HeraldError) in try QueueName.validate(bad) } == HeraldError(.invalidParameterValue, standardText), "\(bad)")
        }
        // A .fifo name needs FifoQueue=true, and FifoQueue=true needs a .fifo name.
        #expect(QueueFixture.error { () throws(HeraldError) in try QueueAttributes(sqsAttributes: [:], queueName: "a.fifo") }?.message == standardText)
        let fifoError = QueueFixture.error { () throws(HeraldError) in try QueueAttributes(sqsAttributes: ["FifoQueue": "true"], queueName: "a") }
        #expect(fifoError?.message.hasPrefix("The name of a FIFO queue") == true)
        #expect(QueueFixture.error { () throws(HeraldError) in try QueueName.validate(String(repeating: "a", count: 76) + ".fifo") } != nil)
    }

    @Test func fifoQueueCannotChange() throws {
        let standard = try QueueAttributes(sqsAttributes: [:], queueName: "q")
        #expect(QueueFixture.error { () throws(HeraldError) in try standard.applying(["FifoQueue": "true"]) } == HeraldError(.invalidAttributeValue, "Invalid value for the parameter FifoQueue."))
        #expect(QueueFixture.error { () throws(HeraldError) in try standard.applying(["FifoQueue": "false"]) } == nil)
    }
}
