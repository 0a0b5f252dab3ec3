import HeraldCore
import Synchronization

/// Every filter policy of one topic compiled into one immutable index. Matching a message costs a
/// few hash/interval lookups per field the policies name, not a pass over every policy: each field
/// value finds the (branch, key) slots it satisfies, and branches count their satisfied keys.
///
/// Thread safety: the compiled data is immutable. Per-message state lives in a `MatchScratch`;
/// `match(attributes:body:scratch:)` with one scratch per thread is the lock-free fast path, and
/// `matches(attributes:body:)` borrows a scratch from a small internal pool.
public final class PolicyMatcher: Sendable {
    @usableFromInline let storage: CompiledStorage
    private let pool = Mutex<[PooledScratch]>([])

    init(storage: CompiledStorage) {
        self.storage = storage
    }

    /// An empty matcher (no subscriptions).
    public convenience init() {
        self.init(storage: CompiledStorage(CompiledParts()))
    }

    /// Number of subscriptions (with or without a policy) compiled into this snapshot.
    public var subscriptionCount: Int { storage.policyIDs.count + storage.unfilteredIDs.count }

    /// Whether some policy has MessageBody scope (otherwise the body is never read).
    public var readsBody: Bool { storage.hasBodyPolicies }

    /// The ids of every subscription whose policy matches, each once, in no particular order.
    public func matches(attributes: MessageAttributes, body: [UInt8]) -> [Int] {
        let scratch = pool.withLock { $0.popLast() }?.scratch ?? MatchScratch()
        let result = body.withUnsafeBytes { bytes in
            _ = match(attributes: attributes, body: bytes, scratch: scratch)
            return scratch.matchedIDs
        }
        let returned = PooledScratch(scratch: scratch)
        pool.withLock { cached in
            if cached.count < 8 { cached.append(returned) }
        }
        return result
    }

    /// The fast path: matches using caller-owned scratch state (one per thread; not shared).
    /// Returns the number of matching subscriptions; their ids are in `scratch.matchedIDs` until
    /// the scratch is used again.
    @discardableResult
    public func match(attributes: MessageAttributes, body: UnsafeRawBufferPointer, scratch: MatchScratch) -> Int {
        let storage = self.storage
        var context = scratch.begin(storage)
        if storage.hasAttributePolicies && !attributes.isEmpty {
            context.attributeFields(attributes)
        }
        var bodyValid = false
        if storage.hasBodyPolicies, let base = body.baseAddress {
            bodyValid = context.scanBody(base.assumingMemoryBound(to: UInt8.self), body.count)
        }
        context.finish(attributesEmpty: attributes.isEmpty, bodyValid: bodyValid)
        return withExtendedLifetime(storage) { scratch.state.pointee.matchedIDs.count }
    }
}

/// A scratch parked in the pool: owned by exactly one place at a time (the pool, under its lock, or
/// the one call that took it out), which is the transfer `Sendable` cannot express for a class.
private struct PooledScratch: @unchecked Sendable {
    let scratch: MatchScratch
}

/// Per-thread mutable state for matching: generation-stamped marks (so nothing is cleared between
/// messages) and reusable buffers. Not thread-safe; reuse one per thread or per worker.
public final class MatchScratch {
    /// Behind a pointer so the hot path mutates it without dynamic exclusivity checks.
    @usableFromInline let state: UnsafeMutablePointer<ScratchState>

    /// The ids matched by the last `PolicyMatcher.match` call with this scratch.
    public var matchedIDs: [Int] { state.pointee.matchedIDs }

    public init() {
        state = UnsafeMutablePointer<ScratchState>.allocate(capacity: 1)
        state.initialize(to: ScratchState())
    }

