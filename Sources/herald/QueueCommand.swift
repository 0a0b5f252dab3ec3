import ArgumentParser
import HeraldClient
import HeraldCore

/// `herald queue …`: manage durable queues and their messages over the stream protocol (QREQ).
struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "Manage queues and their messages.",
        subcommands: [
            QueueCreateCommand.self, QueueDeleteCommand.self, QueuePurgeCommand.self, QueueStatsCommand.self,
            QueueRedriveCommand.self, QueueListCommand.self, QueueSendCommand.self, QueueReceiveCommand.self,
            QueueDeleteMessageCommand.self,
        ]
    )
}

/// `herald queue create NAME [--fifo] [--visibility 30] [--dead-letter DLQ --max-receives N] …`; prints the queue URL.
struct QueueCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a queue (prints its URL).")

    @OptionGroup var connection: ConnectionArguments

    @Argument(help: "Queue name (a FIFO queue's ends in .fifo).")
    var name: String

    @Flag(help: "A FIFO queue (exactly-once, ordered per message group).")
    var fifo = false

    @Option(help: "Visibility timeout: seconds, or 30s/5m/12h (server default 30s).")
    var visibility: DurationArgument?

    @Option(name: .customLong("dead-letter"), help: "Dead-letter queue (name or ARN) for messages received too often.")
    var deadLetter: String?

    @Option(name: .customLong("max-receives"), help: "Receives before a message moves to the dead-letter queue (1-1000).")
    var maxReceives: Int?

    @Option(help: "Retention: seconds, or 30m/12h/4d (server default 4d).")
    var retention: DurationArgument?

    @Option(help: "Delivery delay for new messages: seconds or 5m (server default 0).")
    var delay: DurationArgument?

    @Flag(name: .customLong("content-based-dedup"), help: "FIFO: deduplicate by a hash of the body.")
    var contentBasedDedup = false

    var settings: QueueSettings {
        QueueSettings(
            name: name, fifo: fifo, visibilitySeconds: visibility?.seconds, deadLetterQueue: deadLetter, maxReceives: maxReceives,
            retentionSeconds: retention?.seconds, delaySeconds: delay?.seconds, contentBasedDeduplication: contentBasedDedup)
    }

    func validate() throws {
        do {
            _ = try settings.attributes()
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() throws {
        let attributes: [String: String]
        do {
            attributes = try settings.attributes()
        } catch {
            throw Terminal.fail("\(error)")
        }
        let url = try QueueCLI.run(connection, name: "herald-queue") { client throws(ClientError) in
            try client.createQueue(name: name, attributes: attributes)
        }
        Terminal.out(url)
    }
}

struct QueueDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a queue and its messages.")

    @OptionGroup var connection: ConnectionArguments

    @Argument(help: "Queue name.")
    var name: String

    func run() throws {
        try QueueCLI.run(connection, name: "herald-queue") { client throws(ClientError) in try client.deleteQueue(name: name) }
    }
}

struct QueuePurgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "purge", abstract: "Delete every message in a queue.")

    @OptionGroup var connection: ConnectionArguments

    @Argument(help: "Queue name.")
    var name: String

    func run() throws {
        try QueueCLI.run(connection, name: "herald-queue") { client throws(ClientError) in try client.purgeQueue(name: name) }
    }
}

/// `herald queue stats NAME [--json]`: every attribute, approximate counts included.
struct QueueStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Print a queue's attributes and approximate message counts.")

    @OptionGroup var connection: ConnectionArguments

    @Argument(help: "Queue name.")
    var name: String

    @Flag(help: "Print one JSON object instead of Key: value lines.")
    var json = false

    func run() throws {
        let attributes = try QueueCLI.run(connection, name: "herald-queue") { client throws(ClientError) in try client.queueAttributes(name: name) }
        Terminal.printAttributes(attributes, json: json)
    }
}

/// `herald queue redrive DLQ [--to DEST]`: moves a dead-letter queue's messages back; prints the task handle.
struct QueueRedriveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "redrive", abstract: "Move a dead-letter queue's messages back to their source queues (or --to a queue).")

    @OptionGroup var connection: ConnectionArguments

    @Argument(help: "The dead-letter queue.")
    var name: String

    @Option(help: "Destination queue (default: the queues the messages came from).")
    var to: String?

    func run() throws {
        let task = try QueueCLI.run(connection, name: "herald-queue") { client throws(ClientError) in try client.redrive(source: name, destination: to) }
        Terminal.out(task.taskHandle)
    }
}

/// `herald queue list [--prefix P] [--format json|table]`.
struct QueueListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List queue names.")

    @OptionGroup var connection: ConnectionArguments

    @Option(help: "Only queues whose name starts with this.")
    var prefix: String?

    @Option(help: "json: one {\"QueueName\",\"QueueUrl\"} object per line (for scripts); table: aligned columns (for people).")
    var format: OutputFormat = .json

    func run() throws {
        let urls = try QueueCLI.run(connection, name: "herald-queue") { client throws(ClientError) in try client.listQueues(prefix: prefix) }
        Listing(
            columns: [.init(key: "QueueName", title: "NAME"), .init(key: "QueueUrl", title: "QUEUE URL")],
            rows: urls.map { [QueueReply.queueName(fromURL: $0), $0] }
        ).print(format)
    }
}
