// SNSEnvelope: the JSON documents Amazon SNS delivers to SQS (raw delivery off) and HTTP/S
// endpoints, byte for byte in AWS's field order (spec/sns-spec.md §4.1, §4.2), and the text that
// their signatures cover (§4.5). Pure: the caller brings the time (milliseconds since 1970) and the
// signature (base64, made by HeraldNet's MessageSigner over `stringToSign`), so this file does no
// I/O, reads no clock and links no crypto.
//
// Contract: every function is a pure, thread-safe computation; call from any thread.
// JSON choices: compact (no spaces); `"` `\` and control characters are escaped (`\b \f \n \r \t`
// in their short form as AWS's Jackson writes them, the rest as `\u00XX`); `/` and non-ASCII text
// stay as they are (AWS writes URLs unescaped); invalid UTF-8 in a message becomes U+FFFD so the
// document is always valid JSON. Attributes are written in byte order of their names (a dictionary
// has none; AWS's own order is not documented).

public enum SNSEnvelope {
    /// The three signature fields of a signed (standard-topic) document.
    public struct Signing: Sendable, Hashable {
        public var version: SignatureVersion
        /// Base64 of the RSA signature over `stringToSign(...)`.
        public var signature: String
        public var signingCertURL: String

        public init(version: SignatureVersion, signature: String, signingCertURL: String) {
            self.version = version
            self.signature = signature
            self.signingCertURL = signingCertURL
        }
    }

    /// SNS `SignatureVersion`: 1 is SHA1withRSA, 2 is SHA256withRSA (both PKCS#1 v1.5).
    public enum SignatureVersion: Int, Sendable, Hashable, CaseIterable {
        case v1 = 1
        case v2 = 2
    }

    /// What a `Notification` document says about one delivery.
    public struct Notification: Sendable, Hashable {
        public var messageID: String
        public var topicArn: String
        /// Present only when the publisher gave one; never written as null.
        public var subject: String?
        /// The published text (UTF-8).
        public var message: [UInt8]
        /// Publish time, milliseconds since 1970-01-01T00:00:00Z.
        public var timestampMilliseconds: Int64
        public var unsubscribeURL: String
        /// Written as `MessageAttributes` only when not empty.
        public var attributes: MessageAttributes

        public init(
            messageID: String, topicArn: String, subject: String? = nil, message: [UInt8],
            timestampMilliseconds: Int64, unsubscribeURL: String, attributes: MessageAttributes = [:]
        ) {
            self.messageID = messageID
            self.topicArn = topicArn
            self.subject = subject
            self.message = message
            self.timestampMilliseconds = timestampMilliseconds
            self.unsubscribeURL = unsubscribeURL
            self.attributes = attributes
        }
    }

    /// A `SubscriptionConfirmation` or `UnsubscribeConfirmation` (§4.2).
    public struct Confirmation: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable {
            case subscription = "SubscriptionConfirmation"
            case unsubscribe = "UnsubscribeConfirmation"
        }

        public var kind: Kind
        public var messageID: String
        public var token: String
        public var topicArn: String
        /// SNS's fixed sentence (see `subscriptionConfirmationMessage` / `unsubscribeConfirmationMessage`).
        public var message: String
        public var subscribeURL: String
        public var timestampMilliseconds: Int64

