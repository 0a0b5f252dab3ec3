/// Writes the Prometheus text exposition format (version 0.0.4) for the families Herald renders
/// itself at scrape time: one `# HELP` and `# TYPE` per family, then its samples. Label values are
/// escaped as the format demands (`\\`, `\"`, `\n`), so a topic or subscription name can hold any
/// character without breaking the page.
///
/// Contract: a value, used by one scrape on one thread.
struct PrometheusText {
    enum Kind: String {
        case counter, gauge
    }

    private(set) var text = ""

    /// Starts a family. Every sample of it must follow before the next family starts.
    mutating func family(_ name: String, _ kind: Kind, help: String) {
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String> = [:], _ value: some BinaryInteger) {
        text += name
        if !labels.isEmpty {
            text += "{"
            var first = true
            for (key, labelValue) in labels {
                if !first { text += "," }
                first = false
                text += "\(key)=\"\(Self.escapeLabel(labelValue))\""
            }
            text += "}"
        }
        text += " \(value)\n"
    }

    /// A family with one unlabelled sample.
    mutating func single(_ name: String, _ kind: Kind, help: String, _ value: some BinaryInteger) {
        family(name, kind, help: help)
        sample(name, [:], value)
    }

    mutating func append(_ exposition: String) { text += exposition }

    static func escapeLabel(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    static func escapeHelp(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}
