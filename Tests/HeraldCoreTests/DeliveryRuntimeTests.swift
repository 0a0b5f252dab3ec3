import Testing
import HeraldCore

/// What the delivery loop uses per attempt: outcome classes, jitter and the throttle bucket.
@Suite struct DeliveryRuntimeTests {
    @Test func outcomeClassification() {
        let expected: [(Int, HTTPDeliveryOutcome)] = [
            (100, .permanent), (200, .delivered), (204, .delivered), (299, .delivered), (301, .permanent),
            (400, .permanent), (404, .permanent), (429, .retryable), (500, .retryable), (503, .retryable),
            (599, .retryable), (600, .permanent), (199, .permanent), (300, .permanent), (0, .permanent), (-1, .permanent),
        ]
        for (status, outcome) in expected {
            #expect(HTTPDeliveryOutcome(status: status) == outcome, "status \(status)")
        }
    }

    @Test func jitterStaysWithinTenPercentAndUsesTheWholeRange() {
        var random = SplitMix64(seed: 42)
        var seen: Set<Int> = []
        var sum = 0
        let draws = 20_000
        for _ in 0..<draws {
            let value = DeliveryJitter.apply(100, using: &random)
            #expect((90...110).contains(value))
            seen.insert(value)
            sum += value
        }
        #expect(seen == Set(90...110), "every value of ±10 % is drawn")
        let mean = Double(sum) / Double(draws)
        #expect(abs(mean - 100) < 0.5, "uniform around the nominal delay: mean \(mean)")
    }

    @Test func jitterEdges() {
        var random = SplitMix64(seed: 7)
        var tens: Set<Int> = []
        for _ in 0..<1000 {
            tens.insert(DeliveryJitter.apply(10, using: &random))
            #expect(DeliveryJitter.apply(0, using: &random) == 0)
            #expect(DeliveryJitter.apply(-5, using: &random) == 0)
            #expect(DeliveryJitter.apply(9, using: &random) == 9)           // under 10 s: no whole second to spare
            #expect((9...11).contains(DeliveryJitter.apply(10, using: &random)))
            #expect((3240...3960).contains(DeliveryJitter.apply(3600, using: &random)))
            #expect(DeliveryJitter.apply(Int.max, using: &random) >= Int.max - Int.max / 10)
        }
        #expect(tens == [9, 10, 11], "10 s is the smallest delay with a whole second of jitter")
    }

    @Test func jitterIsDeterministicGivenTheGenerator() {
        var a = SplitMix64(seed: 99)
        var b = SplitMix64(seed: 99)
        let first = (0..<50).map { _ in DeliveryJitter.apply(600, using: &a) }
        let second = (0..<50).map { _ in DeliveryJitter.apply(600, using: &b) }
        #expect(first == second)
        #expect(Set(first).count > 10, "not a constant")
    }

    static let second: UInt64 = 1_000_000_000

    @Test func bucketAllowsItsBurstThenTheRate() {
        var bucket = ThrottleBucket(ratePerSecond: 10)
        for _ in 0..<10 { #expect(bucket.take(nowNanoseconds: 5) == 0) }
        // Empty: the next token comes after 1/10 s.
        #expect(bucket.take(nowNanoseconds: 5) == 100_000_000)
        #expect(bucket.take(nowNanoseconds: 5 + 40_000_000) == 60_000_000)
        #expect(bucket.take(nowNanoseconds: 5 + 100_000_000) == 0)
        #expect(bucket.take(nowNanoseconds: 5 + 100_000_000) == 100_000_000)
    }

    @Test func bucketAverageRateOverASimulatedSecond() {
        // A sender that tries every millisecond gets the burst at once, then one per 1/rate.
        for rate in [1, 7, 10, 250] {
            var bucket = ThrottleBucket(ratePerSecond: rate, burst: 1)
            var delivered = 0
            var now: UInt64 = 1_000
            while now < 1_000 + Self.second {
                if bucket.take(nowNanoseconds: now) == 0 { delivered += 1 }
                now += 1_000_000
            }
            #expect(delivered == rate, "rate \(rate): \(delivered) in one second")
        }
    }

    @Test func bucketFollowsItsOwnWaitHints() {
        // A sender that sleeps exactly as long as told: 10 s at 25/s after a burst of 5 → 5 + 250.
        var bucket = ThrottleBucket(ratePerSecond: 25, burst: 5)
        var now: UInt64 = 0
        var delivered = 0
        while now <= 10 * Self.second {
            let wait = bucket.take(nowNanoseconds: now)
            if wait == 0 { delivered += 1 } else { now += wait }
        }
        #expect(delivered == 5 + 250)
    }

    @Test func bucketRefillsOnlyUpToItsBurst() {
        var bucket = ThrottleBucket(ratePerSecond: 2, burst: 3)
        #expect(bucket.take(nowNanoseconds: 0) == 0)
        // A long quiet spell (even one that would overflow the arithmetic) refills 3, not more.
        let later = UInt64.max - 1
        for _ in 0..<3 { #expect(bucket.take(nowNanoseconds: later) == 0) }
        #expect(bucket.take(nowNanoseconds: later) == 500_000_000)
        // Time going backwards adds nothing.
        #expect(bucket.take(nowNanoseconds: 10) > 0)
    }

    @Test func bucketClampsNonsense() {
        var bucket = ThrottleBucket(ratePerSecond: 0, burst: -4)
        #expect(bucket.ratePerSecond == 1 && bucket.burst == 1)
        #expect(bucket.take(nowNanoseconds: 0) == 0)
        #expect(bucket.take(nowNanoseconds: 0) == Self.second)
        #expect(ThrottleBucket(ratePerSecond: 40).burst == 40)
    }
}
