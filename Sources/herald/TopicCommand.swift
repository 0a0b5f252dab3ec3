import ArgumentParser
import HeraldClient
import HeraldCore

/// `herald topic …`: SNS topics over the stream protocol (QREQ CreateTopic/DeleteTopic/ListTopics).
struct TopicCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topic", abstract: "Create, list and delete topics.",
        subcommands: [TopicCreateCommand.self, TopicListCommand.self, TopicDeleteCommand.self]
    )
}

/// `herald topic create NAME [--attribute K=V…]`: prints the topic ARN.
struct TopicCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a topic (prints its ARN; an existing topic is no error).")

    @OptionGroup var connection: ConnectionArguments

    @Argument(help: "Topic name (a FIFO topic's ends in .fifo).")
    var name: String

    @Option(name: .customLong("attribute"), help: ArgumentHelp("An SNS topic attribute, e.g. FifoTopic=true (repeatable).", valueName: "K=V"))
    var attributes: [TopicAttributeArgument] = []

    func validate() throws {
        var seen: Set<String> = []
        for attribute in attributes where !seen.insert(attribute.key).inserted {
            throw ValidationError("attribute \(attribute.key) given twice")
        }
    }

    func run() throws {
        let map = Dictionary(attributes.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        let arn = try QueueCLI.run(connection, name: "herald-topic") { client throws(ClientError) in
            try client.createTopic(name: name, attributes: map)
        }
        Terminal.out(arn)
    }
}

/// `herald topic list [--format json|table]`.
struct TopicListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the topics you may publish or subscribe to.")

    @OptionGroup var connection: ConnectionArguments

    @Option(help: "json: one {\"Name\",\"TopicArn\"} object per line (for scripts); table: aligned columns (for people).")
    var format: OutputFormat = .json

    func run() throws {
        let arns = try QueueCLI.run(connection, name: "herald-topic") { client throws(ClientError) in try client.listTopics() }
        Listing(
            columns: [.init(key: "Name", title: "NAME"), .init(key: "TopicArn", title: "TOPIC ARN")],
            rows: arns.map { [TopicARN.name($0), $0] }
        ).print(format)
    }
}

/// `herald topic delete NAME`: the topic and every subscription on it.
struct TopicDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a topic and its subscriptions.")

    @OptionGroup var connection: ConnectionArguments

    @Argument(help: "Topic name (or its ARN).")
    var name: String

    func run() throws {
        try QueueCLI.run(connection, name: "herald-topic") { client throws(ClientError) in
            // DeleteTopic names the topic by ARN; the server's ARN (region, account) comes from ListTopics.
            let arn: String
            if name.hasPrefix("arn:") {
                arn = name
            } else if let listed = try client.listTopics().first(where: { TopicARN.name($0) == name }) {
                arn = listed
            } else {
                throw ClientError(code: "NotFound", message: "no topic named \(name) (herald topic list shows the topics you may see)")
            }
            try client.deleteTopic(arn: arn)
        }
    }
}

/// `--attribute K=V` of `topic create`.
struct TopicAttributeArgument: ExpressibleByArgument, Sendable {
    var key: String
    var value: String

    init?(argument: String) {
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else { return nil }
        key = String(argument[..<equals])
        value = String(argument[argument.index(after: equals)...])
    }
}

/// The last part of an SNS ARN (`arn:aws:sns:REGION:ACCOUNT:NAME`): the topic's name.
enum TopicARN {
    static func name(_ arn: String) -> String {
        arn.split(separator: ":", omittingEmptySubsequences: false).last.map(String.init) ?? arn
    }
}
