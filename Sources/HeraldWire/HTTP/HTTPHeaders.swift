/// One header field as it was received or will be sent: the name keeps its case.
public struct HTTPField: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// The header fields of a message, in order, duplicates kept; lookups ignore ASCII case.
public struct HTTPHeaders: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [HTTPField] = []

    public init() {}
    public init(_ fields: [HTTPField]) { self.fields = fields }
    public init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { HTTPField(name: $0.0, value: $0.1) }
    }

    public var startIndex: Int { fields.startIndex }
    public var endIndex: Int { fields.endIndex }
    public subscript(position: Int) -> HTTPField { fields[position] }

    /// The first value of `name`, or nil.
    public subscript(name: String) -> String? {
        fields.first { Self.namesEqual($0.name, name) }?.value
    }

    /// Every value of `name`, in order.
    public func values(for name: String) -> [String] {
        fields.filter { Self.namesEqual($0.name, name) }.map(\.value)
    }

    public func contains(_ name: String) -> Bool { fields.contains { Self.namesEqual($0.name, name) } }

    public mutating func append(_ name: String, _ value: String) {
        fields.append(HTTPField(name: name, value: value))
    }

    public mutating func append(_ field: HTTPField) { fields.append(field) }

    /// Replaces every field named `name` with one (appended at the end).
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        append(name, value)
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { Self.namesEqual($0.name, name) }
    }

    /// Whether a comma-separated list header (`Connection`, `Transfer-Encoding`) holds `token`,
    /// ignoring case and optional whitespace.
    public func hasToken(_ token: String, in name: String) -> Bool {
        listTokens(name).contains { Self.namesEqual($0, token) }
    }

    /// The elements of every `name` field, split at commas and trimmed; empty elements dropped.
    public func listTokens(_ name: String) -> [String] {
        values(for: name).flatMap { value in
            value.split(separator: ",").map { HTTPSyntax.trimmed(Substring($0)) }.filter { !$0.isEmpty }.map(String.init)
        }
    }

    static func namesEqual(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        let a = a.utf8, b = b.utf8
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { HTTPSyntax.lowercased($0) == HTTPSyntax.lowercased($1) }
    }
}
