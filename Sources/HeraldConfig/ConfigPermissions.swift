import HeraldCore
/// What a client may do with topics: publish to them, subscribe to them.
public enum TopicAction: String, Sendable, Hashable, CaseIterable {
    case publish
    case subscribe
}

/// One entry of a `publish:`/`subscribe:` list: `*` (every topic), `orders*` (every topic whose
/// name starts with `orders`) or an exact topic name. A `*` anywhere but at the end is invalid.
public struct TopicPattern: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case anyTopic
        case prefix(String)
        case exact(String)
    }

    public var kind: Kind

    public init(kind: Kind) {
        self.kind = kind
    }

    /// nil when the text is not a valid pattern; `TopicPattern.problem(in:)` says why.
    public init?(_ text: String) {
        guard Self.problem(in: text) == nil else { return nil }
        if text == "*" {
            kind = .anyTopic
        } else if text.hasSuffix("*") {
            kind = .prefix(String(text.dropLast()))
        } else {
            kind = .exact(text)
        }
    }

    /// Why `text` is not a valid pattern, or nil when it is.
    public static func problem(in text: String) -> String? {
        if text == "*" { return nil }
        let body = text.hasSuffix("*") ? String(text.dropLast()) : text
        if body.isEmpty { return "empty topic pattern" }
        if body.contains("*") { return "'\(text)': '*' may only end a topic pattern (e.g. orders*)" }
        if text.hasSuffix("*") {
            guard body.count <= 256, body.allSatisfy({ TopicName.isNameCharacter($0) || $0 == "." })
            else { return "'\(text)': a topic prefix may only use A-Z a-z 0-9 _ - ." }
            return nil
        }
        return TopicName.problem(in: body)
    }

    public func matches(_ topic: String) -> Bool {
        switch kind {
        case .anyTopic: return true
        case .prefix(let prefix): return topic.hasPrefix(prefix)
        case .exact(let name): return topic == name
        }
    }

    public var description: String {
        switch kind {
        case .anyTopic: return "*"
        case .prefix(let prefix): return prefix + "*"
        case .exact(let name): return name
        }
    }
}

/// A user's rights: a topic is allowed for an action when any pattern of that action's list
/// matches it. An empty list allows nothing.
public struct Permissions: Sendable, Hashable {
    public var publish: [TopicPattern]
    public var subscribe: [TopicPattern]

    public init(publish: [TopicPattern] = [], subscribe: [TopicPattern] = []) {
        self.publish = publish
        self.subscribe = subscribe
    }

    public static let all = Permissions(publish: [TopicPattern(kind: .anyTopic)], subscribe: [TopicPattern(kind: .anyTopic)])
    public static let none = Permissions()

    public func allows(_ action: TopicAction, topic: String) -> Bool {
        let patterns = action == .publish ? publish : subscribe
        return patterns.contains { $0.matches(topic) }
    }
}

