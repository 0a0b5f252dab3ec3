import ArgumentParser
import HeraldClient

/// What the queue and subscription commands share: one connection per command, and errors printed
/// as `herald: <code>: <message>` (exit 1).
enum QueueCLI {
    /// Connects with the common options, or fails with the connect error.
    static func connect(_ arguments: ConnectionArguments, name: String) throws -> HeraldClient {
        try arguments.connect(name: name)
    }

    /// Connects, runs `body`, closes; a `ClientError` from `body` prints and exits 1.
    static func run<T>(_ arguments: ConnectionArguments, name: String, _ body: (HeraldClient) throws(ClientError) -> T) throws -> T {
        let client = try connect(arguments, name: name)
        defer { client.close() }
        do {
            return try body(client)
        } catch {
            throw Terminal.fail("\(error)")
        }
    }
}

/// `30`, `30s`, `5m`, `12h`, `4d` (see `DurationText`), as seconds.
struct DurationArgument: ExpressibleByArgument, Sendable {
    var seconds: Int

    init?(argument: String) {
        guard let seconds = DurationText.seconds(argument) else { return nil }
        self.seconds = seconds
    }

    init(seconds: Int) { self.seconds = seconds }

    var defaultValueDescription: String { "\(seconds)s" }
}
