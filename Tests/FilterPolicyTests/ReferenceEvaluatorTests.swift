import Testing
import HeraldCore
@testable import FilterPolicy

/// Whether `policy` (body scope) matches `body`.
func bodyMatches(_ policy: String, _ body: String) throws -> Bool {
    ReferenceEvaluator.matches(try FilterPolicy.parse(policy, scope: .messageBody), .body(body))
}

/// Whether `policy` (attribute scope) matches `attributes`.
func attributesMatch(_ policy: String, _ attributes: MessageAttributes) throws -> Bool {
    ReferenceEvaluator.matches(try FilterPolicy.parse(policy), .attributes(attributes))
}

@Suite struct ExactMatchTests {
    @Test func stringsAreWholeAndCaseSensitive() throws {
        #expect(try bodyMatches(#"{"k":["abc"]}"#, #"{"k":"abc"}"#))
        #expect(try !bodyMatches(#"{"k":["abc"]}"#, #"{"k":"ABC"}"#))
        #expect(try !bodyMatches(#"{"k":["abc"]}"#, #"{"k":"abcd"}"#))
        #expect(try bodyMatches(#"{"k":[""]}"#, #"{"k":""}"#))
    }

    @Test func stringsCompareBytesWithoutNormalisation() throws {
        // U+00E9 versus e + U+0301: equal as Swift Strings, different bytes.
        #expect(try !bodyMatches(#"{"k":["\u00e9"]}"#, #"{"k":"e\u0301"}"#))
        #expect(try !bodyMatches(#"{"k":[{"prefix":"\u00e9"}]}"#, #"{"k":"e\u0301x"}"#))
    }

    @Test func typesDoNotCross() throws {
        #expect(try !attributesMatch(#"{"k":["99"]}"#, ["k": .number("99")]))
        #expect(try !attributesMatch(#"{"k":[99]}"#, ["k": .string("99")]))
        #expect(try attributesMatch(#"{"k":[99]}"#, ["k": .number("99.0")]))
        #expect(try !bodyMatches(#"{"k":[true]}"#, #"{"k":"true"}"#))
        #expect(try bodyMatches(#"{"k":[true]}"#, #"{"k":true}"#))
        #expect(try !bodyMatches(#"{"k":[null]}"#, #"{"k":"null"}"#))
        #expect(try bodyMatches(#"{"k":[null]}"#, #"{"k":null}"#))
        #expect(try attributesMatch(#"{"k":[true]}"#, ["k": .stringArray(json: "[true]")]))
        #expect(try !attributesMatch(#"{"k":[true]}"#, ["k": .string("true")]))
    }

    @Test func numbersCompareNumerically() throws {
        #expect(try bodyMatches(#"{"k":[301.5]}"#, #"{"k":3.015e2}"#))
        #expect(try bodyMatches(#"{"k":[{"numeric":["=",3.015e2]}]}"#, #"{"k":301.5}"#))
        #expect(try bodyMatches(#"{"k":[0]}"#, #"{"k":-0}"#))
    }

    @Test func nullDoesNotMatchAbsence() throws {
        #expect(try !attributesMatch(#"{"attr1":[null,{"anything-but":"whatever"}]}"#, [:]))
        #expect(try !attributesMatch(#"{"attr1":[null]}"#, ["other": .string("x")]))
    }
}

@Suite struct StringOperatorMatchTests {
    @Test func prefixSuffixAndIgnoreCase() throws {
        #expect(try bodyMatches(#"{"k":[{"prefix":"bas"}]}"#, #"{"k":"baseball"}"#))
        #expect(try !bodyMatches(#"{"k":[{"prefix":"bas"}]}"#, #"{"k":"Baseball"}"#))
        #expect(try bodyMatches(#"{"k":[{"suffix":"ball"}]}"#, #"{"k":"baseball"}"#))
        #expect(try !bodyMatches(#"{"k":[{"suffix":"ball"}]}"#, #"{"k":"balls"}"#))
        #expect(try bodyMatches(#"{"k":[{"equals-ignore-case":"tennis"}]}"#, #"{"k":"teNnis"}"#))
        #expect(try !bodyMatches(#"{"k":[{"equals-ignore-case":"tennis"}]}"#, #"{"k":"tennis!"}"#))
        #expect(try !bodyMatches(#"{"k":[{"prefix":"1"}]}"#, #"{"k":12}"#))
        #expect(try bodyMatches(#"{"k":[{"prefix":""}]}"#, #"{"k":"anything"}"#))
    }
}

@Suite struct AnythingButMatchTests {
    @Test func anyElementSemanticsForArrays() throws {
        let policy = #"{"k":[{"anything-but":["rugby","tennis"]}]}"#
        #expect(try attributesMatch(policy, ["k": .stringArray(json: #"["rugby","baseball"]"#)]))
        #expect(try !attributesMatch(policy, ["k": .stringArray(json: #"["rugby","tennis"]"#)]))
        #expect(try bodyMatches(#"{"k":[{"anything-but":[100,500]}]}"#, #"{"k":[100,50]}"#))
    }

