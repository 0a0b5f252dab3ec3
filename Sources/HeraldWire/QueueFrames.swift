/// The queue frames (docs/PROTOCOL.md §"Queues"): a client sends `QREQ` with an SQS/SNS action name
/// and that action's SQS JSON protocol request body; the server answers `QRES` with the JSON response
/// body, or `ERR <code> <request-id> …`. The codec keeps the JSON as raw bytes: the server parses it
/// with the JSON model (HeraldCore) when it handles the action, so decoding stays cheap and the same
/// handling serves the SQS HTTP API later.

/// `QREQ <request-id> <action> <json-length>` + the JSON section.
public struct QueueRequestFrame: Sendable, Hashable {
    /// Shares the namespace of PUB request ids (a client uses one counter for both).
    public var requestID: UInt64
    /// SQS/SNS action name, e.g. `ReceiveMessage` (1–64 of `A-Z a-z 0-9`, see `QueueAction.isValid`).
    public var action: String
    /// The SQS JSON protocol request body, unparsed.
    public var json: [UInt8]

    public init(requestID: UInt64, action: String, json: [UInt8]) {
        self.requestID = requestID
        self.action = action
        self.json = json
    }
}

/// `QRES <request-id> <json-length>` + the JSON section. Replies may come in any order (a long-poll
/// receive answers late): match them by request id.
public struct QueueResponseFrame: Sendable, Hashable {
    public var requestID: UInt64
    /// The SQS JSON protocol response body, unparsed.
    public var json: [UInt8]

    public init(requestID: UInt64, json: [UInt8]) {
        self.requestID = requestID
        self.json = json
    }
}

/// The action token of a QREQ.
public enum QueueAction {
    public static let maxLength = 64

    /// 1–64 ASCII letters and digits.
    public static func isValid(_ action: String) -> Bool {
        var count = 0
        for byte in action.utf8 {
            guard isActionByte(byte) else { return false }
            count += 1
        }
        return (1...maxLength).contains(count)
    }

    @inline(__always)
    static func isActionByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
