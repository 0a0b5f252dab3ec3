import HeraldCore

/// HeraldWire's one error type: why bytes are not a valid frame or attribute section.
///
/// `isFatal` says whether the byte stream can still be trusted. A fatal error leaves the decoder
/// failed (every later `next()` throws it again); the server answers with an `ERR` frame and closes.
/// A non-fatal error means one frame was well-delimited but had a bad field (for example an invalid
/// topic name): the decoder skipped exactly that frame and keeps going, and `reference` names the
/// request or subscription the `ERR` reply should carry.
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The control line's verb is not one this direction of the protocol knows.
        case unknownVerb
        /// Fields missing, extra or in the wrong form (including a bad option or a bad flag).
        case malformedLine
        /// No line end within the control-line limit.
        case lineTooLong
        /// A numeric field is not a decimal number or overflows.
        case invalidNumber
        /// Declared section lengths exceed the configured limits.
        case frameTooLarge
        /// The bytes after a frame's sections are not CRLF (or LF).
        case missingTerminator
        /// A token (topic, id, code) has characters or a length the protocol does not allow.
        case invalidToken
        /// INFO/CONNECT/CONNOK JSON is not valid or lacks a required member.
        case invalidJSON
        /// The attribute section does not follow the attribute encoding.
        case invalidAttributes
        /// The stream ended inside a frame.
        case truncated
    }

    public var code: Code
    public var message: String
    public var isFatal: Bool
    /// The request id (PUB) or subscription id (SUB) of the frame that failed, for the `ERR` reply.
    public var reference: ErrorReference
    /// Byte offset in the decoded stream where the problem was noticed (for diagnostics).
    public var offset: Int

    public init(_ code: Code, _ message: String, isFatal: Bool = true, reference: ErrorReference = .none, offset: Int = 0) {
        self.code = code
        self.message = message
        self.isFatal = isFatal
        self.reference = reference
        self.offset = offset
    }

    /// The client-visible code for an `ERR` frame reporting this error.
    public var heraldCode: HeraldErrorCode {
        switch code {
        case .frameTooLarge: return .frameTooLarge
        case .invalidToken where !isFatal: return .invalidParameter
        default: return .protocolError
        }
    }

    public var description: String { "\(code.rawValue) at byte \(offset): \(message)" }
}

/// A frame's first non-fatal field error, thrown once its sections are consumed. Boxed: the
/// headers the client decoder moves per frame stay small enough to be copied inline (with the
/// error inline a PUB header's line result was 129 bytes, and each move of it was a memcpy call).
struct DeferredError: Sendable {
    private final class Box: Sendable {
        let error: WireError
        init(_ error: WireError) { self.error = error }
    }

    private let box: Box?

    init() { box = nil }
    init(_ error: WireError) { box = Box(error) }

    var error: WireError? { box?.error }
}
