import HeraldBroker
import HeraldCore
import Testing
@testable import HeraldServer

/// CreateTopic / SetTopicAttributes attribute rules (SNS's texts), and the `topic/<name>` record.
@Suite struct TopicAttributesTests {
    @Test func fifoNamesNeedFifoTopicAndTheOtherWayRound() throws {
        let fifo = try TopicAttributes.forCreate(name: "events.fifo", ["FifoTopic": "TRUE"])
        #expect(fifo == ["FifoTopic": "true", "ContentBasedDeduplication": "false"])
        let error = #expect(throws: HeraldError.self) { try TopicAttributes.forCreate(name: "events", ["FifoTopic": "true"]) }
        #expect(error?.message == TopicAttributes.fifoNameText)
        #expect(error?.code == .invalidParameter)
        let named = #expect(throws: HeraldError.self) { try TopicAttributes.forCreate(name: "events.fifo", [:]) }
        #expect(named?.message == "Invalid parameter: Topic Name")
        let bad = #expect(throws: HeraldError.self) { try TopicAttributes.forCreate(name: "a b", [:]) }
        #expect(bad?.message == "Invalid parameter: Topic Name")
        #expect(try TopicAttributes.forCreate(name: "events", ["FifoTopic": "false"]) == [:])
        let notBool = #expect(throws: HeraldError.self) { try TopicAttributes.forCreate(name: "events.fifo", ["FifoTopic": "yes"]) }
        #expect(notBool?.message == "Invalid parameter: Attributes Reason: FifoTopic: Invalid value [yes]. Must be true or false.")
    }

    @Test func attributeValuesAreChecked() throws {
        let created = try TopicAttributes.forCreate(
            name: "orders", ["DisplayName": "Orders", "SignatureVersion": "2", "TracingConfig": "Active", "KmsMasterKeyId": "alias/aws/sns"])
        #expect(created == ["DisplayName": "Orders", "SignatureVersion": "2", "TracingConfig": "Active", "KmsMasterKeyId": "alias/aws/sns"])
        for (name, value) in [
            ("ContentBasedDeduplication", "true"), ("FifoThroughputScope", "Topic"), ("SignatureVersion", "3"), ("TracingConfig", "On"),
            ("Policy", "[]"), ("Bogus", "1"),
        ] {
            #expect(throws: HeraldError.self, "\(name)=\(value)") { try TopicAttributes.forCreate(name: "orders", [name: value]) }
        }
        // CreateTopic's texts carry "Attributes Reason:", SetTopicAttributes' do not (spec §3.2).
        let viaCreate = #expect(throws: HeraldError.self) {
            try TopicAttributes.forCreate(name: "orders", ["DeliveryPolicy": #"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":5,"numRetries":101}}}"#])
        }
        #expect(viaCreate?.message == "Invalid parameter: Attributes Reason: DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries must be less than or equal to 100")
        let viaSet = #expect(throws: HeraldError.self) {
            try TopicAttributes.setting("DeliveryPolicy", to: #"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":5,"numRetries":101}}}"#, in: [:], topic: "orders")
        }
        #expect(viaSet?.message == "Invalid parameter: DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries must be less than or equal to 100")
        let fifo = try TopicAttributes.forCreate(name: "e.fifo", ["FifoTopic": "true", "FifoThroughputScope": "MessageGroup", "ContentBasedDeduplication": "True"])
        #expect(fifo["FifoThroughputScope"] == "MessageGroup" && fifo["ContentBasedDeduplication"] == "true")
    }

    @Test func setTopicAttributesChangesOneAttribute() throws {
        let unknown = #expect(throws: HeraldError.self) { try TopicAttributes.setting("FifoTopic", to: "true", in: [:], topic: "orders") }
        #expect(unknown?.message == "Invalid parameter: AttributeName")
        var stored = try TopicAttributes.setting("DisplayName", to: "Orders", in: [:], topic: "orders")
        #expect(stored == ["DisplayName": "Orders"])
        stored = try TopicAttributes.setting("DisplayName", to: "", in: stored, topic: "orders")
        #expect(stored.isEmpty, "an empty value clears it")
        let fifo = try TopicAttributes.setting("ContentBasedDeduplication", to: "true", in: ["FifoTopic": "true"], topic: "e.fifo")
        #expect(TopicAttributes.deduplication(fifo, topic: "e.fifo") == .fifo(contentBasedDeduplication: true))
        #expect(TopicAttributes.deduplication([:], topic: "orders") == nil)
    }

    @Test func differentAttributesAreThoseTheRequestNames() {
        let existing = ["FifoTopic": "true", "ContentBasedDeduplication": "true", "DisplayName": "x"]
        #expect(!TopicAttributes.differ(requested: ["FifoTopic": "true"], existing: existing))
        #expect(!TopicAttributes.differ(requested: [:], existing: existing))
        #expect(TopicAttributes.differ(requested: ["ContentBasedDeduplication": "false"], existing: existing))
        #expect(TopicAttributes.differ(requested: ["DisplayName": "y"], existing: existing))
    }

    @Test func deliveryPolicyAndDefaultPolicy() throws {
        let text = #"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":5,"numRetries":9}}}"#
        #expect(TopicAttributes.deliveryPolicy(["DeliveryPolicy": text])?.defaultHealthyRetryPolicy?.numRetries == 9)
        #expect(TopicAttributes.deliveryPolicy([:]) == nil)
        let policy = try JSONParser.parse(TopicAttributes.defaultPolicy(topicArn: "arn:aws:sns:us-east-1:1:t", account: "1"), limits: .init(maxDepth: 16))
        guard case .array(let statements)? = policy["Statement"], let statement = statements.first else {
            Issue.record("no statement")
            return
        }
        #expect(statement["Resource"] == .string("arn:aws:sns:us-east-1:1:t"))
        #expect(statement["Condition"]?["StringEquals"]?["AWS:SourceOwner"] == .string("1"))
    }

    @Test func topicRecordRoundTrips() {
        let record = TopicRecord(name: "events.fifo", attributes: ["FifoTopic": "true", "DisplayName": "a \"quoted\" name"], createdAtMillis: 1_765_000_000_123)
        #expect(TopicRecord(decoding: record.encoded()) == record)
        #expect(TopicRecord.key("events.fifo") == "topic/events.fifo")
        #expect(TopicRecord.key("x").hasPrefix(TopicRecord.prefix))
        for garbage in ["", "{}", "[1]", #"{"name":"t","attributes":{"a":1},"createdAt":1}"#, #"{"name":"t","attributes":{},"createdAt":"1"}"#] {
            #expect(TopicRecord(decoding: Array(garbage.utf8)) == nil, "\(garbage)")
        }
    }
}
