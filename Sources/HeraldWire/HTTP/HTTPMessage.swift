/// `HTTP/major.minor`. Herald speaks 1.1 and understands 1.0 peers.
public struct HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http11 = HTTPVersion(major: 1, minor: 1)
    public static let http10 = HTTPVersion(major: 1, minor: 0)

    public var description: String { "HTTP/\(major).\(minor)" }

    /// RFC 9112 §9.3: 1.1 persists unless `Connection: close`; 1.0 only with `Connection: keep-alive`.
    func keepAlive(_ headers: HTTPHeaders) -> Bool {
        if headers.hasToken("close", in: "Connection") { return false }
        if major < 1 || (major == 1 && minor == 0) {
            return headers.hasToken("keep-alive", in: "Connection")
        }
        return true
    }
}

/// A request as decoded by `HTTPRequestDecoder` or to be sent with `encode()`.
public struct HTTPRequest: Sendable, Hashable {
    public var method: String
    /// The raw request-target (`/path?query`, or absolute-form / authority-form / `*`), not decoded.
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Trailer fields of a chunked body (empty otherwise); kept for inspection, never merged into headers.
    public var trailers: HTTPHeaders

    public init(
        method: String, target: String, version: HTTPVersion = .http11, headers: HTTPHeaders = [:], body: [UInt8] = [],
        trailers: HTTPHeaders = [:]
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.trailers = trailers
    }

    /// Whether the connection may carry another request after this one's response.
    public var keepAlive: Bool { version.keepAlive(headers) }

    /// The target up to `?` (still percent-encoded).
    public var path: Substring { target.prefix { $0 != "?" } }

    /// The target after the first `?` (still encoded), nil without one.
    public var query: Substring? {
        guard let mark = target.firstIndex(of: "?") else { return nil }
        return target[target.index(after: mark)...]
    }
}

/// A response as decoded by `HTTPResponseDecoder` or to be sent with `encode()`.
public struct HTTPResponse: Sendable, Hashable {
    public var version: HTTPVersion
    public var status: Int
    public var reason: String
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Trailer fields of a chunked body (empty otherwise).
    public var trailers: HTTPHeaders

    /// `reason` defaults to the standard phrase of `status`.
    public init(
        version: HTTPVersion = .http11, status: Int, reason: String? = nil, headers: HTTPHeaders = [:], body: [UInt8] = [],
        trailers: HTTPHeaders = [:]
    ) {
        self.version = version
        self.status = status
        self.reason = reason ?? HTTPResponse.standardReason(status)
        self.headers = headers
        self.body = body
        self.trailers = trailers
    }

    /// Whether the connection may carry another request. A response the decoder read to connection
    /// close is the last one whatever its headers say (the peer has closed).
    public var keepAlive: Bool { version.keepAlive(headers) }

    /// Responses that never have a body (RFC 9110 §6.4.1), whatever their headers say.
    static func isBodyless(status: Int) -> Bool { (100..<200).contains(status) || status == 204 || status == 304 }

    public static func standardReason(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 411: return "Length Required"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return ""
        }
    }
}
