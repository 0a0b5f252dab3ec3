import HeraldCore
import Testing
@testable import HeraldServer

/// The query protocol's flattened parameters as the JSON shapes `ActionRequest` reads.
@Suite struct QueryParametersTests {
    @Test func mapsListsAndMessageAttributes() throws {
        let json = QueryParameters.json([
            "Action": "PublishBatch", "Version": "2010-03-31", "TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
            "Attributes.entry.1.key": "RawMessageDelivery", "Attributes.entry.1.value": "true",
            "Attributes.entry.2.key": "FilterPolicy", "Attributes.entry.2.value": "{}",
            "PublishBatchRequestEntries.member.2.Id": "b", "PublishBatchRequestEntries.member.2.Message": "second",
            "PublishBatchRequestEntries.member.1.Id": "a", "PublishBatchRequestEntries.member.1.Message": "first",
            "PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name": "price",
            "PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.DataType": "Number",
            "PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.StringValue": "5",
        ])
        let request = ActionRequest(json: json)
        #expect(json["Action"] == nil && json["Version"] == nil)
        #expect(try request.string("TopicArn") == "arn:aws:sns:us-east-1:000000000000:t")
        #expect(try request.stringMap("Attributes") == ["RawMessageDelivery": "true", "FilterPolicy": "{}"])
        let entries = try #require(try request.array("PublishBatchRequestEntries"))
        #expect(entries.count == 2)
        let first = ActionRequest(json: entries[0])
        #expect(try first.string("Id") == "a" && first.string("Message") == "first")
        #expect(try first.messageAttributes() == ["price": .number("5")])
        #expect(try ActionRequest(json: entries[1]).string("Id") == "b")
    }
}
