import HeraldCore
import Testing

/// SNS Publish `MessageStructure=json` (spec §3.3): per-protocol texts, SNS's two error texts.
@Suite struct MessageStructureTests {
    @Test func eachProtocolGetsItsTextOrTheDefault() throws {
        let bodies = try ProtocolBodies.parse(message: #"{"default":"d","sqs":"s","https":"h","email":"e","http":7}"#)
        #expect(bodies.body(for: "sqs") == Array("s".utf8))
        #expect(bodies.body(for: "https") == Array("h".utf8))
        #expect(bodies.body(for: "http") == Array("d".utf8), "a non-string value is ignored")
        #expect(bodies.body(for: "stream") == Array("d".utf8))
        #expect(bodies.overrides["email"] == nil, "protocols Herald does not deliver to are not kept")
    }

    @Test func snsTexts() {
        for (message, text) in [
            ("not json", ProtocolBodies.failedToParse), (#"{"default":"#, ProtocolBodies.failedToParse),
            (#"{"sqs":"s"}"#, ProtocolBodies.noDefaultEntry), (#"{"default":1}"#, ProtocolBodies.noDefaultEntry),
            ("[1]", ProtocolBodies.noDefaultEntry), ("\"default\"", ProtocolBodies.noDefaultEntry),
        ] {
            let error = #expect(throws: HeraldError.self, "\(message)") { try ProtocolBodies.parse(message: message) }
            #expect(error?.message == text, "\(message)")
            #expect(error?.code == .invalidParameter)
        }
        #expect(ProtocolBodies.failedToParse == "Invalid parameter: Message Structure - JSON message body failed to parse")
        #expect(ProtocolBodies.noDefaultEntry == "Invalid parameter: Message Structure - No default entry in JSON message body")
    }

    @Test func aMessageCarriesItsBodiesUntilItsBodyChanges() {
        let bodies = ProtocolBodies(defaultBody: Array("d".utf8), overrides: ["sqs": Array("s".utf8)])
        var message = Message(id: MessageID(high: 1, low: 2), topic: "t", attributes: [:], body: bodies.defaultBody, protocolBodies: bodies)
        #expect(message.protocolBodies == bodies)
        message.topic = "u"
        #expect(message.protocolBodies == bodies)
        message.body = Array("new".utf8)
        #expect(message.protocolBodies == nil)
    }
}
