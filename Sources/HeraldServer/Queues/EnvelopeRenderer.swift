import HeraldBroker
import HeraldCore
import HeraldNet
import HeraldStore

/// What a queue consumer receives for a message that came through a topic subscription without
/// raw delivery: SNS's JSON envelope (spec §4.1), signed as §4.5 says (FIFO topics: unsigned, with
/// a sequence number). The signature covers only fields of the publish, so it is the same for
/// every subscription; it is computed when the message is received, not when it is published.
struct EnvelopeRenderer: QueueMessageRenderer {
    let signer: MessageSigner
    let version: SNSEnvelope.SignatureVersion
    let identity: QueueIdentity
    /// Where `SigningCertURL` points (the HTTP API serves the certificate there).
    let signingCertURL: String

    func envelope(for message: StoredMessage, subscription: String) -> [UInt8] {
        let topicArn = identity.topicARN(message.topic)
        let subscriptionArn = identity.subscriptionARN(topic: message.topic, subscription: subscription)
        let notification = SNSEnvelope.Notification(
            messageID: message.messageID, topicArn: topicArn, subject: message.subject, message: message.body,
            timestampMilliseconds: message.sentAtMillis,
            unsubscribeURL: "\(identity.baseURL)/?Action=Unsubscribe&SubscriptionArn=\(subscriptionArn)",
            attributes: message.attributes)
        if TopicName.isFIFO(message.topic) {
            // SNS's FIFO sequence numbers are 128-bit and increasing; the journal's entry id is increasing.
            return SNSEnvelope.fifoNotificationJSON(notification, sequenceNumber: String(message.entry))
        }
        let signature = signer.sign(SNSEnvelope.stringToSign(notification), version: version)
        return SNSEnvelope.notificationJSON(
            notification, signing: SNSEnvelope.Signing(version: version, signature: signature, signingCertURL: signingCertURL))
    }
}

extension EnvelopeRenderer {
    /// A signed `SubscriptionConfirmation` or `UnsubscribeConfirmation` (§4.2) and its message id.
    func confirmation(
        _ kind: SNSEnvelope.Confirmation.Kind, topic: String, subscriptionArn: String, token: String, nowMillis: Int64
    ) -> (body: [UInt8], messageID: String) {
        var generator = SystemRandomNumberGenerator()
        let messageID = MessageID.version4(high: generator.next(), low: generator.next()).text
        let topicArn = identity.topicARN(topic)
        let text = kind == .subscription
            ? SNSEnvelope.subscriptionConfirmationMessage(topicArn: topicArn)
            : SNSEnvelope.unsubscribeConfirmationMessage(subscriptionArn: subscriptionArn)
        let confirmation = SNSEnvelope.Confirmation(
            kind: kind, messageID: messageID, token: token, topicArn: topicArn, message: text,
            subscribeURL: "\(identity.baseURL)/?Action=ConfirmSubscription&TopicArn=\(topicArn)&Token=\(token)",
            timestampMilliseconds: nowMillis)
        let signature = signer.sign(SNSEnvelope.stringToSign(confirmation), version: version)
        let body = SNSEnvelope.confirmationJSON(
            confirmation, signing: SNSEnvelope.Signing(version: version, signature: signature, signingCertURL: signingCertURL))
        return (body, messageID)
    }
}
