import Testing
@testable import HeraldCore

@Suite struct SNSEnvelopeTests {
    static let arn = "arn:herald:sns:local:000000000000:orders"
    static let unsubscribe = "https://herald.example/?Action=Unsubscribe&SubscriptionArn=arn:herald:sns:local:000000000000:orders:s1"
    static let signing = SNSEnvelope.Signing(version: .v1, signature: "c2ln", signingCertURL: "https://herald.example/signing-cert.pem")

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    func notification(subject: String? = nil, message: String = "hello", attributes: MessageAttributes = [:]) -> SNSEnvelope.Notification {
        SNSEnvelope.Notification(
            messageID: "5b0e6a4c-3f7e-4c2a-9d61-0f1e2d3c4b5a", topicArn: Self.arn, subject: subject,
            message: Array(message.utf8), timestampMilliseconds: 1_335_920_046_655, unsubscribeURL: Self.unsubscribe,
            attributes: attributes)
    }

    @Test func notificationWithoutSubjectOrAttributesIsByteExact() {
        let expected = #"{"Type":"Notification","MessageId":"5b0e6a4c-3f7e-4c2a-9d61-0f1e2d3c4b5a","TopicArn":"arn:herald:sns:local:000000000000:orders","Message":"hello","Timestamp":"2012-05-02T00:54:06.655Z","SignatureVersion":"1","Signature":"c2ln","SigningCertURL":"https://herald.example/signing-cert.pem","UnsubscribeURL":"https://herald.example/?Action=Unsubscribe&SubscriptionArn=arn:herald:sns:local:000000000000:orders:s1"}"#
        #expect(text(SNSEnvelope.notificationJSON(notification(), signing: Self.signing)) == expected)
    }

    @Test func subjectSitsBetweenTopicArnAndMessage() {
        let json = text(SNSEnvelope.notificationJSON(notification(subject: "Re: \"x\""), signing: Self.signing))
        #expect(json.contains(#""TopicArn":"arn:herald:sns:local:000000000000:orders","Subject":"Re: \"x\"","Message":"hello","#))
    }

