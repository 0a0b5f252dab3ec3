import ArgumentParser
import Dispatch
import Foundation
import HeraldHTTP

/// `herald top`: a live view of a running server, read from its admin listener's `/metrics`
/// (topics and their publish rates, named subscriptions with matched and filtered-out counts, the
/// most backlogged stream subscribers), redrawn every second until interrupted. `--once` prints
/// one frame and exits (scripts, tests).
struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Live view of a running server from its /metrics (topics, rates, subscriptions, slowest consumers).",
        discussion: "Reads the admin listener (admin: in the config; 127.0.0.1:9433 with the embedded defaults).")

    @Option(help: "Base URL of the server's admin listener.")
    var admin = "http://127.0.0.1:9433"

    @Flag(help: "Print one frame and exit (no rates: they need two scrapes).")
    var once = false

    @Option(help: "Seconds between refreshes.")
    var interval: Double = 1

    @Option(help: "Rows per table.")
    var rows = 15

    func validate() throws {
        guard interval >= 0.1, interval <= 3600 else { throw ValidationError("--interval must be between 0.1 and 3600 seconds") }
        guard rows >= 1 else { throw ValidationError("--rows must be at least 1") }
    }

    func run() throws {
        let client: HTTPClient
        do {
            client = try HTTPClient()
        } catch {
            throw Terminal.fail("cannot make an HTTP client: \(error.message)")
        }
        defer { client.shutDown() }
        var previous: MetricsScrape?
        var previousTime = DispatchTime.now()
        while true {
            let scrape: MetricsScrape
            do {
                scrape = try MetricsScrape.fetch(admin: admin, client: client)
            } catch {
                if once || previous == nil { throw Terminal.fail(error.description) }
                // A live view rides out a restart: say so and try again next tick.
                Terminal.out("\u{1B}[H\u{1B}[2J" + error.description)
                Thread.sleep(forTimeInterval: interval)
                continue
            }
            let now = DispatchTime.now()
            let elapsed = Double(now.uptimeNanoseconds - previousTime.uptimeNanoseconds) / 1e9
            var view = TopView(admin: trimmedAdmin, current: scrape, previous: previous, interval: elapsed)
            view.maxRows = rows
            let frame = view.render().joined(separator: "\n")
            if once {
                Terminal.out(frame)
                return
            }
            // Home and clear, then the frame: one write, so the screen never shows half a frame.
            Terminal.out("\u{1B}[H\u{1B}[2J" + frame)
            previous = scrape
            previousTime = now
            Thread.sleep(forTimeInterval: interval)
        }
    }

    private var trimmedAdmin: String {
        var base = admin
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}
