// AWS Signature Version 4 verification for requests signed in the Authorization header, as
// botocore and the other SDKs sign them (spec/aws-api.md §8.2). Pure: the caller passes the request
// as received (method, raw path and query, headers, body) and the clock; the secret comes from a
// lookup. No I/O.

/// A request as the HTTP layer received it, for signature checks.
public struct SigV4Request: Sendable {
    public var method: String
    /// The path as received (still percent-encoded), without the query.
    public var path: String
    /// The raw query string after `?` (empty without one).
    public var query: String
    /// Header fields in arrival order (names in any case; repeated names allowed).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, path: String, query: String = "", headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    func values(_ name: String) -> [String] {
        let lower = name.lowercased()
        return headers.filter { $0.name.lowercased() == lower }.map(\.value)
    }
}

/// What a verified request is signed with.
public struct SigV4Credential: Sendable, Hashable {
    public var accessKeyID: String
    public var date: String
    public var region: String
    public var service: String
}

/// Why a request's signature is refused: AWS's codes, HTTP 403 with AWS's texts.
public struct SigV4Error: Error, Sendable, Hashable {
    public enum Code: String, Sendable {
        case missingAuthenticationToken = "MissingAuthenticationToken"
        case incompleteSignature = "IncompleteSignature"
        case invalidClientTokenId = "InvalidClientTokenId"
        case signatureDoesNotMatch = "SignatureDoesNotMatch"
    }

    public var code: Code
    public var message: String
    public var status: Int { 403 }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    static let mismatch = SigV4Error(
        .signatureDoesNotMatch,
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
    public static let unknownKey = SigV4Error(.invalidClientTokenId, "The security token included in the request is invalid.")
}

public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// How far a request's time may be from the server's (AWS: 15 minutes).
    public static let maxSkewSeconds: Int64 = 15 * 60

    /// The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header.
    public struct Authorization: Sendable, Hashable {
        public var credential: SigV4Credential
        public var signedHeaders: [String]
        public var signature: String
    }

