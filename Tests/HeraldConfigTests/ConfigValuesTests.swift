import FilterPolicy
import HeraldCore
import Testing
@testable import HeraldConfig

@Suite struct ConfigValuesTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)), ("10s", .seconds(10)), ("2m", .seconds(120)), ("1h", .seconds(3_600)),
        ("1h30m", .seconds(5_400)), ("1m500ms", .milliseconds(60_500)), ("0", .zero), ("0s", .zero),
    ])
    func durations(text: String, expected: Duration) throws {
        #expect(try ConfigValues.duration(text).get() == expected)
    }

    @Test(arguments: ["", "10", "s", "1.5s", "-1s", "10 s", "10sec", "1d", "ms", "99999999999999h", "1h1x", "１s"])
    func badDurations(text: String) {
        #expect(throws: ValueProblem.self) { try ConfigValues.duration(text).get() }
    }

    @Test func durationsBeyondAYearAreRefused() {
        #expect((try? ConfigValues.duration("8784h").get()) == .seconds(8_784 * 3_600))
        guard case .failure(let problem) = ConfigValues.duration("8785h") else {
            Issue.record("8785h accepted")
            return
        }
        #expect(problem.message.contains("longer than a year"))
    }

    @Test func durationText() {
        #expect(ConfigValues.text(.seconds(120)) == "2m")
        #expect(ConfigValues.text(.seconds(7_200)) == "2h")
        #expect(ConfigValues.text(.seconds(90)) == "90s")
        #expect(ConfigValues.text(.milliseconds(1_500)) == "1500ms")
        #expect(ConfigValues.text(.zero) == "0s")
    }

    @Test func byteSizes() throws {
        #expect(try ConfigValues.byteSize("262144").get() == 262_144)
        #expect(try ConfigValues.byteSize("256KiB").get() == 262_144)
        #expect(try ConfigValues.byteSize("1MiB").get() == 1_048_576)
        #expect(try ConfigValues.byteSize("1_000").get() == 1_000)
        for bad in ["", "KiB", "1KB", "1.5MiB", "-1", "1 MiB", "99999999999999999999", "9999999999999GiB", "_1"] {
            #expect(throws: ValueProblem.self, "\(bad)") { try ConfigValues.byteSize(bad).get() }
        }
    }

    @Test func listenAddresses() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:4433") == ListenAddress(host: "127.0.0.1", port: 4433))
        #expect(try ListenAddress(parsing: "0.0.0.0:0") == ListenAddress(host: "0.0.0.0", port: 0))
        #expect(try ListenAddress(parsing: "localhost:65535") == ListenAddress(host: "localhost", port: 65_535))
        let v6 = try ListenAddress(parsing: "[::1]:4433")
        #expect(v6 == ListenAddress(host: "::1", port: 4433))
        #expect(v6.description == "[::1]:4433")
        #expect(ListenAddress(host: "10.0.0.1", port: 1).description == "10.0.0.1:1")
        for bad in ["", "4433", "host:", ":4433", "host:65536", "host:-1", "host:44a", "::1:4433", "[::1:4433", "[]:1", "[zz]:1", "a b:1", "host:0000001"] {
            #expect(throws: ConfigError.self, "\(bad)") { try ListenAddress(parsing: bad) }
        }
        do {
            _ = try ListenAddress(parsing: "nohost")
        } catch {
            #expect(error.description == "bad listen address 'nohost': expected HOST:PORT, e.g. 127.0.0.1:4433")
        }
    }

    @Test func didYouMean() {
        let keys = ["listeners", "limits", "timeouts", "autoCreateTopics", "topics"]
        #expect(ConfigNodeReader.closest(to: "listener", in: keys) == "listeners")
        #expect(ConfigNodeReader.closest(to: "Topics", in: keys) == "topics")
        #expect(ConfigNodeReader.closest(to: "timeout", in: keys) == "timeouts")
        #expect(ConfigNodeReader.closest(to: "zzz", in: keys) == nil)
        #expect(ConfigNodeReader.editDistance("kitten", "sitting") == 3)
        #expect(ConfigNodeReader.editDistance("", "abc") == 3)
    }

    @Test func policyJSONFromYAML() throws {
        #expect(ConfigPolicyJSON.Writer.isJSONNumber("0"))
        #expect(ConfigPolicyJSON.Writer.isJSONNumber("-12.5e+3"))
        for notNumber in ["01", "1.", ".5", "+1", "1e", "0x1F", "inf", "", "-"] {
            #expect(!ConfigPolicyJSON.Writer.isJSONNumber(notNumber), "\(notNumber)")
        }
        #expect(JSONValue.quoted("a\"b\\c\n\u{1}") == #""a\"b\\c\n\u0001""#)
    }
}
