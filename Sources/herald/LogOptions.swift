import ArgumentParser
import HeraldServer
import Logging

/// `herald serve --log-level LEVEL --log-format text|json`: the operator log on standard error
/// (docs/OPERATIONS.md "Logs").
struct LogOptions: ParsableArguments {
    @Option(help: "The lowest level of log line written to standard error.")
    var logLevel: LogLevelOption = .info

    @Option(help: "text: one readable line per event; json: one JSON object per line.")
    var logFormat: LogFormatOption = .text

    /// The server's event log, writing to standard error.
    func makeEventLog() -> ServerEventLog {
        let handler = LineLogHandler(format: logFormat.format, level: logLevel.level)
        return ServerEventLog(logger: Logger(label: "herald", factory: { _ in handler }))
    }
}

enum LogLevelOption: String, CaseIterable, ExpressibleByArgument {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level {
        switch self {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }
}

enum LogFormatOption: String, CaseIterable, ExpressibleByArgument {
    case text, json

    var format: LogFormat {
        switch self {
        case .text: .text
        case .json: .json
        }
    }
}
