import ArgumentParser
import Dispatch
import Foundation
import HeraldConfig
import HeraldNet
import HeraldServer

/// `herald serve`: runs the broker until SIGINT/SIGTERM; SIGHUP reloads the config file.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the broker.",
        discussion: "Without --config: 127.0.0.1:4433 with the development certificates in certs/, anonymous clients, topics created on first use.")

    @Option(help: "Configuration file (YAML). SIGHUP reloads it.")
    var config: String?

    @Option(help: "Listen on HOST:PORT instead (replaces the configured listeners' addresses when there is one listener).")
    var listen: String?

    @Option(help: "Data directory for the queue journal and the signing key (default: the config's dataDir, else ./data).")
    var dataDir: String?

    @Flag(help: "Start even when the journal has damaged records in the middle: drop them (and say what was dropped).")
    var repair = false

    @OptionGroup var logging: LogOptions

    func run() throws {
        // Every line on standard error goes through the operator log (`--log-level`, `--log-format`);
        // standard output keeps only "herald listening on HOST:PORT" for scripts.
        let events = logging.makeEventLog()
        let logger = events.logger
        let log: @Sendable (String) -> Void = { line in logger.info("\(line)") }
        var loaded = try loadConfig()
        if let listen {
            let address = try ListenAddress(parsing: listen)
            guard loaded.listeners.count == 1 else { throw ValidationError("--listen needs a configuration with exactly one listener") }
            loaded.listeners[0].address = address
        }
        loaded.dataDir = dataDir ?? loaded.dataDir ?? Self.defaultDataDir
        let server = Server(config: loaded, repair: repair, log: log, events: events)
        do {
            try server.start()
        } catch {
            throw Terminal.fail("cannot start: \(error.message)")
        }
        for address in server.listenAddresses {
            Terminal.out("herald listening on \(address)")
        }
        let configPath = config
        let dataDir = loaded.dataDir
        let reload = SignalWatcher(signal: SIGHUP) {
            guard let configPath else { return logger.warning("SIGHUP: no config file to reload (running on the embedded defaults)") }
            do {
                var next = try ConfigLoader.load(file: configPath)
                next.dataDir = dataDir  // the journal stays where it was opened
                if let listen = self.listen, next.listeners.count == 1, let address = try? ListenAddress(parsing: listen) {
                    next.listeners[0].address = address
                }
                let notes = try server.reload(next)
                events.report(.reloaded(file: configPath, summary: next.summary, notes: notes))
            } catch let error as ConfigError {
                server.counters.events.countReload(applied: false)
                events.report(.reloadRejected(file: configPath, problems: error.description))
            } catch {
                events.report(.reloadRejected(file: configPath, problems: "\(error)"))
            }
        }
        let stop: @Sendable (String) -> Void = { signal in
            events.report(.stopping(signal: signal))
            server.stop()
            Foundation.exit(0)
        }
        let interrupt = SignalWatcher(signal: SIGINT) { stop("SIGINT") }
        let terminate = SignalWatcher(signal: SIGTERM) { stop("SIGTERM") }
        withExtendedLifetime((reload, interrupt, terminate, server)) {
            dispatchMain()
        }
    }

    /// Where `herald serve` keeps durable state when nothing says otherwise: `./data` where it runs.
    static let defaultDataDir = "./data"

    private func loadConfig() throws -> HeraldConfig {
        do {
            if let config { return try ConfigLoader.load(file: config) }
            return try HeraldConfig.defaults()
        } catch {
            throw Terminal.fail(error.description)
        }
    }
}

