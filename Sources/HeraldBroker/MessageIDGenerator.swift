import HeraldCore
import Synchronization

/// Message ids for accepted publishes: version-4 UUIDs from xoshiro256** seeded once, so the publish
/// path takes one short lock per batch instead of one `getrandom` call per message. Ids need to be
/// unique, not secret.
final class MessageIDGenerator: Sendable {
    private let state: Mutex<Xoshiro256StarStar>

    init(seed: UInt64) {
        state = Mutex(Xoshiro256StarStar(seed: seed))
    }

    func next(_ count: Int) -> [MessageID] {
        state.withLock { generator in
            var ids: [MessageID] = []
            ids.reserveCapacity(count)
            for _ in 0..<count { ids.append(Self.makeID(&generator)) }
            return ids
        }
    }

    /// A version-4 UUID held as 128 bits: no text is made until it is encoded.
    static func makeID(_ generator: inout Xoshiro256StarStar) -> MessageID {
        MessageID.version4(high: generator.next(), low: generator.next())
    }
}

struct Xoshiro256StarStar: RandomNumberGenerator {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Expands the seed with SplitMix64, as the xoshiro authors recommend.
    init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