    @Test func neverMatchesAbsenceOrOtherTypes() throws {
        #expect(try !attributesMatch(#"{"k":[{"anything-but":"x"}]}"#, ["other": .string("y")]))
        #expect(try !attributesMatch(#"{"k":[{"anything-but":"x"}]}"#, ["k": .number("5")]))
        #expect(try !attributesMatch(#"{"k":[{"anything-but":5}]}"#, ["k": .string("x")]))
        #expect(try attributesMatch(#"{"k":[{"anything-but":"x"},{"exists":false}]}"#, ["other": .string("y")]))
    }

    @Test func prefixAndNumbers() throws {
        #expect(try bodyMatches(#"{"k":[{"anything-but":{"prefix":"order-"}}]}"#, #"{"k":"invoice-1"}"#))
        #expect(try !bodyMatches(#"{"k":[{"anything-but":{"prefix":"order-"}}]}"#, #"{"k":"order-1"}"#))
        #expect(try bodyMatches(#"{"k":[{"anything-but":100}]}"#, #"{"k":1e3}"#))
        #expect(try !bodyMatches(#"{"k":[{"anything-but":100}]}"#, #"{"k":1e2}"#))
    }
}

@Suite struct NumericAndCIDRMatchTests {
    @Test func rangesAreBoundedAsWritten() throws {
        let policy = #"{"attr1":[{"numeric":[">",0,"<=",100]}]}"#
        #expect(try attributesMatch(policy, ["attr1": .number("99")]))
        #expect(try attributesMatch(policy, ["attr1": .number("100")]))
        #expect(try !attributesMatch(policy, ["attr1": .number("0")]))
        #expect(try !attributesMatch(policy, ["attr1": .number("111")]))
        #expect(try !attributesMatch(policy, ["attr1": .string("99")]))
        #expect(try attributesMatch(policy, ["attr1": .stringArray(json: "[500, 7]")]))
    }

    @Test func cidrMatchesIPv4AndIPv6Strings() throws {
        #expect(try bodyMatches(#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#, #"{"ip":"10.0.0.255"}"#))
        #expect(try !bodyMatches(#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#, #"{"ip":"10.0.0.256"}"#))
        #expect(try !bodyMatches(#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#, #"{"ip":"10.0.1.0"}"#))
        let v6 = #"{"ip":[{"cidr":"2001:db8:1234:1a00::/64"}]}"#
        #expect(try bodyMatches(v6, #"{"ip":"2001:0db8:1234:1a00:0000:0000:0000:0000"}"#))
        #expect(try bodyMatches(v6, #"{"ip":"2001:db8:1234:1a00::9"}"#))
        #expect(try !bodyMatches(v6, #"{"ip":"2001:0db8:123f:1a01:0000:0000:0000:0000"}"#))
        #expect(try !bodyMatches(v6, #"{"ip":"10.0.0.1"}"#))
    }
}

@Suite struct ExistsMatchTests {
    @Test func existsLooksForANonNullValue() throws {
        #expect(try attributesMatch(#"{"store":[{"exists":true}]}"#, ["store": .number("1")]))
        #expect(try !attributesMatch(#"{"store":[{"exists":true}]}"#, ["attr1": .string("x")]))
        #expect(try attributesMatch(#"{"store":[{"exists":false}]}"#, ["def": .string("x")]))
        #expect(try !attributesMatch(#"{"store":[{"exists":false}]}"#, ["store": .string("x"), "def": .string("x")]))
        #expect(try !bodyMatches(#"{"k":[{"exists":true}]}"#, #"{"k":null}"#))
        #expect(try !bodyMatches(#"{"k":[{"exists":true}]}"#, #"{"k":[]}"#))
        #expect(try bodyMatches(#"{"k":[{"exists":false}]}"#, #"{"k":[null]}"#))
        // exists applies to leaves: a key holding only an object is absent.
        #expect(try !bodyMatches(#"{"k":[{"exists":true}]}"#, #"{"k":{"x":1}}"#))
        #expect(try bodyMatches(#"{"k":[{"exists":false}]}"#, #"{"k":{"x":1}}"#))
    }

    @Test func existsFalseNeverMatchesAnEmptyAttributeSet() throws {
        #expect(try !attributesMatch(#"{"store":[{"exists":false}]}"#, [:]))
        // A Binary attribute makes the set non-empty, and counts as absent.
        #expect(try attributesMatch(#"{"store":[{"exists":false}]}"#, ["store": .binary([1])]))
        #expect(try !attributesMatch(#"{"store":[{"exists":true}]}"#, ["store": .binary([1])]))
        // In a body, {} is not "no attributes".
        #expect(try bodyMatches(#"{"k":[{"exists":false}]}"#, "{}"))
    }

