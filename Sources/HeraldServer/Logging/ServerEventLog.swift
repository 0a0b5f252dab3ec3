// ServerEventLog: writes `ServerEvent`s to a swift-log `Logger`, rate-limited per event kind.
// Called from any thread (connection queues, signal handlers, `Server.start`); the limiter's lock
// is held only to decide, never while a line is written.
import Dispatch
import Logging
import Synchronization

/// The server's operator log. Each kind of event writes at most `maxPerWindow` lines per window;
/// past that its events are counted and one `suppressed N similar events` line follows at the
/// window's end (or before the next line of that kind, whichever comes first).
public final class ServerEventLog: Sendable {
    public let logger: Logger
    private let limiter: Mutex<LogRateLimiter<ServerEvent.Kind>>
    /// Monotonic nanoseconds (injected by tests).
    private let clock: @Sendable () -> UInt64
    private let windowNanoseconds: UInt64
    /// Schedules the end-of-window summary; tests that drive the clock by hand pass false and call `flush`.
    private let schedulesFlush: Bool

    /// A log that writes nothing (the default for servers built without one, as in most tests).
    public static let disabled = ServerEventLog(logger: Logger(label: "herald", factory: { _ in SwiftLogNoOpLogHandler() }))

    public init(
        logger: Logger, maxPerWindow: Int = 20, window: Duration = .seconds(1),
        clock: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }, schedulesFlush: Bool = true
    ) {
        self.logger = logger
        let nanoseconds = UInt64(max(0, window.components.seconds)) * 1_000_000_000 + UInt64(max(0, window.components.attoseconds / 1_000_000_000))
        self.windowNanoseconds = nanoseconds
        self.limiter = Mutex(LogRateLimiter(maxPerWindow: maxPerWindow, windowNanoseconds: nanoseconds))
        self.clock = clock
        self.schedulesFlush = schedulesFlush
    }

    /// Writes `event` unless its level is below the logger's or its kind is over its rate.
    public func report(_ event: ServerEvent) {
        guard logger.logLevel <= event.level else { return }
        let now = clock()
        let decision = limiter.withLock { $0.admit(event.kind, now: now) }
        switch decision {
        case .write(let suppressed):
            if suppressed > 0 { writeSuppressed(event.kind, count: suppressed) }
            var metadata = event.metadata
            metadata["event"] = .string(event.kind.rawValue)
            logger.log(level: event.level, "\(event.message)", metadata: metadata)
        case .suppress(let firstInWindow):
            guard firstInWindow, schedulesFlush else { return }
            DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: windowNanoseconds))) { [weak self] in self?.flush() }
        }
    }

    /// Writes the summary of every window that is over and dropped events.
    public func flush() {
        let now = clock()
        let reports = limiter.withLock { $0.flush(now: now) }
        for report in reports.sorted(by: { $0.kind.rawValue < $1.kind.rawValue }) {
            writeSuppressed(report.kind, count: report.suppressed)
        }
    }

    private func writeSuppressed(_ kind: ServerEvent.Kind, count: Int) {
        logger.warning("suppressed \(count) similar events", metadata: [
            "event": .string("suppressed"), "kind": .string(kind.rawValue), "suppressed": .stringConvertible(count),
        ])
    }
}
