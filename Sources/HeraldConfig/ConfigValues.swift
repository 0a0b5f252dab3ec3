/// Parsers for the config file's scalar notations: durations (`500ms`, `10s`, `2m`, `1h30m`) and
/// byte sizes (`262144`, `256KiB`, `1MiB`). Each returns the value or a sentence for the problem.
enum ConfigValues {
    /// Largest duration accepted anywhere (bounds arithmetic; real fields have smaller ceilings).
    static let maxDurationMilliseconds: Int64 = 366 * 24 * 3_600_000

    /// One or more `<integer><unit>` parts, unit one of `ms`, `s`, `m`, `h`; `0` alone is zero.
    static func duration(_ text: String) -> Result<Duration, ValueProblem> {
        let bad = ValueProblem("'\(text)' is not a duration: use a number with a unit, e.g. 500ms, 10s, 2m, 1h30m")
        if text == "0" { return .success(.zero) }
        var total: Int64 = 0
        var rest = Substring(text)
        guard !rest.isEmpty else { return .failure(bad) }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCIIDigit }
            guard !digits.isEmpty, digits.count <= 12, let number = Int64(digits) else { return .failure(bad) }
            rest = rest.dropFirst(digits.count)
            let unit = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let scale: Int64
            switch unit {
            case "ms": scale = 1
            case "s": scale = 1_000
            case "m": scale = 60_000
            case "h": scale = 3_600_000
            default: return .failure(bad)
            }
            // number <= 10^12 and scale <= 3.6*10^6: the product fits in Int64.
            total += number * scale
            guard total <= maxDurationMilliseconds else {
                return .failure(ValueProblem("'\(text)' is longer than a year"))
            }
        }
        return .success(.milliseconds(total))
    }

    /// A byte count: a plain integer or one with a `KiB`/`MiB`/`GiB` suffix.
    static func byteSize(_ text: String) -> Result<Int, ValueProblem> {
        let bad = ValueProblem("'\(text)' is not a size: use a number of bytes, optionally with KiB or MiB (e.g. 262144, 256KiB)")
        let digits = text.prefix { $0.isASCIIDigit || $0 == "_" }
        let unit = text.dropFirst(digits.count)
        let scale: Int
        switch unit {
        case "": scale = 1
        case "KiB": scale = 1 << 10
        case "MiB": scale = 1 << 20
        case "GiB": scale = 1 << 30
        default: return .failure(bad)
        }
        guard case .success(let number) = integer(String(digits)) else { return .failure(bad) }
        let (product, overflow) = number.multipliedReportingOverflow(by: scale)
        guard !overflow else { return .failure(ValueProblem("'\(text)' is too large")) }
        return .success(product)
    }

    /// A non-negative decimal integer; `_` may group digits (`1_000_000`).
    static func integer(_ text: String) -> Result<Int, ValueProblem> {
        let digits = text.filter { $0 != "_" }
        guard !digits.isEmpty, !text.hasPrefix("_"), digits.allSatisfy(\.isASCIIDigit) else {
            return .failure(ValueProblem("'\(text)' is not a whole number"))
        }
        guard digits.count <= 18, let value = Int(digits) else { return .failure(ValueProblem("'\(text)' is too large")) }
        return .success(value)
    }

    /// `5m` style text for messages (milliseconds when not a whole number of seconds).
    static func text(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
        if ms % 3_600_000 == 0, ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0, ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1_000 == 0 { return "\(ms / 1_000)s" }
        return "\(ms)ms"
    }
}

/// The sentence describing a bad value; the loader adds file and line.
struct ValueProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
