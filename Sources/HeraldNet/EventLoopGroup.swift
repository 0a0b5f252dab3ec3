// EventLoopGroup: a fixed pool of serial DispatchQueues (one per core by default). Every connection
// is pinned to one loop, round-robin, and all its work runs on that loop's queue — never a thread per
// connection. Each loop owns one read buffer shared by its connections: a loop is serial, and bytes
// are handed to handlers only for the duration of a callback.
import Dispatch
import Synchronization

public final class EventLoop: @unchecked Sendable {
    /// The serial queue every connection on this loop runs on.
    public let queue: DispatchQueue
    public let index: Int
    /// Shared decrypt buffer; touched only on `queue`.
    let readBuffer: UnsafeMutableRawBufferPointer

    static let readBufferSize = 64 * 1024

    init(index: Int, label: String) {
        self.index = index
        self.queue = DispatchQueue(label: "\(label).\(index)")
        self.readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readBufferSize, alignment: 16)
    }

    deinit { readBuffer.deallocate() }

    /// Runs `body` on this loop's queue.
    public func execute(_ body: @escaping @Sendable () -> Void) { queue.async(execute: body) }

    /// Runs `body` on this loop's queue after `delay`; cancel with the returned item's `cancel()`.
    @discardableResult
    public func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> DispatchWorkItem {
        let item = DispatchWorkItem(block: body)
        queue.asyncAfter(deadline: .now() + delay.dispatchInterval, execute: item)
        return item
    }

    /// True when the caller runs on this loop's queue.
    public var inEventLoop: Bool { Self.current === self }

    /// The loop whose queue runs the caller; nil off every loop.
    public static var current: EventLoop? { DispatchQueue.getSpecific(key: currentKey)?.loop }

    private static let currentKey = DispatchSpecificKey<CurrentLoop>()

    /// Held by the queue; weak so the queue does not keep its loop alive.
    private final class CurrentLoop: @unchecked Sendable {
        weak var loop: EventLoop?
        init(_ loop: EventLoop) { self.loop = loop }
    }

    func markQueue() { queue.setSpecific(key: Self.currentKey, value: CurrentLoop(self)) }

    /// Bodies handed to `executeBatched` and not yet run, and whether a run is scheduled.
    private let batched = Mutex<(bodies: [@Sendable () -> Void], scheduled: Bool)>(([], false))

    /// Runs `body` on this loop's queue, like `execute`, but bodies handed over while a run is
    /// pending join it: one dispatch per burst instead of one per body. For cheap work many
    /// threads hand one loop (dropping objects where they were allocated, see
    /// `ServerSession.deliver`).
    public func executeBatched(_ body: @escaping @Sendable () -> Void) {
        let schedule = batched.withLock { pending in
            pending.bodies.append(body)
            guard !pending.scheduled else { return false }
            pending.scheduled = true
            return true
        }
        guard schedule else { return }
        queue.async { [self] in
            let bodies = batched.withLock { pending in
                pending.scheduled = false
                var taken: [@Sendable () -> Void] = []
                swap(&taken, &pending.bodies)
                return taken
            }
            for body in bodies { body() }
        }
    }
}

public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]
    private let cursor = Atomic<Int>(0)

    /// `loopCount` defaults to the number of online cores (`sysconf(_SC_NPROCESSORS_ONLN)`).
    public init(loopCount: Int = Net.coreCount, label: String = "herald.loop") {
        let count = max(1, loopCount)
        loops = (0..<count).map { EventLoop(index: $0, label: label) }
        for loop in loops { loop.markQueue() }
    }

    /// The next loop, round-robin.
    public func next() -> EventLoop {
        let n = cursor.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
        return loops[n % loops.count]
    }

    /// A process-wide group sized by the core count, for callers that need no separate pool.
    public static let shared = EventLoopGroup()
}
