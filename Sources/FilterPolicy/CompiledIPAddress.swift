/// IP address text → bytes for `cidr` conditions: IPv4 dotted quad (4 bytes) or IPv6 (16 bytes,
/// with `::` compression and an optional trailing dotted quad).

@usableFromInline
func parseIPAddress(_ p: UnsafePointer<UInt8>, _ n: Int) -> [UInt8]? {
    let bytes = UnsafeBufferPointer(start: p, count: n)
    if let v4 = parseIPv4(bytes[...]) { return v4 }
    return parseIPv6(bytes)
}

/// Four decimal parts 0–255 separated by dots; no leading zeros ("01" is rejected as ambiguous).
func parseIPv4(_ text: Slice<UnsafeBufferPointer<UInt8>>) -> [UInt8]? {
    var result: [UInt8] = []
    result.reserveCapacity(4)
    for part in text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
        guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if part.count > 1 && part.first == UInt8(ascii: "0") { return nil }
        let value = part.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        guard value <= 255 else { return nil }
        result.append(UInt8(value))
    }
    return result.count == 4 ? result : nil
}

func parseIPv6(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
    guard text.count >= 2, text.count <= 45 else { return nil }
    var head: [UInt16] = []
    var tail: [UInt16] = []
    var sawGap = false
    var tailV4: [UInt8]? = nil
    var i = 0
    let n = text.count
    if text[0] == UInt8(ascii: ":") {
        guard text[1] == UInt8(ascii: ":") else { return nil }
        sawGap = true
        i = 2
        if i == n { return [UInt8](repeating: 0, count: 16) }
    }
    while i < n {
        var j = i
        var value = 0
        while j < n, j - i < 5, let digit = hexDigit(text[j]) {
            value = value * 16 + digit
            j += 1
        }
        if j < n && text[j] == UInt8(ascii: ".") {
            // A trailing IPv4 part.
            guard let v4 = parseIPv4(text[i..<n]) else { return nil }
            tailV4 = v4
            i = n
            break
        }
        guard j > i, j - i <= 4 else { return nil }
        if sawGap { tail.append(UInt16(value)) } else { head.append(UInt16(value)) }
        i = j
        if i == n { break }
        guard text[i] == UInt8(ascii: ":") else { return nil }
        i += 1
        if i < n && text[i] == UInt8(ascii: ":") {
            if sawGap { return nil }
            sawGap = true
            i += 1
            if i == n { break }
        } else if i == n {
            return nil
        }
    }
    let groups = head.count + tail.count + (tailV4 == nil ? 0 : 2)
    if sawGap ? groups > 7 : groups != 8 { return nil }
    var result: [UInt8] = []
    result.reserveCapacity(16)
    for g in head { result.append(UInt8(g >> 8)); result.append(UInt8(g & 0xFF)) }
    if sawGap { result.append(contentsOf: repeatElement(0, count: 2 * (8 - groups))) }
    for g in tail { result.append(UInt8(g >> 8)); result.append(UInt8(g & 0xFF)) }
    if let tailV4 { result.append(contentsOf: tailV4) }
    return result
}

private func hexDigit(_ c: UInt8) -> Int? {
    switch c {
    case 0x30...0x39: return Int(c - 0x30)
    case 0x41...0x46: return Int(c - 0x41 + 10)
    case 0x61...0x66: return Int(c - 0x61 + 10)
    default: return nil
    }
}
