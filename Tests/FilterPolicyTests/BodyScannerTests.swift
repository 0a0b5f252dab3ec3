import Foundation
import HeraldCore
import Testing
@testable import FilterPolicy

/// The body scanner must accept exactly the JSON objects (RFC 8259) — skipped parts included — since
/// an invalid body matches no body-scope policy. A policy that holds on any valid object
/// (`exists:false` on a never-used key) turns "matches" into "the scanner accepted the body".
@Suite struct BodyScannerTests {
    static let anyValidObject = M.matcher([M.body(M.key("zz-never", .exists(false)))])

    static func accepts(_ body: String) -> Bool {
        anyValidObject.matches(attributes: [:], body: Array(body.utf8)) == [0]
    }

    @Test(arguments: [
        #"{}"#, #" { } "#, "{\n\t\"a\"\r:1}", #"{"a":[]}"#, #"{"a":{}}"#, #"{"a":[1,-2.5e+3,0,0.1,1E9,"x",true,false,null,{"b":[[]]}]}"#,
        #"{"a":"\u00e9\"\\\/\b\f\n\r\t"}"#, #"{"a":1,"a":2}"#, #"{"":""}"#,
    ])
    func acceptsValidObjects(_ body: String) {
        #expect(Self.accepts(body))
    }

    @Test(arguments: [
        "", " ", "[]", "1", #""x""#, "null", "{", "}", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, #"{,"a":1}"#,
        #"{"a":1}x"#, #"{"a":1}{}"#, #"{"a":[1,]}"#, #"{"a":[1 2]}"#, #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#,
        #"{"a":+1}"#, #"{"a":1e}"#, #"{"a":-}"#, #"{"a":tru}"#, #"{"a":True}"#, #"{"a":nul}"#, #"{"a":'x'}"#,
        #"{a:1}"#, #"{"a":"\x"}"#, #"{"a":"\u12"}"#, "{\"a\":\"\u{01}\"}", "{\"a\":\"x\ny\"}", #"{"a":[}"#,
        #"{"a":{]}"#, #"{"a":"unterminated}"#, #"{"a":1"#, "{\"a\":1}\u{0B}", #"{"x":{"y":[1,{"z":}]}}"#,
    ])
    func rejectsInvalidBodies(_ body: String) {
        #expect(!Self.accepts(body))
    }

    @Test func nestingBoundMatchesTheReferenceParser() {
        // The reference accepts at most FilterInput.maxBodyNestingDepth (256) open containers.
        func nested(_ depth: Int) -> String {
            "{\"a\":" + String(repeating: "[", count: depth - 1) + "1" + String(repeating: "]", count: depth - 1) + "}"
        }
        #expect(Self.accepts(nested(256)))
        #expect(!Self.accepts(nested(257)))
        let named = M.matcher([M.body(M.key("a", .exactNumber(1)))])
        #expect(named.matches(attributes: [:], body: Array(nested(256).utf8)) == [0])
        #expect(named.matches(attributes: [:], body: Array(nested(257).utf8)).isEmpty)
        // Hostile depth: rejected quickly, no crash.
        let hostile = "{\"a\":" + String(repeating: "[", count: 1_000_000) + "}"
        #expect(!Self.accepts(hostile))
        #expect(named.matches(attributes: [:], body: Array(hostile.utf8)).isEmpty)
    }

    @Test func utf8ByteOrderMarkAndNumberLength() {
        #expect(Self.accepts("\u{FEFF}{\"a\": 1}"))
        #expect(!Self.accepts("{\"a\": 1}\u{FEFF}"))
        var invalidUTF8 = Array(#"{"a":"x"}"#.utf8)
        invalidUTF8[6] = 0xFF
        #expect(Self.anyValidObject.matches(attributes: [:], body: invalidUTF8).isEmpty)
        invalidUTF8[6] = 0xED  // a surrogate lead byte
        invalidUTF8.insert(contentsOf: [0xA0, 0x80], at: 7)
        #expect(Self.anyValidObject.matches(attributes: [:], body: invalidUTF8).isEmpty)
        #expect(Self.accepts("{\"a\": 1" + String(repeating: "0", count: 999) + "}"))
        #expect(!Self.accepts("{\"a\": 1" + String(repeating: "0", count: 1000) + "}"))
    }

    /// Random mutations of valid documents, judged by Foundation's parser (top level must be an
    /// object). Seeded and reproducible.
    @Test func agreesWithFoundationOnMutatedDocuments() throws {
        var rng = SplitMix64(seed: 42)
        let alphabet = Array(#"{}[]:,"\ 01-.eE+atrufnlsx"#.utf8)
        let seeds = [
            #"{"a":[1,2.5,{"b":"c\"d"}],"e":{"f":null,"g":[true,false]},"h":-0.5e3}"#,
            #"{"properties":{"STREET":"FULTON","FROM_ST":"441"},"geometry":{"coordinates":[[[-122.4,37.8,0]]]}}"#,
        ]
        var checked = 0
        for _ in 0..<3000 {
            var bytes = Array(seeds[Int.random(in: 0..<seeds.count, using: &rng)].utf8)
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[i] = alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]
                case 1: bytes.remove(at: i)
                default: bytes.insert(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)], at: i)
                }
                if bytes.isEmpty { bytes = [0x7B] }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            // Foundation on Linux accepts trailing commas, which RFC 8259 does not: judge those here.
            if text.range(of: #",\s*[\]}]"#, options: .regularExpression) != nil {
                #expect(!Self.accepts(text))
                continue
            }
            let foundation = (try? JSONSerialization.jsonObject(with: Data(bytes))) is [String: Any]
            let ours = Self.anyValidObject.matches(attributes: [:], body: bytes) == [0]
            #expect(ours == foundation, "\(text)")
            checked += 1
        }
        #expect(checked > 2500)
    }
}
