import Testing
import HeraldCore

/// The retry schedule: phases in order and each backoff curve's delays, expectations worked out
/// by hand from the formulas in BackoffFunction.swift (the arithmetic shown next to them).
@Suite struct DeliveryScheduleTests {
    func backoff(_ function: BackoffFunction, min: Int, max: Int, count: Int) -> [Int] {
        HTTPRetryPolicy(minDelayTarget: min, maxDelayTarget: max, numRetries: count, backoffFunction: function).schedule
    }

    @Test func snsDefaultIsThreeRetriesTwentySecondsApart() {
        #expect(HTTPRetryPolicy.snsDefault.schedule == [20, 20, 20])
        #expect(HTTPRetryPolicy.snsDefault.delay(beforeRetry: 4) == nil)
        #expect(HTTPRetryPolicy.snsDefault.totalRetrySeconds == 60)
    }

    // 10 → 100 over 4 retries, t = 0, 1/3, 2/3, 1.
    @Test func linearRisesByEqualSteps() {
        // 10 + 90·t
        #expect(backoff(.linear, min: 10, max: 100, count: 4) == [10, 40, 70, 100])
        // 1 + 59·i/9: 7.56, 14.1, 20.7, 27.2, 33.8, 40.3, 46.9, 53.4
        #expect(backoff(.linear, min: 1, max: 60, count: 10) == [1, 8, 14, 21, 27, 34, 40, 47, 53, 60])
        // halves round up: 1 + 3599·2/4 = 1800.5
        #expect(backoff(.linear, min: 1, max: 3600, count: 5) == [1, 901, 1801, 2700, 3600])
    }

    @Test func exponentialHasAConstantRatio() {
        // 10·10^(1/3) = 21.54, 10·10^(2/3) = 46.42
        #expect(backoff(.exponential, min: 10, max: 100, count: 4) == [10, 22, 46, 100])
        // 60^(i/9): 1.58, 2.48, 3.92, 6.17, 9.72, 15.33, 24.16, 38.07
        #expect(backoff(.exponential, min: 1, max: 60, count: 10) == [1, 2, 2, 4, 6, 10, 15, 24, 38, 60])
        // 3600^(i/4): 7.75, 60 (exactly), 464.8
        #expect(backoff(.exponential, min: 1, max: 3600, count: 5) == [1, 8, 60, 465, 3600])
    }

    @Test func arithmeticIsTheMeanOfLinearAndExponential() {
        // (40 + 21.54)/2 = 30.77, (70 + 46.42)/2 = 58.21
        #expect(backoff(.arithmetic, min: 10, max: 100, count: 4) == [10, 31, 58, 100])
        #expect(backoff(.arithmetic, min: 1, max: 60, count: 10) == [1, 5, 8, 12, 17, 22, 28, 36, 46, 60])
    }

    @Test func geometricIsTheGeometricMeanOfLinearAndExponential() {
        // √(40·21.54) = 29.35, √(70·46.42) = 57.0
        #expect(backoff(.geometric, min: 10, max: 100, count: 4) == [10, 29, 57, 100])
        #expect(backoff(.geometric, min: 1, max: 60, count: 10) == [1, 3, 6, 9, 13, 18, 25, 34, 45, 60])
    }

    @Test func curvesAreOrderedAndShareTheirEnds() {
        for (min, max, count) in [(1, 60, 10), (5, 260, 10), (20, 30, 5), (1, 3600, 7), (7, 8, 20)] {
            let l = backoff(.linear, min: min, max: max, count: count)
            let a = backoff(.arithmetic, min: min, max: max, count: count)
            let g = backoff(.geometric, min: min, max: max, count: count)
            let e = backoff(.exponential, min: min, max: max, count: count)
            for curve in [l, a, g, e] {
                #expect(curve.first == min && curve.last == max)
                #expect(curve == curve.sorted(), "delays never shrink: \(curve)")
            }
            for i in 0..<count {
                #expect(l[i] >= a[i] && a[i] >= g[i] && g[i] >= e[i], "retry \(i) of \(min)…\(max)×\(count)")
            }
        }
    }