    @Test func attributesComeLastSortedWithBinaryAsBase64() {
        let attributes: MessageAttributes = [
            "price": .number("99.12"), "blob": .binary([2, 3, 4]), "tags": .stringArray(json: #"["a","b"]"#),
            "store": .string("north"),
        ]
        let json = text(SNSEnvelope.notificationJSON(notification(attributes: attributes), signing: Self.signing))
        let expectedTail = #","UnsubscribeURL":"https://herald.example/?Action=Unsubscribe&SubscriptionArn=arn:herald:sns:local:000000000000:orders:s1","MessageAttributes":{"blob":{"Type":"Binary","Value":"AgME"},"price":{"Type":"Number","Value":"99.12"},"store":{"Type":"String","Value":"north"},"tags":{"Type":"String.Array","Value":"[\"a\",\"b\"]"}}}"#
        #expect(json.hasSuffix(expectedTail))
    }

    @Test func messageEscapesQuotesBackslashAndControlCharactersButKeepsUnicodeAndSlash() {
        let message = "a\"b\\c\nd\te\r\u{01}\u{1F}\u{08}\u{0C}/é😀\u{7F}"
        let json = text(SNSEnvelope.notificationJSON(notification(message: message), signing: Self.signing))
        #expect(json.contains(#""Message":"a\"b\\c\nd\te\r\u0001\u001f\b\f/é😀"# + "\u{7F}\","))
    }

    @Test func invalidUTF8InMessageBecomesReplacementCharacter() {
        var note = notification()
        note.message = [0x61, 0xFF, 0x62]
        let json = text(SNSEnvelope.notificationJSON(note, signing: Self.signing))
        #expect(json.contains(#""Message":"a\#u{FFFD}b""#))
    }

    @Test func fifoNotificationHasSequenceNumberAndNoSignatureFields() {
        let json = text(SNSEnvelope.fifoNotificationJSON(notification(subject: "s", attributes: ["k": .string("v")]), sequenceNumber: "10000000000000000001"))
        let expected = #"{"Type":"Notification","MessageId":"5b0e6a4c-3f7e-4c2a-9d61-0f1e2d3c4b5a","SequenceNumber":"10000000000000000001","TopicArn":"arn:herald:sns:local:000000000000:orders","Subject":"s","Message":"hello","Timestamp":"2012-05-02T00:54:06.655Z","UnsubscribeURL":"https://herald.example/?Action=Unsubscribe&SubscriptionArn=arn:herald:sns:local:000000000000:orders:s1","MessageAttributes":{"k":{"Type":"String","Value":"v"}}}"#
        #expect(json == expected)
    }

    @Test func signatureVersion2IsWrittenAsString() {
        let signing = SNSEnvelope.Signing(version: .v2, signature: "x", signingCertURL: "u")
        #expect(text(SNSEnvelope.notificationJSON(notification(), signing: signing)).contains(#""SignatureVersion":"2","Signature":"x","SigningCertURL":"u","#))
    }

    @Test(arguments: [
        (Int64(1_335_920_046_655), "2012-05-02T00:54:06.655Z"),
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (Int64(1_709_251_199_005), "2024-02-29T23:59:59.005Z"),
        (Int64(951_868_800_000), "2000-03-01T00:00:00.000Z"),
        (Int64(4_107_542_400_050), "2100-03-01T00:00:00.050Z"),
        (Int64(-1), "1969-12-31T23:59:59.999Z"),
        (Int64.max, "9999-12-31T23:59:59.999Z"),
        (Int64.min, "0000-01-01T00:00:00.000Z"),
    ])
    func timestampFormatting(milliseconds: Int64, expected: String) {
        #expect(SNSEnvelope.timestamp(milliseconds: milliseconds) == expected)
    }

    @Test func notificationStringToSignIsAlphabeticalAndUnescaped() {
        let withSubject = text(SNSEnvelope.stringToSign(notification(subject: "S\"1", message: "line1\nline2 \"q\"")))
        let expected = "Message\nline1\nline2 \"q\"\nMessageId\n5b0e6a4c-3f7e-4c2a-9d61-0f1e2d3c4b5a\nSubject\nS\"1\nTimestamp\n2012-05-02T00:54:06.655Z\nTopicArn\n\(Self.arn)\nType\nNotification\n"
        #expect(withSubject == expected)
        let withoutSubject = text(SNSEnvelope.stringToSign(notification(attributes: ["k": .string("v")])))
        #expect(withoutSubject == "Message\nhello\nMessageId\n5b0e6a4c-3f7e-4c2a-9d61-0f1e2d3c4b5a\nTimestamp\n2012-05-02T00:54:06.655Z\nTopicArn\n\(Self.arn)\nType\nNotification\n")
    }

    func confirmation(_ kind: SNSEnvelope.Confirmation.Kind) -> SNSEnvelope.Confirmation {
        SNSEnvelope.Confirmation(
            kind: kind, messageID: "m1", token: "tok", topicArn: Self.arn,
            message: SNSEnvelope.subscriptionConfirmationMessage(topicArn: Self.arn),
            subscribeURL: "https://herald.example/?Action=ConfirmSubscription&TopicArn=\(Self.arn)&Token=tok",
            timestampMilliseconds: 0)
    }

    @Test func subscriptionConfirmationBodyAndStringToSign() {
        let json = text(SNSEnvelope.confirmationJSON(confirmation(.subscription), signing: Self.signing))
        let expected = #"{"Type":"SubscriptionConfirmation","MessageId":"m1","Token":"tok","TopicArn":"arn:herald:sns:local:000000000000:orders","Message":"You have chosen to subscribe to the topic arn:herald:sns:local:000000000000:orders.\nTo confirm the subscription, visit the SubscribeURL included in this message.","SubscribeURL":"https://herald.example/?Action=ConfirmSubscription&TopicArn=arn:herald:sns:local:000000000000:orders&Token=tok","Timestamp":"1970-01-01T00:00:00.000Z","SignatureVersion":"1","Signature":"c2ln","SigningCertURL":"https://herald.example/signing-cert.pem"}"#
        #expect(json == expected)
        let signed = text(SNSEnvelope.stringToSign(confirmation(.unsubscribe)))
        let expectedSigned = "Message\nYou have chosen to subscribe to the topic \(Self.arn).\nTo confirm the subscription, visit the SubscribeURL included in this message.\n"
            + "MessageId\nm1\nSubscribeURL\nhttps://herald.example/?Action=ConfirmSubscription&TopicArn=\(Self.arn)&Token=tok\n"
            + "Timestamp\n1970-01-01T00:00:00.000Z\nToken\ntok\nTopicArn\n\(Self.arn)\nType\nUnsubscribeConfirmation\n"
        #expect(signed == expectedSigned)
    }

    @Test func unsubscribeConfirmationMessageIsSNSText() {
        #expect(SNSEnvelope.unsubscribeConfirmationMessage(subscriptionArn: "arn:s") == "You have chosen to deactivate subscription arn:s.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.")
    }

    @Test(arguments: [([UInt8](), ""), ([0x66], "Zg=="), ([0x66, 0x6F], "Zm8="), ([0x66, 0x6F, 0x6F], "Zm9v"), ([0xFF, 0xFE, 0xFD, 0x00], "//79AA==")])
    func base64(bytes: [UInt8], expected: String) {
        #expect(Base64.encode(bytes) == expected)
        #expect(Base64.decode(expected) == bytes)
    }
}