    @Test func nothingMatchesABodyThatIsNotAnObject() throws {
        #expect(try !bodyMatches(#"{"k":[{"exists":false}]}"#, "Regular string message"))
        #expect(try !bodyMatches("{}", "Regular string message"))
        #expect(try bodyMatches("{}", #"{"a":1}"#))
    }
}

@Suite struct StructureMatchTests {
    @Test func keysAreAndedAndOrGroupsPickOne() throws {
        let policy = #"{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"namespace":["AWS/EC2"]}]}"#
        #expect(try bodyMatches(policy, #"{"source":"aws.cloudwatch","namespace":"AWS/EC2"}"#))
        #expect(try bodyMatches(policy, #"{"source":"aws.cloudwatch","metricName":"CPUUtilization"}"#))
        #expect(try !bodyMatches(policy, #"{"source":"aws.cloudwatch","metricName":"x"}"#))
        #expect(try !bodyMatches(policy, #"{"source":"aws.events","namespace":"AWS/EC2"}"#))
    }

    @Test func dotsAndNestingAreEquivalent() throws {
        for body in [#"{"object":{"nested":{"test":"v"}}}"#, #"{"object.nested.test":"v"}"#,
                     #"{"object.nested":{"test":"v"}}"#, #"{"object":{"nested.test":"v"}}"#] {
            #expect(try bodyMatches(#"{"object.nested.test":["v"]}"#, body), "\(body)")
            #expect(try bodyMatches(#"{"object":{"nested":{"test":["v"]}}}"#, body), "\(body)")
        }
    }

    @Test func arrayElementsMatchIndependently() throws {
        // Keys may be satisfied by different elements of one array (no cross-element correlation).
        let body = #"{"r":[{"a":"1","b":"x"},{"a":"2","b":"y"}]}"#
        #expect(try bodyMatches(#"{"r":{"a":["1"],"b":["y"]}}"#, body))
    }

    @Test func scopeEntryPointPicksTheInput() throws {
        let attrPolicy = try FilterPolicy.parse(#"{"k":["v"]}"#)
        let bodyPolicy = try FilterPolicy.parse(#"{"k":["v"]}"#, scope: .messageBody)
        let attributes: MessageAttributes = ["k": .string("v")]
        let body = Array(#"{"k":"w"}"#.utf8)
        #expect(ReferenceEvaluator.matches(attrPolicy, attributes: attributes, body: body))
        #expect(!ReferenceEvaluator.matches(bodyPolicy, attributes: attributes, body: body))
    }
}

@Suite struct ExplainTests {
    @Test func matchingMessagesHaveNoReason() throws {
        let policy = try FilterPolicy.parse(#"{"k":["v"]}"#)
        #expect(ReferenceEvaluator.explain(policy, .attributes(["k": .string("v")])) == nil)
    }

    @Test func namesTheFailingKeyAndItsValues() throws {
        let policy = try FilterPolicy.parse(#"{"store":["example_corp"],"price":[{"numeric":[">",0,"<=",100]}]}"#)
        let input = FilterInput.attributes(["store": .string("example_corp"), "price": .number("111")])
        #expect(ReferenceEvaluator.explain(policy, input)
            == #"key "price" has value 111; none satisfies [{"numeric": [">", 0, "<=", 100]}]"#)
        let absent = FilterInput.attributes(["price": .number("5")])
        #expect(ReferenceEvaluator.explain(policy, absent)
            == #"key "store" is absent from the message; the policy wants ["example_corp"]"#)
    }

    @Test func explainsEmptyAttributesBodiesAndBranches() throws {
        let existsFalse = try FilterPolicy.parse(#"{"k":[{"exists":false}]}"#)
        #expect(ReferenceEvaluator.explain(existsFalse, .attributes([:]))?.contains("has no attributes") == true)
        let body = try FilterPolicy.parse(#"{"k":["v"]}"#, scope: .messageBody)
        #expect(ReferenceEvaluator.explain(body, .body("nope")) == "the message body is not a JSON object, so no MessageBody-scope policy matches it")
        let or = try FilterPolicy.parse(#"{"$or":[{"a":["1"]},{"b":[{"prefix":"x"}]}]}"#)
        #expect(ReferenceEvaluator.explain(or, .attributes(["b": .string("y")]))
            == #"none of the 2 $or branches holds: branch 1: key "a" is absent from the message; the policy wants ["1"]; branch 2: key "b" has value "y"; none satisfies [{"prefix": "x"}]"#)
    }

    @Test func conditionsRenderAsPolicyJSON() {
        #expect(Condition.anythingBut(.numbers([1, 2.5])).policyText == #"{"anything-but": [1, 2.5]}"#)
        #expect(Condition.numeric(.equals(3)).policyText == #"{"numeric": ["=", 3]}"#)
        #expect(Condition.cidr(CIDRBlock(address: [10, 0, 0, 0], prefixLength: 8)).policyText == #"{"cidr": "10.0.0.0/8"}"#)
    }
}
