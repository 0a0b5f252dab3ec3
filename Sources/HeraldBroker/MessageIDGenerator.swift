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
        var expand = SplitMix64(seed: seed)
        s0 = expand.next(); s1 = expand.next(); s2 = expand.next(); s3 = expand.next()
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
