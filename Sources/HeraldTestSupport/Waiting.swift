// Waiting with a deadline: polling a condition (blocking or async) and a list handlers append to.
import Foundation
import Synchronization

/// Waits (polling, with a deadline) until `condition` holds; true when it did. Blocks the thread.
@discardableResult
public func waitUntil(_ timeout: Duration = .seconds(10), poll: Duration = .milliseconds(5), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: Double(poll.components.attoseconds) / 1e18 + Double(poll.components.seconds))
    }
    return condition()
}

/// Polls `condition` until true or the timeout passes, without blocking the thread.
public func eventually(_ timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

/// A thread-safe list that handlers append to and tests wait on.
public final class Collector<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    public init() {}

    public func append(_ item: Element) { items.withLock { $0.append(item) } }
    public var all: [Element] { items.withLock { $0 } }
    public var count: Int { items.withLock { $0.count } }

    public func waitForCount(_ n: Int, timeout: Duration = .seconds(10)) -> Bool {
        waitUntil(timeout) { count >= n }
    }
}
