// LineLogHandler: the swift-log handler `herald serve` installs: one formatted line per event,
// handed to a sink (standard error in production, a collector in tests).
import Foundation
import Logging
import Synchronization

/// Formats each event with `LogLineFormatter` and passes the line to `sink`. The sink is called
/// on the logging thread; `LogLineSink.standardError` serialises whole lines so two threads never
/// interleave inside one.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public let formatter: LogLineFormatter
    public let sink: @Sendable (String) -> Void
    /// Milliseconds since 1970 (tests inject a fixed time).
    public let now: @Sendable () -> Int64

    public init(
        format: LogFormat, level: Logger.Level, sink: @escaping @Sendable (String) -> Void = LogLineSink.standardError,
        now: @escaping @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
    ) {
        self.formatter = LogLineFormatter(format: format)
        self.logLevel = level
        self.sink = sink
        self.now = now
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        if let error = event.error { fields["error"] = .string(String(describing: error)) }
        sink(formatter.line(millisecondsSince1970: now(), level: event.level, message: event.message.description, metadata: fields))
    }
}

/// Where log lines go.
public enum LogLineSink {
    private static let lock = Mutex<Void>(())

    /// Writes `line` and a newline to standard error in one `write(2)`, under a lock.
    public static let standardError: @Sendable (String) -> Void = { line in
        let bytes = Array((line + "\n").utf8)
        lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { write(2, $0.baseAddress.map { $0 + offset }, bytes.count - offset) }
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    return  // stderr gone: nothing better to do with a log line
                }
                offset += written
            }
        }
    }
}