    deinit {
        state.pointee.free()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    func begin(_ storage: CompiledStorage) -> MatchContext {
        state.pointee.begin(storage)
        return MatchContext(storage: storage, state: state)
    }
}

@usableFromInline
struct ScratchState {
    @usableFromInline var matchedIDs: [Int] = []
    @usableFromInline var generation: UInt32 = 0
    var keyStamp = StampArray<UInt32>()
    /// Per branch: generation << 32 | satisfied positive keys, one word so a hit is one access.
    var branchState = StampArray<UInt64>()
    var pathStamp = StampArray<UInt32>()
    var policyStamp = StampArray<UInt32>()
    var candidates = StampArray<UInt32>()
    /// Beside each candidate: the deferred string id it needs recorded, or -1 (see `finish`).
    var candidateStrings = StampArray<Int32>()
    /// For reversed/lowercased copies of a value.
    @usableFromInline var buffer = GrowableBuffer<UInt8>()
    /// For JSON strings with escapes, decoded.
    @usableFromInline var unescaped = GrowableBuffer<UInt8>()
    @usableFromInline var stack = GrowableBuffer<Int32>()
    @usableFromInline var elements = GrowableBuffer<Int>()
    /// Fields at paths that deferred keys read, and the bytes of their strings.
    @usableFromInline var recorded = GrowableBuffer<RecordedField>()
    @usableFromInline var recordedBytes = GrowableBuffer<UInt8>()
    /// The text of the attribute being fed, copied out of the message (see `attributeFields`).
    @usableFromInline var attributeText = GrowableBuffer<UInt8>(capacity: 256)

    mutating func begin(_ storage: CompiledStorage) {
        var grew = keyStamp.reserve(storage.keySlots.count)
        grew = branchState.reserve(storage.branches.count) || grew
        grew = pathStamp.reserve(storage.paths.count) || grew
        grew = policyStamp.reserve(storage.policyIDs.count) || grew
        // Twice the branches: single-key branches may be listed more than once (see `hit`).
        grew = candidates.reserve(2 * storage.branches.count + 16) || grew
        _ = candidateStrings.reserve(candidates.capacity)
        generation &+= 1
        if generation == 0 || grew {
            // Wrapped (or fresh memory): stamps from 2^32 messages ago could collide.
            keyStamp.clear(); branchState.clear(); pathStamp.clear(); policyStamp.clear()
            generation = 1
        }
        matchedIDs.removeAll(keepingCapacity: true)
        if !storage.unfilteredIDs.isEmpty { matchedIDs.append(contentsOf: storage.unfilteredIDs) }
    }

    func free() {
        keyStamp.free(); branchState.free(); pathStamp.free(); policyStamp.free()
        candidates.free(); candidateStrings.free(); buffer.free(); unescaped.free(); stack.free(); elements.free(); recorded.free(); recordedBytes.free(); attributeText.free()
    }
}

/// A zero-initialised buffer of stamps that only grows.
struct StampArray<T: FixedWidthInteger> {
    var base = UnsafeMutablePointer<T>.allocate(capacity: 1)
    var capacity = 1

    init() { base.initialize(to: 0) }

    /// Ensures room for `count`; returns whether it reallocated (contents are then zero).
    @inline(__always)
    mutating func reserve(_ count: Int) -> Bool {
        if count <= capacity { return false }
        return grow(count)
    }

    @inline(never)
    mutating func grow(_ count: Int) -> Bool {
        base.deallocate()
        capacity = max(count, capacity * 2)
        base = UnsafeMutablePointer<T>.allocate(capacity: capacity)
        base.initialize(repeating: 0, count: capacity)
        return true
    }

    func clear() { base.update(repeating: 0, count: capacity) }
    func free() { base.deallocate() }
}

/// A scratch buffer of trivial elements that grows on demand.
@usableFromInline
struct GrowableBuffer<Element> {
    @usableFromInline var base: UnsafeMutablePointer<Element>
    @usableFromInline var capacity: Int

    init(capacity: Int = 64) {
        self.capacity = capacity
        base = UnsafeMutablePointer<Element>.allocate(capacity: capacity)
    }

    /// Ensures room for `count` elements, keeping the first `keep`.
    @usableFromInline
    mutating func reserve(_ count: Int, keep: Int) {
        if count <= capacity { return }
        let newCapacity = max(count, capacity * 2)
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        newBase.moveInitialize(from: base, count: keep)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    func free() { base.deallocate() }
}
