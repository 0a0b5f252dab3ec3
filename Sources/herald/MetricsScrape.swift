import Dispatch
import HeraldHTTP
import HeraldWire
import Synchronization

/// One scrape of a Herald admin listener's `/metrics`, parsed: every sample of the Prometheus
/// text format by name and labels. Only what `herald top` needs — comments are skipped, values
/// read as Double; a line that does not parse is skipped, not fatal (a newer server may add forms).
struct MetricsScrape: Sendable {
    struct Sample: Sendable, Hashable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample]

    init(text: String) {
        samples = text.split(separator: "\n", omittingEmptySubsequences: true).compactMap { Self.parse(Substring($0)) }
    }

    /// Samples of one family.
    func family(_ name: String) -> [Sample] { samples.filter { $0.name == name } }

    /// The sum of a family's samples whose labels include `matching`.
    func total(_ name: String, _ matching: [String: String] = [:]) -> Double {
        family(name).filter { sample in matching.allSatisfy { sample.labels[$0.key] == $0.value } }.reduce(0) { $0 + $1.value }
    }

    /// `name{a="x",b="y"} value [timestamp]`, with `\\`, `\"` and `\n` escapes in label values.
    static func parse(_ line: Substring) -> Sample? {
        guard let first = line.first, first != "#" else { return nil }
        var rest = line[...]
        let name = rest.prefix { $0 != "{" && $0 != " " }
        rest = rest.dropFirst(name.count)
        guard !name.isEmpty else { return nil }
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while let next = rest.first, next != "}" {
                if next == "," || next == " " {
                    rest = rest.dropFirst()
                    continue
                }
                let key = rest.prefix { $0 != "=" }
                rest = rest.dropFirst(key.count)
                guard rest.first == "=", rest.dropFirst().first == "\"" else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                var closed = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if character == "\"" {
                        closed = true
                        break
                    }
                    if character == "\\", let escaped = rest.first {
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { return nil }
                labels[String(key)] = value
            }
            guard rest.first == "}" else { return nil }
            rest = rest.dropFirst()
        }
        let fields = rest.split(separator: " ")
        guard let valueText = fields.first, let value = Double(valueText) else { return nil }
        return Sample(name: String(name), labels: labels, value: value)
    }

    /// GETs `<admin>/metrics` and waits for it (the CLI has no event loop of its own to return to).
    static func fetch(admin: String, client: HTTPClient, timeout: Duration = .seconds(5)) throws(ScrapeError) -> MetricsScrape {
        var base = admin
        while base.hasSuffix("/") { base.removeLast() }
        let url: HTTPURL
        do {
            url = try HTTPURL(base + "/metrics")
        } catch {
            throw ScrapeError("bad --admin URL '\(admin)': \(error.message)")
        }
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        client.send(HTTPRequest(method: "GET", target: "/metrics"), to: url, timeout: timeout) { result in
            box.set(result)
            done.signal()
        }
        done.wait()
        switch box.get() {
        case .success(let response) where response.status == 200:
            return MetricsScrape(text: String(decoding: response.body, as: UTF8.self))
        case .success(let response):
            throw ScrapeError("\(url) answered \(response.status) \(response.reason)")
        case .failure(let error):
            throw ScrapeError("cannot scrape \(url): \(error.message) (is herald serve running with an admin: listener? --admin sets the address)")
        case nil:
            throw ScrapeError("cannot scrape \(url): no answer")
        }
    }

    struct ScrapeError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Hands the completion's result to the waiting thread.
    private final class ResultBox: Sendable {
        private let result = Mutex<Result<HTTPResponse, HTTPClientError>?>(nil)
        func set(_ value: Result<HTTPResponse, HTTPClientError>) { result.withLock { $0 = value } }
        func get() -> Result<HTTPResponse, HTTPClientError>? { result.withLock { $0 } }
    }
}
