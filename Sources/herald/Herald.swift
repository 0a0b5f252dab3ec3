import ArgumentParser

/// The `herald` command line: the composition of subcommands, each in its own file.
@main
struct Herald: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "A self-hosted pub/sub broker with Amazon SNS semantics.",
        subcommands: [ServeCommand.self, PublishCommand.self, SubscribeCommand.self, QueueCommand.self, SubscriptionCommand.self, PolicyCommand.self, ConfigCommand.self, BenchCommand.self, TopCommand.self]
    )
}
