// NetError: the one error type of HeraldNet, plus helpers that turn errno and OpenSSL's per-thread
// error queue into readable text. Codes are stable (raw values) so callers can map them.
import CHeraldOpenSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public struct NetError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// A certificate, key or CA file is missing or unreadable.
        case fileNotFound = "file_not_found"
        /// A certificate or CA file could not be parsed.
        case invalidCertificate = "invalid_certificate"
        /// A private key file could not be parsed.
        case invalidPrivateKey = "invalid_private_key"
        /// The private key does not belong to the certificate.
        case keyMismatch = "key_mismatch"
        /// Any other OpenSSL configuration failure (context creation, cipher lists...).
        case tlsConfiguration = "tls_configuration"
        /// Host/port could not be resolved or parsed.
        case addressResolution = "address_resolution"
        /// socket/bind/listen/connect/fcntl failed.
        case socket = "socket"
        /// An operation on a closed object.
        case closed = "closed"
        /// A blocking operation timed out.
        case timeout = "timeout"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

enum ErrorText {
    /// Drains OpenSSL's error queue for this thread into one line ("" when empty).
    static func openSSL() -> String {
        var parts: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = buffer.withUnsafeBufferPointer { ptr -> String in
                guard let base = ptr.baseAddress else { return "" }
                return String(cString: base)
            }
            parts.append(text)
        }
        return parts.joined(separator: "; ")
    }

    static func errno(_ value: Int32) -> String {
        guard let cString = strerror(value) else { return "errno \(value)" }
        return String(cString: cString) + " (errno \(value))"
    }
}
