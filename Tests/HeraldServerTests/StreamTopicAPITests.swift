import HeraldClient
import HeraldConfig
import HeraldCore
import HeraldTestSupport
import Testing
@testable import HeraldServer

/// QREQ CreateTopic / DeleteTopic / ListTopics / GetTopicAttributes in SNS's JSON shapes (TopicAPI), and their bad input.
extension Integration {
    @Suite struct StreamTopicAPITests {
        @Test func snsShapesAndClearErrors() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try server.client()
            defer { client.close() }
            let created = try client.queueRequest(action: "CreateTopic", json: Array(#"{"Name":"alerts"}"#.utf8)).get()
            #expect(created == .object([.init(key: "TopicArn", value: .string("arn:aws:sns:us-east-1:000000000000:alerts"))]))
            #expect(try client.listTopics() == ["arn:aws:sns:us-east-1:000000000000:alerts"])

            func failure(_ action: String, _ json: String) -> ClientError? {
                if case .failure(let error) = client.queueRequest(action: action, json: Array(json.utf8)) { return error }
                return nil
            }
            #expect(failure("CreateTopic", "{}")?.code == "MissingParameter")
            #expect(failure("CreateTopic", #"{"Name":"bad name!"}"#)?.code == "InvalidParameter")
            #expect(failure("CreateTopic", #"{"Name":"x","Attributes":{"Frobnicate":"X"}}"#)?.code == "InvalidParameter")
            #expect(failure("CreateTopic", #"{"Name":"x","Attributes":{"FifoTopic":"true"}}"#)?.message.contains("Fifo Topic names must end with .fifo") == true)
            // Attributes are kept, as over the SNS HTTP API (the same TopicAPI).
            let fifo = try client.createTopic(name: "jobs.fifo", attributes: ["FifoTopic": "true", "ContentBasedDeduplication": "true"])
            let attributes = try client.queueRequest(action: "GetTopicAttributes", json: Array(#"{"TopicArn":"\#(fifo)"}"#.utf8)).get()
            #expect(attributes["Attributes"]?["ContentBasedDeduplication"] == .string("true"))
            try client.deleteTopic(arn: fifo)
            #expect(failure("DeleteTopic", #"{"TopicArn":"alerts"}"#)?.message.hasPrefix("Invalid parameter: TopicArn") == true)
            #expect(failure("CreateTopic", "[1]")?.code == "InvalidParameterValue")

            #expect(try client.queueRequest(action: "DeleteTopic", json: Array(#"{"TopicArn":"arn:aws:sns:us-east-1:000000000000:alerts"}"#.utf8)).get() == .object([]))
            #expect(try client.listTopics().isEmpty)
            // A missing topic is no error (SNS), and the connection still serves.
            try client.deleteTopic(arn: "arn:aws:sns:us-east-1:000000000000:alerts")
            try server.assertServing()
        }
    }
}
