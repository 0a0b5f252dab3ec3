import HeraldCore

/// An `http://` or `https://` URL split into what an HTTP client needs to reach it:
/// `http(s)://[user[:password]@]host[:port][/path][?query][#fragment]`.
///
/// The host is a DNS name, an IPv4 address or a bracketed IPv6 literal (`host` holds it without the
/// brackets); the port defaults to 80 / 443; the fragment is dropped (it never goes on the wire).
/// User and password are percent-decoded and become a Basic `Authorization` value (SNS sends the
/// credentials of an endpoint URL that way). Anything else — another scheme, an empty or invalid
/// host, a port outside 1…65535, spaces or control bytes — throws `invalidURL` with the reason.
public struct HTTPURL: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Hashable {
        case http, https

        public var defaultPort: Int { self == .http ? 80 : 443 }
    }

    public var scheme: Scheme
    public var user: String?
    public var password: String?
    /// Host name or address; an IPv6 literal without its brackets.
    public var host: String
    public var port: Int
    /// Path and query as sent on the request line (`/` when the URL has no path).
    public var requestTarget: String

    public init(_ text: String) throws(HTTPError) {
        let bytes = Array(text.utf8)
        guard bytes.allSatisfy(HTTPSyntax.isTargetByte) else {
            throw HTTPError(.invalidURL, "URL contains spaces, control bytes or non-ASCII characters (percent-encode them)")
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")),
            let scheme = Scheme(rawValue: String(decoding: bytes[..<colon].map(HTTPSyntax.lowercased), as: UTF8.self))
        else {
            throw HTTPError(.invalidURL, "URL must start with http:// or https://")
        }
        guard bytes[(colon + 1)...].starts(with: "//".utf8) else {
            throw HTTPError(.invalidURL, "URL must start with http:// or https://")
        }
        self.scheme = scheme
        let authorityStart = colon + 3
        let rest = bytes[authorityStart...]
        let authorityEnd = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? bytes.endIndex
        var hostPart = bytes[authorityStart..<authorityEnd]
        if let at = hostPart.lastIndex(of: UInt8(ascii: "@")) {
            let userinfo = hostPart[..<at]
            let separator = userinfo.firstIndex(of: UInt8(ascii: ":"))
            do {
                user = try FormURLEncoding.percentDecode(userinfo[..<(separator ?? userinfo.endIndex)])
                password = try separator.map { (index) throws(HTTPError) -> String in try FormURLEncoding.percentDecode(userinfo[(index + 1)...]) }
            } catch {
                throw HTTPError(.invalidURL, "URL user information: \(error.message)")
            }
            hostPart = hostPart[(at + 1)...]
        }
        var portPart: ArraySlice<UInt8> = []
        if hostPart.first == UInt8(ascii: "[") {
            guard let close = hostPart.firstIndex(of: UInt8(ascii: "]")) else { throw HTTPError(.invalidURL, "IPv6 host has no closing ']'") }
            let literal = hostPart[(hostPart.startIndex + 1)..<close]
            guard literal.contains(UInt8(ascii: ":")),
                literal.allSatisfy({ HTTPSyntax.hexValue($0) != nil || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") })
            else {
                throw HTTPError(.invalidURL, "'\(String(decoding: literal, as: UTF8.self))' is not an IPv6 address")
            }
            host = String(decoding: literal, as: UTF8.self)
            let after = hostPart[(close + 1)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else { throw HTTPError(.invalidURL, "unexpected characters after the IPv6 host") }
                portPart = after.dropFirst()
            }
        } else {
            let separator = hostPart.firstIndex(of: UInt8(ascii: ":"))
            let name = hostPart[..<(separator ?? hostPart.endIndex)]
            guard !name.isEmpty,
                name.allSatisfy({ HTTPSyntax.hexValue($0) != nil || (HTTPSyntax.isTokenByte($0) && !"!#$%&'*+^`|~".utf8.contains($0)) })
            else {
                throw HTTPError(.invalidURL, "host '\(String(decoding: name, as: UTF8.self))' is empty or has characters a host name may not have")
            }
            host = String(decoding: name, as: UTF8.self).lowercased()
            if let separator { portPart = hostPart[(separator + 1)...] }
        }
        if portPart.isEmpty {
            port = scheme.defaultPort
        } else {
            guard portPart.count <= 5, let port = HTTPSyntax.decimal(portPart), (1...65535).contains(port) else {
                throw HTTPError(.invalidURL, "port '\(String(decoding: portPart, as: UTF8.self))' is not a number in 1...65535")
            }
            self.port = port
        }
        let targetEnd = bytes[authorityEnd...].firstIndex(of: UInt8(ascii: "#")) ?? bytes.endIndex
        let target = bytes[authorityEnd..<targetEnd]
        requestTarget = target.first == UInt8(ascii: "/") ? String(decoding: target, as: UTF8.self) : "/" + String(decoding: target, as: UTF8.self)
    }

    public var isTLS: Bool { scheme == .https }

    /// The `Host` header value: the host (IPv6 in brackets) and the port when it is not the default.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == scheme.defaultPort ? name : "\(name):\(port)"
    }

    /// `Basic base64(user:password)` when the URL carries a user, else nil.
    public var basicAuthorization: String? {
        guard let user else { return nil }
        return "Basic " + Base64.encode(Array("\(user):\(password ?? "")".utf8))
    }

    /// The URL without its credentials (safe to log).
    public var description: String { "\(scheme.rawValue)://\(hostHeader)\(requestTarget)" }
}
