/// A `HOST:PORT` to listen on: an IPv4 address, a host name, or a bracketed IPv6 address
/// (`[::1]:4433`). Port 0 asks the system for a free port (tests).
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// Host without brackets (`127.0.0.1`, `::1`, `localhost`, `0.0.0.0`).
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` (as written in the config file or given to `--listen`).
    public init(parsing text: String) throws(ConfigError) {
        switch Self.parse(text) {
        case .success(let address): self = address
        case .failure(let problem): throw ConfigError(problem.description)
        }
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The address, or a sentence saying what is wrong with the text.
    static func parse(_ text: String) -> Result<ListenAddress, ListenAddressProblem> {
        let bad = { (why: String) in Result<ListenAddress, ListenAddressProblem>.failure(ListenAddressProblem(text: text, why: why)) }
        guard let colon = text.lastIndex(of: ":") else { return bad("expected HOST:PORT, e.g. 127.0.0.1:4433") }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCIIDigit), let port = Int(portText), port <= 65_535
        else { return bad("the port must be a number from 0 to 65535") }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { return bad("an IPv6 host must be written [ADDRESS]") }
            host = String(host.dropFirst().dropLast())
            guard host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }), host.contains(":")
            else { return bad("'\(host)' is not an IPv6 address") }
        } else {
            guard !host.isEmpty else { return bad("the host is missing (use 0.0.0.0 for every interface)") }
            guard !host.contains(":") else { return bad("write an IPv6 host in brackets, e.g. [::1]:4433") }
            guard host.count <= 253, host.allSatisfy({ $0.isASCIILetterOrDigit || $0 == "." || $0 == "-" })
            else { return bad("'\(host)' is not a host name or IP address") }
        }
        return .success(ListenAddress(host: host, port: UInt16(port)))
    }
}

struct ListenAddressProblem: Error, CustomStringConvertible {
    var text: String
    var why: String
    var description: String { "bad listen address '\(text)': \(why)" }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
    var isASCIILetterOrDigit: Bool { isASCII && (isLetter || isNumber) }
}
