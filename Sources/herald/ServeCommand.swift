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

    func run() throws {
        let log: @Sendable (String) -> Void = { line in
            FileHandle.standardError.write(Data("herald: \(line)\n".utf8))
        }
        var loaded = try loadConfig()
        if let listen {
            let address = try ListenAddress(parsing: listen)
            guard loaded.listeners.count == 1 else { throw ValidationError("--listen needs a configuration with exactly one listener") }
            loaded.listeners[0].address = address
        }
        let server = Server(config: loaded, log: log)
        do {
            try server.start()
        } catch {
            throw Terminal.fail("cannot start: \(error.message)")
        }
        for address in server.listenAddresses {
            Terminal.out("herald listening on \(address)")
        }
        let configPath = config
        let reload = SignalWatcher(signal: SIGHUP) {
            guard let configPath else { return log("SIGHUP: no config file to reload (running on the embedded defaults)") }
            do {
                var next = try ConfigLoader.load(file: configPath)
                if let listen = self.listen, next.listeners.count == 1, let address = try? ListenAddress(parsing: listen) {
                    next.listeners[0].address = address
                }
                let notes = try server.reload(next)
                log("reloaded \(configPath): \(next.summary)")
                for note in notes { log("reload: \(note)") }
            } catch let error as ConfigError {
                log("reload of \(configPath) rejected, keeping the running configuration:\n\(error.description)")
            } catch {
                log("reload of \(configPath) rejected, keeping the running configuration: \(error)")
            }
        }
        let stop: @Sendable () -> Void = {
            log("stopping")
            server.stop()
            Foundation.exit(0)
        }
        let interrupt = SignalWatcher(signal: SIGINT, handler: stop)
        let terminate = SignalWatcher(signal: SIGTERM, handler: stop)
        withExtendedLifetime((reload, interrupt, terminate, server)) {
            dispatchMain()
        }
    }

    private func loadConfig() throws -> HeraldConfig {
        do {
            if let config { return try ConfigLoader.load(file: config) }
            return try HeraldConfig.defaults()
        } catch {
            throw Terminal.fail(error.description)
        }
    }
}

