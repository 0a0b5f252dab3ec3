import HeraldCore
import Synchronization

/// How a topic deduplicates publishes (SNS FIFO rules, or Herald's opt-in idempotency keys on a
/// standard topic). Set per topic through `TopicConfiguration.deduplication`; a FIFO topic always
/// has one (`Broker.applyConfiguration` and auto-create supply `fifo(contentBasedDeduplication:)`).
public struct TopicDeduplicationPolicy: Sendable, Hashable {
    public enum Key: Sendable, Hashable {
        /// FIFO topics: the publish's `MessageDeduplicationId`, or the body's SHA-256 when the topic
        /// has content-based deduplication and no id was given.
        case messageDeduplicationID
        /// Standard topics: the value of this message attribute (messages without it pass through).
        case attribute(String)
        /// Standard topics: the SHA-256 of the body.
        case body
    }

    /// How long a key is remembered after its first publish, in nanoseconds (> 0).
    public var windowNanoseconds: UInt64
    public var key: Key
    /// SNS's `ContentBasedDeduplication` topic attribute (FIFO topics only).
    public var contentBasedDeduplication: Bool

    /// SNS's FIFO deduplication window: 5 minutes.
    public static let fifoWindowNanoseconds: UInt64 = 300_000_000_000

    public init(windowNanoseconds: UInt64, key: Key, contentBasedDeduplication: Bool = false) {
        self.windowNanoseconds = windowNanoseconds
        self.key = key
        self.contentBasedDeduplication = contentBasedDeduplication
    }

    /// `window` rounded down to nanoseconds (negative → 0, beyond UInt64 → UInt64.max).
    public init(window: Duration, key: Key, contentBasedDeduplication: Bool = false) {
        let (seconds, attoseconds) = window.components
        let nanoseconds: UInt64
        if seconds < 0 {
            nanoseconds = 0
        } else {
            let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
            let (sum, carry) = whole.addingReportingOverflow(UInt64(max(0, attoseconds / 1_000_000_000)))
            nanoseconds = overflow || carry ? .max : sum
        }
        self.init(windowNanoseconds: nanoseconds, key: key, contentBasedDeduplication: contentBasedDeduplication)
    }

    /// A FIFO topic's policy: SNS's 5-minute window on `MessageDeduplicationId`.
    public static func fifo(contentBasedDeduplication: Bool) -> Self {
        Self(windowNanoseconds: fifoWindowNanoseconds, key: .messageDeduplicationID, contentBasedDeduplication: contentBasedDeduplication)
    }

    /// Why this policy cannot apply to `topic` (nil when it can): FIFO keys on FIFO topics only,
    /// idempotency keys on standard topics only, a window of at least 1 ns, a non-empty attribute.
    func problem(topic: String) -> String? {
        let isFIFO = TopicName.isFIFO(topic)
        switch key {
        case .messageDeduplicationID where !isFIFO:
            return "Topic \(topic) is a standard topic: MessageDeduplicationId deduplication is for FIFO topics"
        case .attribute, .body:
            if isFIFO { return "Topic \(topic) is a FIFO topic: it deduplicates by MessageDeduplicationId, not idempotency keys" }
        case .messageDeduplicationID:
            break
        }
        if case .attribute(let name) = key, name.isEmpty { return "Topic \(topic): the deduplication attribute name is empty" }
        if contentBasedDeduplication && !isFIFO { return "Topic \(topic): ContentBasedDeduplication is for FIFO topics" }
        if windowNanoseconds == 0 { return "Topic \(topic): the deduplication window must be positive" }
        return nil
    }
}

/// One topic's deduplication window: key → the first message id published with it, until the
/// key's expiry. Pure apart from its lock: time comes in as `now` (the broker's injected clock,
/// monotonic nanoseconds) and body hashes from the broker's injected `contentHash`.
///
/// Contract: `Broker.publish` calls `key(for:)` and then `admit` from any publisher thread,
/// concurrently; `admit` takes this topic's lock once (no other lock is held or taken inside).
/// Topics without deduplication have no deduplicator at all, so they take no lock.
///
/// Memory: keys expire in insertion order (one window for the whole topic, monotonic `now`), so an
/// expiry ring swept on each `admit` drops them incrementally; the map holds at most the keys of
/// one window, and never more than `maxKeys` (past it, the oldest keys are forgotten early).
final class TopicDeduplicator: Sendable {
    let policy: TopicDeduplicationPolicy
    let maxKeys: Int
    private let state: Mutex<Window>