        public init(
            kind: Kind, messageID: String, token: String, topicArn: String, message: String,
            subscribeURL: String, timestampMilliseconds: Int64
        ) {
            self.kind = kind
            self.messageID = messageID
            self.token = token
            self.topicArn = topicArn
            self.message = message
            self.subscribeURL = subscribeURL
            self.timestampMilliseconds = timestampMilliseconds
        }
    }

    // MARK: - Documents

    /// A standard topic's signed `Notification`: Type, MessageId, TopicArn, [Subject], Message,
    /// Timestamp, SignatureVersion, Signature, SigningCertURL, UnsubscribeURL, [MessageAttributes].
    public static func notificationJSON(_ notification: Notification, signing: Signing) -> [UInt8] {
        var writer = ObjectWriter()
        writer.field("Type", "Notification")
        writer.field("MessageId", notification.messageID)
        writer.field("TopicArn", notification.topicArn)
        if let subject = notification.subject { writer.field("Subject", subject) }
        writer.field("Message", bytes: notification.message)
        writer.field("Timestamp", timestamp(milliseconds: notification.timestampMilliseconds))
        writer.signature(signing)
        writer.field("UnsubscribeURL", notification.unsubscribeURL)
        writer.attributes(notification.attributes)
        return writer.finish()
    }

    /// A FIFO topic's unsigned `Notification`: Type, MessageId, SequenceNumber, TopicArn, [Subject],
    /// Message, Timestamp, UnsubscribeURL, [MessageAttributes].
    public static func fifoNotificationJSON(_ notification: Notification, sequenceNumber: String) -> [UInt8] {
        var writer = ObjectWriter()
        writer.field("Type", "Notification")
        writer.field("MessageId", notification.messageID)
        writer.field("SequenceNumber", sequenceNumber)
        writer.field("TopicArn", notification.topicArn)
        if let subject = notification.subject { writer.field("Subject", subject) }
        writer.field("Message", bytes: notification.message)
        writer.field("Timestamp", timestamp(milliseconds: notification.timestampMilliseconds))
        writer.field("UnsubscribeURL", notification.unsubscribeURL)
        writer.attributes(notification.attributes)
        return writer.finish()
    }

    /// Type, MessageId, Token, TopicArn, Message, SubscribeURL, Timestamp, SignatureVersion,
    /// Signature, SigningCertURL.
    public static func confirmationJSON(_ confirmation: Confirmation, signing: Signing) -> [UInt8] {
        var writer = ObjectWriter()
        writer.field("Type", confirmation.kind.rawValue)
        writer.field("MessageId", confirmation.messageID)
        writer.field("Token", confirmation.token)
        writer.field("TopicArn", confirmation.topicArn)
        writer.field("Message", confirmation.message)
        writer.field("SubscribeURL", confirmation.subscribeURL)
        writer.field("Timestamp", timestamp(milliseconds: confirmation.timestampMilliseconds))
        writer.signature(signing)
        return writer.finish()
    }

    /// `You have chosen to subscribe to the topic <arn>.\nTo confirm the subscription, ...`
    public static func subscriptionConfirmationMessage(topicArn: String) -> String {
        "You have chosen to subscribe to the topic \(topicArn).\nTo confirm the subscription, visit the SubscribeURL included in this message."
    }

    /// `You have chosen to deactivate subscription <arn>.\nTo cancel this operation ...`
    public static func unsubscribeConfirmationMessage(subscriptionArn: String) -> String {
        "You have chosen to deactivate subscription \(subscriptionArn).\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
    }

    // MARK: - String to sign (§4.5)

    /// `Message`, `MessageId`, [`Subject`], `Timestamp`, `TopicArn`, `Type`, each as
    /// "Name\nValue\n" with the unescaped value.
    public static func stringToSign(_ notification: Notification) -> [UInt8] {
        var text: [UInt8] = []
        append(&text, "Message", notification.message)
        append(&text, "MessageId", Array(notification.messageID.utf8))
        if let subject = notification.subject { append(&text, "Subject", Array(subject.utf8)) }
        append(&text, "Timestamp", Array(timestamp(milliseconds: notification.timestampMilliseconds).utf8))
        append(&text, "TopicArn", Array(notification.topicArn.utf8))
        append(&text, "Type", Array("Notification".utf8))
        return text
    }

    /// `Message`, `MessageId`, `SubscribeURL`, `Timestamp`, `Token`, `TopicArn`, `Type`.
    public static func stringToSign(_ confirmation: Confirmation) -> [UInt8] {
        var text: [UInt8] = []
        append(&text, "Message", Array(confirmation.message.utf8))
        append(&text, "MessageId", Array(confirmation.messageID.utf8))
        append(&text, "SubscribeURL", Array(confirmation.subscribeURL.utf8))
        append(&text, "Timestamp", Array(timestamp(milliseconds: confirmation.timestampMilliseconds).utf8))
        append(&text, "Token", Array(confirmation.token.utf8))
        append(&text, "TopicArn", Array(confirmation.topicArn.utf8))
        append(&text, "Type", Array(confirmation.kind.rawValue.utf8))
        return text
    }

    private static func append(_ text: inout [UInt8], _ name: String, _ value: [UInt8]) {
        text.append(contentsOf: name.utf8)
        text.append(0x0A)
        text.append(contentsOf: value)
        text.append(0x0A)
    }

    // MARK: - Timestamp

    /// ISO-8601 UTC with milliseconds, `2012-05-02T00:54:06.655Z`, from milliseconds since 1970
    /// (proleptic Gregorian; times before 1970 work too). Years outside 0...9999 are clamped there
    /// so the text keeps its fixed shape.
    public static func timestamp(milliseconds: Int64) -> String {
        let msPerDay: Int64 = 86_400_000
        // Bounds: 0000-01-01 and 9999-12-31T23:59:59.999 (keeps the arithmetic far from overflow).
        let clamped = min(max(milliseconds, -62_167_219_200_000), 253_402_300_799_999)
        let days = floorDivide(clamped, msPerDay)
        let inDay = clamped - days * msPerDay
        let (year, month, day) = civilDate(daysSince1970: days)
        let hour = inDay / 3_600_000, minute = inDay / 60_000 % 60, second = inDay / 1000 % 60, ms = inDay % 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(ms, 3))Z"
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Howard Hinnant's `civil_from_days`: eras of 400 years, March-based years so the leap day
    /// falls at the end.
    private static func civilDate(daysSince1970: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSince1970 + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

// MARK: - JSON writing

extension SNSEnvelope {
    /// Appends `"Name":"value"` pairs to one compact JSON object.
    struct ObjectWriter {
        private var bytes: [UInt8] = [UInt8(ascii: "{")]
        private var first = true

        mutating func field(_ name: String, _ value: String) {
            key(name)
            JSONValue.writeString(value, to: &bytes)
        }

        mutating func field(_ name: String, bytes value: [UInt8]) {
            key(name)
            // Repairs invalid UTF-8 (U+FFFD) so the document stays valid JSON.
            JSONValue.writeString(String(decoding: value, as: UTF8.self), to: &bytes)
        }

        mutating func signature(_ signing: Signing) {
            field("SignatureVersion", String(signing.version.rawValue))
            field("Signature", signing.signature)
            field("SigningCertURL", signing.signingCertURL)
        }

        /// `"MessageAttributes":{"name":{"Type":"...","Value":"..."},...}`, omitted when empty.
        mutating func attributes(_ attributes: MessageAttributes) {
            guard !attributes.isEmpty else { return }
            key("MessageAttributes")
            bytes.append(UInt8(ascii: "{"))
            let names = attributes.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, name) in names.enumerated() {
                guard let value = attributes[name] else { continue }
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                JSONValue.writeString(name, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                var inner = ObjectWriter()
                inner.field("Type", value.dataType)
                switch value.payload {
                case .string(let text): inner.field("Value", text)
                case .binary(let data): inner.field("Value", Base64.encode(data))
                }
                bytes.append(contentsOf: inner.finish())
            }
            bytes.append(UInt8(ascii: "}"))
        }

        private mutating func key(_ name: String) {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            JSONValue.writeString(name, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
        }

        consuming func finish() -> [UInt8] {
            bytes.append(UInt8(ascii: "}"))
            return bytes
        }
    }

}
