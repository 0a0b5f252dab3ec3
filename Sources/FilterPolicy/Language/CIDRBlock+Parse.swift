/// Parsing of `cidr` operands and of IP address values, following Event Ruler's `CIDR` class (the
/// SNS texts come from it): an address is tried as IPv4 when it looks like `d+.d+.d+.d+`, as IPv6
/// when it is made of hex digits and colons only, and is "Nonstandard" otherwise.
extension CIDRBlock {
    /// Parses `"address/mask"`, with Event Ruler's checks and texts, in its order.
    public static func parse(_ text: String) throws(FilterPolicyError) -> CIDRBlock {
        // Java's String.split("/") drops trailing empty pieces ("10.0.0.0/" has one piece).
        var pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        while let last = pieces.last, last.isEmpty { pieces.removeLast() }
        guard pieces.count == 2 else { throw invalid("Malformed CIDR, one '/' required") }
        guard let mask = javaParseInt(pieces[1]) else {
            throw invalid("Malformed CIDR, mask bits must be an integer")
        }
        guard mask >= 0 else { throw invalid("Malformed CIDR, mask bits must not be negative") }
        let addressText = String(pieces[0])
        let address: [UInt8]
        switch addressSyntax(addressText) {
        case .ipv4:
            guard let a = parseIPv4(addressText) else { throw invalid("Invalid IP address: \(addressText)") }
            address = a
            guard mask <= 31 else { throw invalid("IPv4 mask bits must be < 32") }
        case .ipv6:
            guard let a = parseIPv6(addressText) else { throw invalid("Invalid IP address: \(addressText)") }
            address = a
            guard mask <= 127 else { throw invalid("IPv6 mask bits must be < 128") }
        case .other:
            throw invalid("Nonstandard IP address: \(addressText)")
        }
        return CIDRBlock(address: address, prefixLength: mask)
    }

    /// The 4 or 16 bytes of an IPv4 dotted quad or IPv6 address text; nil for anything else.
    /// This is how message values are read for `cidr` matching.
    public static func parseAddress(_ text: String) -> [UInt8]? {
        switch addressSyntax(text) {
        case .ipv4: return parseIPv4(text)
        case .ipv6: return parseIPv6(text)
        case .other: return nil
        }
    }

    /// Whether `text` is an IP address inside this block.
    public func contains(address text: String) -> Bool {
        guard let ip = CIDRBlock.parseAddress(text) else { return false }
        return contains(ip)
    }

    private enum AddressSyntax { case ipv4, ipv6, other }

    /// Event Ruler's regexes: IPv4 `[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+`, IPv6 `[0-9a-fA-F:]*:[0-9a-fA-F:]*`.
    private static func addressSyntax(_ text: String) -> AddressSyntax {
        let bytes = Array(text.utf8)
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isDigit) }) { return .ipv4 }
        if bytes.contains(UInt8(ascii: ":")), bytes.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") }) {
            return .ipv6
        }
        return .other
    }

    /// Four decimal octets 0–255. A multi-digit octet with a leading zero is refused (modern
    /// Java refuses such ambiguous, octal-looking literals too).
    private static func parseIPv4(_ text: String) -> [UInt8]? {
        var result: [UInt8] = []
        for part in text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(isDigit) else { return nil }
            if part.count > 1 && part.first == UInt8(ascii: "0") { return nil }
            var value = 0
            for d in part { value = value * 10 + Int(d - UInt8(ascii: "0")) }
            guard value <= 255 else { return nil }
            result.append(UInt8(value))
        }
        return result.count == 4 ? result : nil
    }

    /// RFC 4291 text form with hex groups of 1–4 digits and at most one `::` (no embedded IPv4,
    /// which the syntax check above already excludes).
    private static func parseIPv6(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        var groups: [UInt16]
        if let gap = firstDoubleColon(bytes) {
            let headText = bytes[..<gap]
            let tailText = bytes[(gap + 2)...]
            guard firstDoubleColon(Array(tailText)) == nil,
                  let head = hexGroups(headText), let tail = hexGroups(tailText),
                  head.count + tail.count <= 7 else { return nil }
            groups = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let all = hexGroups(bytes[...]), all.count == 8 else { return nil }
            groups = all
        }
        var result: [UInt8] = []
        for g in groups {
            result.append(UInt8(g >> 8))
            result.append(UInt8(g & 0xFF))
        }
        return result
    }

    private static func firstDoubleColon(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 2 else { return nil }
        for i in 0..<(bytes.count - 1) where bytes[i] == UInt8(ascii: ":") && bytes[i + 1] == UInt8(ascii: ":") {
            return i
        }
        return nil
    }

    /// Colon-separated groups of 1–4 hex digits (empty text → no groups; an empty group → nil).
    private static func hexGroups(_ text: ArraySlice<UInt8>) -> [UInt16]? {
        if text.isEmpty { return [] }
        var groups: [UInt16] = []
        for piece in text.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false) {
            guard !piece.isEmpty, piece.count <= 4, piece.allSatisfy(isHexDigit) else { return nil }
            var value: UInt16 = 0
            for h in piece { value = value << 4 | UInt16(hexValue(h)) }
            groups.append(value)
        }
        return groups
    }

    /// Java's `Integer.parseInt`: optional sign, at least one decimal digit, fits in 32 bits.
    private static func javaParseInt(_ text: Substring) -> Int? {
        var digits = Substring(text)
        var negative = false
        if let f = digits.first, f == "+" || f == "-" {
            negative = f == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.utf8.allSatisfy(isDigit), digits.count <= 10 else { return nil }
        guard let magnitude = Int(digits) else { return nil }
        let value = negative ? -magnitude : magnitude
        guard value >= Int(Int32.min), value <= Int(Int32.max) else { return nil }
        return value
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private static func isHexDigit(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "F"))
    }

    private static func hexValue(_ b: UInt8) -> UInt8 {
        if isDigit(b) { return b - UInt8(ascii: "0") }
        if b >= UInt8(ascii: "a") { return b - UInt8(ascii: "a") + 10 }
        return b - UInt8(ascii: "A") + 10
    }

    private static func invalid(_ reason: String) -> FilterPolicyError {
        FilterPolicyError(.invalidPolicy, reason)
    }
}