    /// Attribute values longer than this are remembered by their hash (bounds memory per key).
    static let maxKeyBytes = 128
    static let defaultMaxKeys = 1_000_000

    init(policy: TopicDeduplicationPolicy, maxKeys: Int = defaultMaxKeys) {
        self.policy = policy
        self.maxKeys = max(1, maxKeys)
        self.state = Mutex(Window())
    }

    /// What a publish's key derivation says.
    enum KeyResult {
        /// Deduplicate on this key.
        case key(String)
        /// Not deduplicated (a standard topic's message without the key attribute).
        case none
        /// Refused (a FIFO publish with neither an id nor content-based deduplication).
        case refused(BrokerError)
    }

    /// SNS's text for a FIFO publish that cannot be deduplicated.
    static let missingDeduplicationID =
        "The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"

    /// The request's key under this topic's policy. Hashes the body only when the key needs it.
    func key(for request: PublishRequest, contentHash: ([UInt8]) -> String) -> KeyResult {
        switch policy.key {
        case .messageDeduplicationID:
            if let id = request.deduplicationID, !id.isEmpty { return .key(id) }
            guard policy.contentBasedDeduplication else { return .refused(.invalidParameter(Self.missingDeduplicationID)) }
            return .key(contentHash(request.body))
        case .body:
            return .key(contentHash(request.body))
        case .attribute(let name):
            guard let value = request.attributes[name] else { return .none }
            // Prefixed by payload kind so a string never collides with a binary value's hex.
            switch value.payload {
            case .string(let text):
                return .key(text.utf8.count <= Self.maxKeyBytes ? "s" + text : "h" + contentHash(Array(text.utf8)))
            case .binary(let bytes):
                return .key("b" + contentHash(bytes))
            }
        }
    }

    /// The first message id of `key` when it was seen within the window before `now` (the
    /// publish is a duplicate); otherwise records `key` → `id` until `now + window` and returns nil.
    func admit(_ key: String, id: MessageID, now: UInt64) -> MessageID? {
        let window = policy.windowNanoseconds
        let maxKeys = self.maxKeys
        return state.withLock { st in
            st.sweep(now: now)
            if let seen = st.firstIDs[key] { return seen.id }
            let (sum, overflow) = now.addingReportingOverflow(window)
            let expiry = overflow ? UInt64.max : sum
            st.firstIDs[key] = (id, expiry)
            st.expiries.append((expiry, key))
            while st.firstIDs.count > maxKeys { st.dropOldest() }
            return nil
        }
    }

    /// Keys remembered now (tests, metrics).
    var keyCount: Int { state.withLock { $0.firstIDs.count } }
    /// Entries in the expiry ring (tests: bounded like the keys).
    var ringCount: Int { state.withLock { $0.expiries.count } }
}

/// A deduplicator's state behind its lock.
private struct Window {
    var firstIDs: [String: (id: MessageID, expiry: UInt64)] = [:]
    /// (expiry, key) in insertion order, which is expiry order.
    var expiries = ExpiryRing()

    /// Forgets every key whose expiry is at or before `now`.
    mutating func sweep(now: UInt64) {
        while let first = expiries.first, first.expiry <= now { dropOldest() }
    }

    mutating func dropOldest() {
        guard let (expiry, key) = expiries.popFirst() else { return }
        // A ring entry is current only while the map still holds that key with that expiry.
        if firstIDs[key]?.expiry == expiry { firstIDs.removeValue(forKey: key) }
    }
}

/// An array used as a queue: O(1) amortised append and pop, the dead prefix compacted away once
/// it is half the storage (so memory follows the live entries).
private struct ExpiryRing {
    private var storage: [(expiry: UInt64, key: String)] = []
    private var head = 0

    var count: Int { storage.count - head }
    var first: (expiry: UInt64, key: String)? { head < storage.count ? storage[head] : nil }

    mutating func append(_ entry: (expiry: UInt64, key: String)) { storage.append(entry) }

    mutating func popFirst() -> (expiry: UInt64, key: String)? {
        guard head < storage.count else { return nil }
        let entry = storage[head]
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: storage.count <= 1_024)
            head = 0
        } else if head >= 64 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return entry
    }
}
