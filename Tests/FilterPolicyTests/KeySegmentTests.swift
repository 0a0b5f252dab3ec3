import HeraldCore
import Testing
@testable import FilterPolicy

/// Body keys are split on '.' into path segments; the scanner learns from the key's string scan
/// whether a raw '.' may be in it (`jsonStringDotted`) and treats a key without one as a single
/// segment. Seeded keys put dots at every offset across the 8-byte words of that scan (and in
/// escapes, `\u002e`), in keys and in nested objects, and the matches must equal the reference's.
@Suite struct KeySegmentTests {
    static let segments = ["a", "b", "ab", "aaaaaaa", "aaaaaaaa", "bbbbbbbbbbbbbbbb", "abababababababababab"]

    @Test func dottedKeysAtEveryOffsetMatchLikeTheReference() {
        var rng = SplitMix64(seed: 1207)
        func segment() -> String { Self.segments[Int.random(in: 0..<Self.segments.count, using: &rng)] }
        var policies: [FilterPolicy] = []
        for first in Self.segments {
            for second in Self.segments.prefix(4) {
                policies.append(M.body(M.key(first + "." + second, .exactNumber(1))))
            }
            policies.append(M.body(M.key(first, .exactNumber(2))))
        }
        let matcher = M.matcher(policies)
        let scratch = MatchScratch()
        var matched = 0
        for _ in 0..<4000 {
            // One to three segments, joined by raw or escaped dots, or nested as objects.
            let parts = (0..<Int.random(in: 1...3, using: &rng)).map { _ in segment() }
            var body: String
            let value = Int.random(in: 1...2, using: &rng)
            if parts.count > 1 && Int.random(in: 0..<3, using: &rng) == 0 {
                body = "{\"\(parts[0])\":{\"\(parts.dropFirst().joined(separator: "."))\":\(value)}}"
            } else {
                let dot = Int.random(in: 0..<6, using: &rng) == 0 ? "\\u002e" : "."
                body = "{\"\(parts.joined(separator: dot))\":\(value)}"
            }
            // Keys of other lengths before it shift where the key's words start.
            body.insert(contentsOf: "\"" + String(repeating: "z", count: Int.random(in: 0...9, using: &rng)) + "\":0,", at: body.index(after: body.startIndex))
            let bytes = Array(body.utf8)
            let expected = policies.indices.filter { ReferenceEvaluator.matches(policies[$0], .body(bytes)) }
            bytes.withUnsafeBytes { _ = matcher.match(attributes: [:], body: $0, scratch: scratch) }
            let got = scratch.matchedIDs.sorted()
            #expect(got == expected, "\(body)")
            if got != expected { return }
            matched += got.count
        }
        #expect(matched > 1000)
    }
}
