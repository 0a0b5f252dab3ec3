import Testing
@testable import FilterPolicy

@Suite struct PolicyASTTests {
    @Test func orGroupsExpandToBranches() {
        let a = KeyCondition(path: "a", conditions: [.exactString("1")])
        let b = KeyCondition(path: "b", conditions: [.exactString("2")])
        let c = KeyCondition(path: "c", conditions: [.exactString("3")])
        let conj = PolicyConjunction(keys: [a], orGroups: [[PolicyConjunction(keys: [b]), PolicyConjunction(keys: [c])]])
        #expect(conj.branches == [[a, b], [a, c]])
    }

    @Test func cidrContainment() {
        let block = CIDRBlock(address: [10, 0, 0, 0], prefixLength: 24)
        #expect(block.contains([10, 0, 0, 255]))
        #expect(!block.contains([10, 0, 1, 0]))
    }

    @Test func numericRangeBounds() {
        let r = NumericRange(lower: 0, lowerInclusive: false, upper: 100, upperInclusive: true)
        #expect(r.contains(99) && r.contains(100) && !r.contains(0) && !r.contains(111))
    }
}

@Suite struct FilterNumberTests {
    @Test func numbersAgreeingToSixDecimalsAreEqual() {
        #expect(FilterNumber.canonical(100.123456789) == FilterNumber.canonical(100.1234567))
        #expect(FilterNumber.canonical(100.12345) != FilterNumber.canonical(100.12346))
        #expect(FilterNumber.canonical(-0.0000004) == 0)
        #expect(FilterNumber.canonical(1e300) == 1e300)
        #expect(FilterNumber.canonical(.infinity) == .infinity)
    }

    @Test func canonicalIsMonotonicAndIdempotent() {
        var previous = -Double.greatestFiniteMagnitude
        for x in stride(from: -3.0, through: 3.0, by: 0.0000937) {
            let c = FilterNumber.canonical(x)
            #expect(c >= previous)
            #expect(FilterNumber.canonical(c) == c)
            previous = c
        }
    }
}
