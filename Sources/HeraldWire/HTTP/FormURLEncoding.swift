/// `application/x-www-form-urlencoded` bodies and query strings (the WHATWG form rules): pairs split
/// at `&`, name and value at the first `=`, `+` is a space, `%XX` a byte; the decoded bytes must be
/// UTF-8. The SNS/SQS query API reads its parameters with it; SubscribeURLs are built with `encode`.
/// Order and duplicates are kept (`Attributes.entry.1.key` style parameters rely on neither, but
/// an API must be able to refuse a duplicate).
public enum FormURLEncoding {
    /// The pairs of `text`; empty pairs (`a=1&&b=2`) are skipped, a pair without `=` has an empty value.
    /// Throws `invalidEncoding` for `%` not followed by two hex digits, or bytes that are not UTF-8.
    public static func decode(_ text: some StringProtocol) throws(HTTPError) -> [HTTPField] {
        try decode(bytes: Array(text.utf8))
    }

    public static func decode(bytes: [UInt8]) throws(HTTPError) -> [HTTPField] {
        var fields: [HTTPField] = []
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let name = try percentDecode(pair[..<(equals ?? pair.endIndex)], plusIsSpace: true)
            let value = try equals.map { (index) throws(HTTPError) -> String in try percentDecode(pair[(index + 1)...], plusIsSpace: true) } ?? ""
            fields.append(HTTPField(name: name, value: value))
        }
        return fields
    }

    /// `%XX` (and, when `plusIsSpace`, `+`) decoded; the result must be UTF-8.
    public static func percentDecode(_ bytes: some Collection<UInt8>, plusIsSpace: Bool = false) throws(HTTPError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(HTTPSyntax.hexValue), let low = iterator.next().flatMap(HTTPSyntax.hexValue) else {
                    throw HTTPError(.invalidEncoding, "'%' is not followed by two hexadecimal digits")
                }
                out.append(UInt8(high << 4 | low))
            case UInt8(ascii: "+") where plusIsSpace:
                out.append(HTTPSyntax.sp)
            default:
                out.append(byte)
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw HTTPError(.invalidEncoding, "percent-decoded text is not UTF-8")
        }
        return text
    }

    /// `name=value&…` with everything but `A-Z a-z 0-9 - . _ ~` percent-encoded (space as `%20`,
    /// which every decoder reads).
    public static func encode(_ fields: [HTTPField]) -> String {
        fields.map { percentEncode($0.name) + "=" + percentEncode($0.value) }.joined(separator: "&")
    }

    public static func percentEncode(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension HTTPRequest {
    /// The decoded query-string parameters of the target (none without `?`).
    public func queryParameters() throws(HTTPError) -> [HTTPField] {
        guard let query else { return [] }
        return try FormURLEncoding.decode(query)
    }
}
