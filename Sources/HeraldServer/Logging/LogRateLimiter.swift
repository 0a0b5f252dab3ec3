// LogRateLimiter: at most `maxPerWindow` lines per event kind in each window, then silence and one
// summary of how many were dropped, so a port scan or a reconnect storm cannot flood the log.
// Pure: time comes in as monotonic nanoseconds (tests drive it by hand); the caller holds the lock.

/// Per-kind fixed windows: the first event of a kind opens a window of `window` nanoseconds; the
/// first `maxPerWindow` events in it are written, the rest dropped and counted. The count is
/// reported either by the first event after the window (`write(suppressedBefore:)`) or by `flush`,
/// which the owner calls once the window is over (so a scan that stops is still reported).
public struct LogRateLimiter<Kind: Hashable & Sendable>: Sendable {
    public enum Decision: Sendable, Equatable {
        /// Write the event. `suppressedBefore` events of this kind were dropped in the window that
        /// ended: report them first.
        case write(suppressedBefore: Int)
        /// Drop it. `firstInWindow`: the first drop of this window (the owner schedules a `flush`
        /// for the window's end).
        case suppress(firstInWindow: Bool)
    }

    public let maxPerWindow: Int
    public let windowNanoseconds: UInt64

    private struct Window {
        var start: UInt64
        var written: Int
        var suppressed: Int
    }
    /// One entry per kind seen recently: bounded by the number of kinds.
    private var windows: [Kind: Window] = [:]

    /// `maxPerWindow` below 1 is taken as 1 (every kind can always say something).
    public init(maxPerWindow: Int, windowNanoseconds: UInt64) {
        self.maxPerWindow = max(1, maxPerWindow)
        self.windowNanoseconds = max(1, windowNanoseconds)
    }

    /// Whether an event of `kind` at `now` is written.
    public mutating func admit(_ kind: Kind, now: UInt64) -> Decision {
        if var window = windows[kind], !isOver(window, now: now) {
            if window.written < maxPerWindow {
                window.written += 1
                windows[kind] = window
                return .write(suppressedBefore: 0)
            }
            window.suppressed += 1
            windows[kind] = window
            return .suppress(firstInWindow: window.suppressed == 1)
        }
        let dropped = windows[kind]?.suppressed ?? 0
        windows[kind] = Window(start: now, written: 1, suppressed: 0)
        return .write(suppressedBefore: dropped)
    }

    /// Ends the windows that are over at `now` and returns, in no particular order, the kinds whose
    /// window dropped events and how many. Each drop is reported once (here or by `admit`).
    public mutating func flush(now: UInt64) -> [(kind: Kind, suppressed: Int)] {
        var reports: [(kind: Kind, suppressed: Int)] = []
        for (kind, window) in windows where isOver(window, now: now) {
            if window.suppressed > 0 { reports.append((kind, window.suppressed)) }
            windows[kind] = nil
        }
        return reports
    }

    private func isOver(_ window: Window, now: UInt64) -> Bool {
        now < window.start || now - window.start >= windowNanoseconds
    }
}
