import ArgumentParser
import Foundation

/// The `herald` command line: the composition of subcommands, each in its own file.
@main
struct Herald: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "A self-hosted pub/sub broker with Amazon SNS semantics.",
        subcommands: [
            ServeCommand.self, PublishCommand.self, SubscribeCommand.self, QueueCommand.self, TopicCommand.self,
            SubscriptionCommand.self, PolicyCommand.self, ConfigCommand.self, BenchCommand.self, TopCommand.self,
        ]
    )

    /// As ArgumentParser's own `main`, except that a usage error a subcommand finds while running
    /// (a `ValidationError` from `run()`) prints that subcommand's usage, not the top-level one:
    /// ArgumentParser only knows the subcommand for errors raised while parsing.
    static func main() {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch let error as ValidationError {
            Terminal.err(usageFailure(error, command: type(of: command)))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        } catch {
            exit(withError: error)
        }
    }

    /// `Error: …`, the subcommand's usage and where its help is: the text ArgumentParser prints for
    /// a parse-time error of that subcommand.
    static func usageFailure(_ error: ValidationError, command: any ParsableCommand.Type) -> String {
        let names = commandPath(to: command).joined(separator: " ")
        return "Error: \(error.message)\nUsage: \(usageString(for: command))\n  See '\(names) --help' for more information."
    }

    /// `["herald", "policy", "test"]` for `PolicyTestCommand`.
    static func commandPath(to command: any ParsableCommand.Type) -> [String] {
        func search(_ node: any ParsableCommand.Type, _ path: [String]) -> [String]? {
            let here = path + [node.configuration.commandName ?? String(describing: node).lowercased()]
            if ObjectIdentifier(node) == ObjectIdentifier(command) { return here }
            for child in node.configuration.subcommands {
                if let found = search(child, here) { return found }
            }
            return nil
        }
        return search(Herald.self, []) ?? ["herald"]
    }
}