    public static func parseAuthorization(_ header: String) throws(SigV4Error) -> Authorization {
        guard header.hasPrefix(algorithm + " ") else {
            throw SigV4Error(.incompleteSignature, "Authorization header requires the \(algorithm) algorithm.")
        }
        var fields: [String: String] = [:]
        for part in header.dropFirst(algorithm.count + 1).split(separator: ",") {
            let trimmed = part.trimmingSpaces()
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            fields[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
        }
        guard let credential = fields["Credential"], let signed = fields["SignedHeaders"], let signature = fields["Signature"] else {
            let missing = ["Credential", "SignedHeaders", "Signature"].filter { fields[$0] == nil }.joined(separator: ", ")
            throw SigV4Error(.incompleteSignature, "Authorization header requires \(missing) parameter(s). Authorization=\(header)")
        }
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, scope[4] == "aws4_request", !scope[0].isEmpty, scope[1].count == 8 else {
            throw SigV4Error(.incompleteSignature, "Credential should be scoped to a valid region and service, as <key>/<date>/<region>/<service>/aws4_request; got '\(credential)'.")
        }
        let headers = signed.split(separator: ";").map { $0.lowercased() }
        guard !headers.isEmpty, headers.contains("host") else {
            throw SigV4Error(.incompleteSignature, "SignedHeaders must include host; got '\(signed)'.")
        }
        return Authorization(
            credential: SigV4Credential(accessKeyID: scope[0], date: scope[1], region: scope[2], service: scope[3]),
            signedHeaders: headers, signature: signature.lowercased())
    }

    /// Verifies `request`'s header signature. `secret` looks up an access key's secret (nil:
    /// unknown key); `now` is seconds since 1970. Returns what it was signed with.
    public static func verify(
        _ request: SigV4Request, now: Int64, secret: (String) -> String?
    ) throws(SigV4Error) -> SigV4Credential {
        guard let header = request.values("Authorization").first else {
            throw SigV4Error(.missingAuthenticationToken, "Request is missing Authentication Token")
        }
        let authorization = try parseAuthorization(header)
        let credential = authorization.credential
        guard let amzDate = request.values("X-Amz-Date").first, let signedAt = parseAmzDate(amzDate) else {
            throw SigV4Error(.incompleteSignature, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        }
        guard amzDate.hasPrefix(credential.date) else {
            throw SigV4Error(.signatureDoesNotMatch, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '\(credential.date)' != '\(amzDate.prefix(8))'")
        }
        guard abs(now - signedAt) <= maxSkewSeconds else {
            throw SigV4Error(.signatureDoesNotMatch, "Signature expired: \(amzDate) is now earlier than or later than the server's time by more than 15 minutes.")
        }
        guard let key = secret(credential.accessKeyID) else { throw SigV4Error.unknownKey }
        let expected = signature(request, authorization: authorization, amzDate: amzDate, secret: key)
        guard constantTimeEqual(Array(expected.utf8), Array(authorization.signature.utf8)) else { throw SigV4Error.mismatch }
        return credential
    }

    /// The hex signature of `request` as `authorization` says it was signed.
    public static func signature(_ request: SigV4Request, authorization: Authorization, amzDate: String, secret: String) -> String {
        let canonical = canonicalRequest(request, signedHeaders: authorization.signedHeaders)
        let credential = authorization.credential
        let scope = "\(credential.date)/\(credential.region)/\(credential.service)/aws4_request"
        let toSign = "\(algorithm)\n\(amzDate)\n\(scope)\n\(SHA256.hex(Array(canonical.utf8)))"
        var key = HMACSHA256.authenticate(Array(credential.date.utf8), key: Array("AWS4\(secret)".utf8))
        for part in [credential.region, credential.service, "aws4_request"] { key = HMACSHA256.authenticate(Array(part.utf8), key: key) }
        return LowerHex.string(HMACSHA256.authenticate(Array(toSign.utf8), key: key))
    }

    /// Method, canonical URI, canonical query, canonical headers, signed headers, payload hash.
    public static func canonicalRequest(_ request: SigV4Request, signedHeaders: [String]) -> String {
        var lines: [String] = [request.method.uppercased(), canonicalURI(request.path), canonicalQuery(request.query)]
        var headerBlock = ""
        for name in signedHeaders {
            let value = request.values(name).map { $0.trimmingSpaces().collapsingSpaces() }.joined(separator: ",")
            headerBlock += "\(name):\(value)\n"
        }
        lines.append(headerBlock)
        lines.append(signedHeaders.joined(separator: ";"))
        lines.append(request.values("X-Amz-Content-SHA256").first ?? SHA256.hex(request.body))
        return lines.joined(separator: "\n")
    }

    /// The path with dot-segments removed, percent-encoded again (unreserved characters and `/` kept).
    static func canonicalURI(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            switch segment {
            case ".": continue
            case "..": if !segments.isEmpty { segments.removeLast() }
            default: segments.append(segment)
            }
        }
        var normalized = "/" + segments.joined(separator: "/")
        if path.hasSuffix("/") && !normalized.hasSuffix("/") { normalized += "/" }
        return encode(normalized, keepingSlash: true)
    }

    /// `k=v` pairs decoded (`%XX` only), re-encoded, sorted by key then value.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = encode(percentDecoded(parts[0]), keepingSlash: false)
            let value = parts.count > 1 ? encode(percentDecoded(parts[1]), keepingSlash: false) : ""
            return (key, value)
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static func encode(_ text: String, keepingSlash: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            let unreserved = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            if unreserved || (keepingSlash && byte == 0x2F) {
                out.append(byte)
            } else {
                out += [0x25, hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == 0x25, iterator.count >= 2, let high = hexValue(iterator[iterator.startIndex]), let low = hexValue(iterator[iterator.startIndex + 1]) {
                bytes.append(high << 4 | low)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x37
        case 0x61...0x66: return byte - 0x57
        default: return nil
        }
    }

    /// `yyyymmddTHHMMSSZ` → seconds since 1970 (UTC), nil when malformed.
    public static func parseAmzDate(_ text: String) -> Int64? {
        let digits = Array(text.utf8)
        guard digits.count == 16, digits[8] == 0x54, digits[15] == 0x5A else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for byte in digits[range] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
              let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86_400 + hour * 3_600 + minute * 60 + second
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> Substring {
        let scalars = Substring(self)
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return scalars[scalars.endIndex...] }
        let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" }) ?? first
        return scalars[first...last]
    }
}

extension Substring {
    /// Runs of spaces inside a header value become one space (SigV4's canonical form).
    fileprivate func collapsingSpaces() -> String {
        var out = ""
        var previousSpace = false
        for character in self {
            if character == " " || character == "\t" {
                if !previousSpace { out.append(" ") }
                previousSpace = true
            } else {
                out.append(character)
                previousSpace = false
            }
        }
        return out
    }
}
