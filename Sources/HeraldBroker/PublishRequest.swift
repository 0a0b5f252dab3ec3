import HeraldCore

/// One message as a publisher sent it: the session parses every PUB frame of a read event into
/// these and calls `Broker.publish` once. Size limits, attribute validation and permissions are
/// checked by the session before this point.
public struct PublishRequest: Sendable {
    public var topic: String
    public var attributes: MessageAttributes
    public var body: [UInt8]
    public var groupID: String?
    public var deduplicationID: String?
    /// SNS's `Subject` (the SNS API's Publish; none over the stream protocol).
    public var subject: String?
    /// Kept with the message for the protocol that carried it (`Message.transportCache`).
    public var transportCache: (any MessageTransportCache)?
    /// SNS `MessageStructure=json`: each protocol's text (`body` is their `default`).
    public var protocolBodies: ProtocolBodies?

    public init(
        topic: String, attributes: MessageAttributes = [:], body: [UInt8],
        groupID: String? = nil, deduplicationID: String? = nil
    ) {
        self.topic = topic
        self.attributes = attributes
        self.body = body
        self.groupID = groupID
        self.deduplicationID = deduplicationID
    }
}

extension Message {
    /// Bytes this message holds against pending-queue limits: body plus attributes as SNS counts
    /// them (the payload is shared, so this over-counts memory for fan-out; it is a bound).
    var retainedBytes: Int {
        var total = body.count
        let attributes = self.attributes
        if attributes.isEmpty { return total }  // iterating even an empty dictionary showed per publish
        for (name, value) in attributes { total += value.sizeInBytes(name: name) }
        return total
    }
}
