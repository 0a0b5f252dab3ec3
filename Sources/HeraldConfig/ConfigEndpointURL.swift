/// Checks on the URLs Herald POSTs to (HTTP/S subscriptions' endpoints, managed consumers'), shared
/// by the config loader and the server's Subscribe action.
public enum EndpointURL {
    /// Why `text` is not an endpoint Herald can POST to, nil when it is: `http(s)://`, a host, an
    /// optional port 1–65535 and path; no spaces or control characters. (The server parses it again
    /// with HeraldWire's `HTTPURL`, which this module cannot import.)
    public static func problem(_ text: String) -> String? {
        let lower = text.lowercased()
        guard let scheme = ["http://", "https://"].first(where: { lower.hasPrefix($0) }) else {
            return "must start with http:// or https://"
        }
        guard text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value != 0x7F }) else {
            return "contains spaces, control or non-ASCII characters (percent-encode them)"
        }
        let authority = text.dropFirst(scheme.count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let hostAndPort = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? ""
        var host = Substring(hostAndPort)
        var port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return "the IPv6 host has no closing ']'" }
            let after = host[host.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return "unexpected characters after the IPv6 host" }
                port = after.dropFirst()
            }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.firstIndex(of: ":") {
            port = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty else { return "the host is missing" }
        if let port {
            guard port.count <= 5, let number = Int(port), (1...65_535).contains(number) else {
                return "port '\(port)' is not a number in 1...65535"
            }
        }
        return nil
    }

    /// The URL with `user:password@` cut out (problems must not print secrets).
    public static func withoutCredentials(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return text }
        return String(text[..<schemeEnd.upperBound]) + "…@" + String(rest[rest.index(after: at)...])
    }
}