    @Test func oneBackoffRetryWaitsTheMinimumAndEqualEndsStayFlat() {
        for function in BackoffFunction.allCases {
            #expect(backoff(function, min: 5, max: 50, count: 1) == [5])
            #expect(backoff(function, min: 30, max: 30, count: 4) == [30, 30, 30, 30])
        }
    }

    /// AWS's documented example: 3 immediate, 2 at 1 s, 10 backoff from 1 s to 60 s, 35 at 60 s.
    @Test func documentedExamplePhases() {
        let policy = HTTPRetryPolicy(
            minDelayTarget: 1, maxDelayTarget: 60, numRetries: 50, numNoDelayRetries: 3,
            numMinDelayRetries: 2, numMaxDelayRetries: 35, backoffFunction: .exponential)
        let expected = [0, 0, 0] + [1, 1] + [1, 2, 2, 4, 6, 10, 15, 24, 38, 60] + Array(repeating: 60, count: 35)
        #expect(policy.numBackoffRetries == 10)
        #expect(policy.schedule == expected)
        #expect(policy.schedule.count == 50)
        // 0 + 2 + 162 + 2100: within SNS's 3,600 s, so the example is a valid policy.
        #expect(policy.totalRetrySeconds == 2264)
        #expect(policy.violation() == nil)
    }

    @Test func phaseBoundaries() {
        let policy = HTTPRetryPolicy(
            minDelayTarget: 10, maxDelayTarget: 100, numRetries: 10, numNoDelayRetries: 2,
            numMinDelayRetries: 2, numMaxDelayRetries: 2, backoffFunction: .linear)
        #expect(policy.delay(beforeRetry: 0) == nil)
        #expect(policy.delay(beforeRetry: -1) == nil)
        #expect(policy.delay(beforeRetry: 2) == 0)      // last immediate
        #expect(policy.delay(beforeRetry: 3) == 10)     // first pre-backoff
        #expect(policy.delay(beforeRetry: 4) == 10)     // last pre-backoff
        #expect(policy.delay(beforeRetry: 5) == 10)     // first backoff = min
        #expect(policy.delay(beforeRetry: 8) == 100)    // last backoff = max
        #expect(policy.delay(beforeRetry: 9) == 100)    // post-backoff
        #expect(policy.delay(beforeRetry: 10) == 100)
        #expect(policy.delay(beforeRetry: 11) == nil)
        #expect(policy.schedule == [0, 0, 10, 10, 10, 40, 70, 100, 100, 100])
    }

    @Test func noRetriesAndNoBackoffPhase() {
        #expect(HTTPRetryPolicy(minDelayTarget: 1, maxDelayTarget: 1, numRetries: 0).schedule.isEmpty)
        let allPhases = HTTPRetryPolicy(
            minDelayTarget: 3, maxDelayTarget: 9, numRetries: 3, numNoDelayRetries: 1,
            numMinDelayRetries: 1, numMaxDelayRetries: 1)
        #expect(allPhases.numBackoffRetries == 0)
        #expect(allPhases.schedule == [0, 3, 9])
    }

    /// Policies built in code are not validated; absurd values must still not trap.
    @Test func absurdValuesDoNotTrap() {
        let policy = HTTPRetryPolicy(
            minDelayTarget: -5, maxDelayTarget: Int.max, numRetries: 4, numNoDelayRetries: Int.max,
            numMinDelayRetries: Int.min, numMaxDelayRetries: Int.max, backoffFunction: .geometric)
        #expect(policy.schedule == [0, 0, 0, 0])
        let wide = HTTPRetryPolicy(minDelayTarget: 0, maxDelayTarget: Int.max, numRetries: 3, backoffFunction: .exponential)
        #expect(wide.schedule.count == 3)
        #expect(wide.schedule.first == 0)
    }
}
