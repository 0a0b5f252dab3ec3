import ArgumentParser
import Foundation
import HeraldConfig
import HeraldServer

/// `herald config …`: configuration tools.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Configuration file tools.",
        subcommands: [Check.self]
    )

    /// `herald config check FILE`: every problem as `FILE:LINE: problem` (exit 1), or a summary.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a config file and its filter-policy files; list every problem with file and line.",
            discussion: "Exits 0 and prints a summary when the file is valid, 1 when it has problems (printed to standard error)."
        )

        @Argument(help: "The config file (YAML or JSON).")
        var file: String

        func run() throws {
            do {
                let config = try ConfigLoader.load(file: file)
                print(config.summary)
            } catch {
                for problem in error.problems {
                    printToStandardError(problem.description)
                }
                let count = error.problems.count
                printToStandardError("\(count) problem\(count == 1 ? "" : "s") in \(file)")
                throw ExitCode(1)
            }
        }

        private func printToStandardError(_ line: String) {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}
