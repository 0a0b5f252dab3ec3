import Testing
import HeraldCore
@testable import FilterPolicy

/// The reason text `parse` rejects `policy` with, or nil when it accepts it.
func rejection(_ policy: String, scope: FilterPolicyScope = .messageAttributes, limits: FilterPolicyLimits = .sns) -> String? {
    do {
        _ = try FilterPolicy.parse(policy, scope: scope, limits: limits)
        return nil
    } catch {
        return error.reason
    }
}

@Suite struct PolicyShapeTests {
    @Test(arguments: [
        (#"{"key_a":"value_one"}"#, #""key_a" must be an object or an array"#),
        (#"{"key":{"suffix":"value"}}"#, #""suffix" must be an object or an array"#),
        (#"{"key":{"not-an-operator":"value"}}"#, #""not-an-operator" must be an object or an array"#),
        (#"{"key":{"suffix":"value","prefix":"value"}}"#, #""suffix" must be an object or an array"#),
        (#"{"key":[]}"#, "Empty arrays are not allowed"),
        (#"{"key":[["a"]]}"#, "Match value must be String, number, true, false, or null"),
        (#"{"key":{}}"#, "Empty objects are not allowed"),
        (#"{"key":[{}]}"#, "Match expression name not found"),
        (#"{"key":[{"suffix":"v","prefix":"v2"}]}"#, "Only one key allowed in match expression"),
        (#"{"key":[{"wrong-operator":true}]}"#, "Unrecognized match type wrong-operator"),
        (#"{"key":[{"wildcard":"*ball"}]}"#, "Unrecognized match type wildcard"),
        (#"{"key":[{"exactly":"x"}]}"#, "Unrecognized match type exactly"),
        (#"["a"]"#, "Filter is not an object"),
        ("42", "Filter is not an object"),
    ])
    func shapeErrors(policy: String, reason: String) {
        #expect(rejection(policy) == reason)
    }

    /// The JSON-shape check runs before the MessageAttributes no-nesting check (recorded on AWS).
    @Test func shapeCheckPrecedesNestingCheck() {
        #expect(rejection(#"{"key":{"suffix":"value"}}"#, scope: .messageAttributes) == #""suffix" must be an object or an array"#)
        #expect(rejection(#"{"store":{"key":["x"]}}"#, scope: .messageAttributes)
            == "Filter policy scope MessageAttributes does not support nested filter policy")
        #expect(rejection(#"{"store":{"key":["x"]}}"#, scope: .messageBody) == nil)
        // Operator errors inside a nested policy come first too (Ruler walks the whole policy first).
        #expect(rejection(#"{"store":{"key":[{"exists":null}]}}"#) == "exists match pattern must be either true or false.")
    }

    @Test func errorsAreReportedInDocumentOrder() {
        #expect(rejection(#"{"a":[{"prefix":1}],"b":[{"suffix":1}]}"#) == "prefix match pattern must be a string")
        #expect(rejection(#"{"b":[{"suffix":1}],"a":[{"prefix":1}]}"#) == "suffix match pattern must be a string")
        // The operand is checked before the extra key.
        #expect(rejection(#"{"a":[{"suffix":1,"prefix":"x"}]}"#) == "suffix match pattern must be a string")
    }

    @Test func emptyPolicyIsAcceptedAndHasNoKeys() throws {
        let policy = try FilterPolicy.parse("{}")
        #expect(policy.root.keys.isEmpty && policy.branches == [[]])
    }

    @Test func literalsAndValuesBecomeConditions() throws {
        let policy = try FilterPolicy.parse(#"{"k":["a", 1.5, -2e3, true, false, null, ""]}"#)
        #expect(policy.root.keys == [KeyCondition(path: "k", conditions: [
            .exactString("a"), .exactNumber(1.5), .exactNumber(-2000), .boolean(true), .boolean(false), .null, .exactString(""),
        ])])
    }

    @Test func duplicatePathsKeepTheLastOne() throws {
        let policy = try FilterPolicy.parse(#"{"a":["1"],"a":["2"]}"#)
        #expect(policy.root.keys == [KeyCondition(path: "a", conditions: [.exactString("2")])])
        let nested = try FilterPolicy.parse(#"{"a.b":["1"],"a":{"b":["2"]}}"#, scope: .messageBody)
        #expect(nested.root.keys == [KeyCondition(path: "a.b", conditions: [.exactString("2")])])
    }
}

@Suite struct StringOperatorTests {
    @Test(arguments: [
        (#"{"k":[{"suffix":100}]}"#, "suffix match pattern must be a string"),
        (#"{"k":[{"suffix":null}]}"#, "suffix match pattern must be a string"),
        (#"{"k":[{"suffix":[]}]}"#, "suffix match pattern must be a string"),
        (#"{"k":[{"suffix":["a","b"]}]}"#, "suffix match pattern must be a string"),
        (#"{"k":[{"prefix":false}]}"#, "prefix match pattern must be a string"),
        (#"{"k":[{"prefix":{"equals-ignore-case":"x"}}]}"#, "prefix match pattern must be a string"),
        (#"{"k":[{"equals-ignore-case":5}]}"#, "equals-ignore-case match pattern must be a string"),
        (#"{"k":[{"exists":null}]}"#, "exists match pattern must be either true or false."),
        (#"{"k":[{"exists":"no"}]}"#, "exists match pattern must be either true or false."),
        (#"{"k":[{"exists":true,"prefix":"a"}]}"#, "Only one key allowed in match expression"),
    ])
    func operandErrors(policy: String, reason: String) {
        #expect(rejection(policy) == reason)
    }

    @Test func operatorsParse() throws {
        let policy = try FilterPolicy.parse(#"{"k":[{"prefix":"a"},{"suffix":"b"},{"equals-ignore-case":"C"},{"exists":false},{"prefix":""}]}"#)
        #expect(policy.root.keys.first?.conditions == [.prefix("a"), .suffix("b"), .equalsIgnoreCase("C"), .exists(false), .prefix("")])
    }
}

@Suite struct AnythingButValidationTests {
    @Test func acceptedForms() throws {
        func condition(_ operand: String) throws -> Condition? {
            try FilterPolicy.parse(#"{"k":[{"anything-but":"# + operand + "}]}").root.keys.first?.conditions.first
        }
        #expect(try condition(#""test""#) == .anythingBut(.strings(["test"])))
        #expect(try condition(#"["test","test2"]"#) == .anythingBut(.strings(["test", "test2"])))
        #expect(try condition("100") == .anythingBut(.numbers([100])))
        #expect(try condition("[100, 500.5]") == .anythingBut(.numbers([100, 500.5])))
        #expect(try condition(#"{"prefix":"order-"}"#) == .anythingBut(.prefix("order-")))
    }

    @Test(arguments: [
        (#"{"suffix":"ball"}"#, "Unsupported anything-but pattern: suffix"),
        (#"{"wildcard":"*ball"}"#, "Unsupported anything-but pattern: wildcard"),
        (#"{"equals-ignore-case":"x"}"#, "Unsupported anything-but pattern: equals-ignore-case"),
        (#"{"exists":false}"#, "Unsupported anything-but pattern: exists"),
        (#"{"wrong-operator":null}"#, "Unsupported anything-but pattern: wrong-operator"),
        (#"{"prefix":false}"#, "prefix match pattern must be a string"),
        (#"{"prefix":""}"#, "Null prefix not allowed"),
        (#"{"prefix":"a","suffix":"b"}"#, "Only one key allowed in match expression"),
        ("{}", "Anything-But expression name not found"),
        ("true", "Value of anything-but must be an array or single string/number value."),
        ("null", "Value of anything-but must be an array or single string/number value."),
        (#"["a", 1]"#, "Inside anything but list, either all values are number or string, mixed type is not supported"),
        ("[]", "Inside anything but list, either all values are number or string, mixed type is not supported"),
        (#"["a", null]"#, "Inside anything but list, start|null|boolean is not supported."),
        (#"[true]"#, "Inside anything but list, start|null|boolean is not supported."),
        (#"[["a"]]"#, "Inside anything but list, start|null|boolean is not supported."),
    ])
    func rejectedForms(operand: String, reason: String) {
        #expect(rejection(#"{"k":[{"anything-but":"# + operand + "}]}") == reason)
    }

    @Test func extraKeyAfterAnythingButUsesRulersNumericText() {
        #expect(rejection(#"{"k":[{"anything-but":"a","prefix":"b"}]}"#) == "Too many elements in numeric expression")
        #expect(rejection(#"{"k":[{"anything-but":{"prefix":"a"},"prefix":"b"}]}"#) == "Only one key allowed in match expression")
    }
}

@Suite struct NumericValidationTests {
    /// §1.3.8 steps 1–8, each with the recorded (or Event Ruler) text.
    @Test(arguments: [
        ("[]", "Invalid member in numeric match: ]"),
        (#"[1,"<="]"#, "Invalid member in numeric match: 1"),
        (#"[1.50,"<="]"#, "Invalid member in numeric match: 1.50"),
        (#"[{"a":1}]"#, "Invalid member in numeric match: {"),
        (#"[null]"#, "Invalid member in numeric match: null"),
        (#"["operator"]"#, "Unrecognized numeric range operator: operator"),
        (#"["0"]"#, "Unrecognized numeric range operator: 0"),
        (#"["=","000"]"#, "Value of equals must be numeric"),
        (#"[">="]"#, "Value of >= must be numeric"),
        (#"["<","100"]"#, "Value of < must be numeric"),
        (#"[">","20","<","30"]"#, "Value of > must be numeric"),
        (#"["<",100,">",10]"#, "Too many elements in numeric expression"),
        (#"["=",1,2]"#, "Too many elements in numeric expression"),
        (#"[">",20,30]"#, "Bad value in numeric range: 30"),
        (#"[">=",1,">",2]"#, "Bad numeric range operator: >"),
        (#"[">",20,"test"]"#, "Bad numeric range operator: test"),
        (#"[">",20,"<="]"#, "Value of <= must be numeric"),
        (#"[">",50,"<=","100"]"#, "Value of <= must be numeric"),
        (#"[">",3,"<",1]"#, "Bottom must be less than top"),
        (#"[">=",3,"<=",3]"#, "Bottom must be less than top"),
        (#"[">",20,"<",30,"<",50]"#, "Too many terms in numeric range expression"),
        (#"[">",30,"<",1,5]"#, "Too many terms in numeric range expression"),
        (#"[">",1e999]"#, "Numeric value out of range: 1e999"),
    ])
    func grammarErrors(operand: String, reason: String) {
        #expect(rejection(#"{"k":[{"numeric":"# + operand + "}]}") == reason)
    }

    @Test func nonArrayOperandAndExtraKey() {
        #expect(rejection(#"{"k":[{"numeric":5}]}"#) == "Value of numeric must be an array.")
        #expect(rejection(#"{"k":[{"numeric":["=",5],"prefix":"a"}]}"#) == "Too many elements in numeric expression")
    }

    @Test func rangesParse() throws {
        func range(_ operand: String) throws -> NumericRange? {
            guard case .numeric(let r)? = try FilterPolicy.parse(#"{"k":[{"numeric":"# + operand + "}]}").root.keys.first?.conditions.first else { return nil }
            return r
        }
        #expect(try range(#"["=",301.5]"#) == .equals(301.5))
        #expect(try range(#"["=",3.015e2]"#) == .equals(301.5))
        #expect(try range(#"[">",0,"<=",100]"#) == NumericRange(lower: 0, lowerInclusive: false, upper: 100, upperInclusive: true))
        #expect(try range(#"[">=",-5]"#) == NumericRange(lower: -5, lowerInclusive: true, upper: nil, upperInclusive: false))
        #expect(try range(#"["<",1e9]"#) == NumericRange(lower: nil, lowerInclusive: false, upper: 1e9, upperInclusive: false))
        // Beyond ±10^9 is accepted (Appendix B #3).
        #expect(try range(#"[">",5e12]"#)?.lower == 5e12)
    }
}

@Suite struct CIDRValidationTests {
    @Test(arguments: [
        (#"["bad-filter"]"#, "prefix match pattern must be a string"),
        (#"5"#, "prefix match pattern must be a string"),
        (#""10.0.0.0""#, "Malformed CIDR, one '/' required"),
        (#""10.0.0.0/""#, "Malformed CIDR, one '/' required"),
        (#""10.0.0.0/8/8""#, "Malformed CIDR, one '/' required"),
        (#""bad-/64filter""#, "Malformed CIDR, mask bits must be an integer"),
        (#""10.0.0.0/x""#, "Malformed CIDR, mask bits must be an integer"),
        (#""10.0.0.0/-1""#, "Malformed CIDR, mask bits must not be negative"),
        (#""bad-filter/64""#, "Nonstandard IP address: bad-filter"),
        (#""xx.11.xx/8""#, "Nonstandard IP address: xx.11.xx"),
        (#""xxxx:db8:1234:1a00::/64""#, "Nonstandard IP address: xxxx:db8:1234:1a00::"),
        (#""/24""#, "Nonstandard IP address: "),
        (#""10.0.0.256/24""#, "Invalid IP address: 10.0.0.256"),
        (#""1:2:3/64""#, "Invalid IP address: 1:2:3"),
        (#""10.0.0.0/32""#, "IPv4 mask bits must be < 32"),
        (#""::/128""#, "IPv6 mask bits must be < 128"),
    ])
    func cidrErrors(operand: String, reason: String) {
        #expect(rejection(#"{"k":[{"cidr":"# + operand + "}]}") == reason)
    }

    @Test func cidrErrorsCarryNoLocationSuffix() throws {
        let error = try #require(throws: FilterPolicyError.self) { try FilterPolicy.parse(#"{"k":[{"cidr":"10.0.0.0"}]}"#) }
        #expect(error.message(api: .subscribe) == "Invalid parameter: Attributes Reason: FilterPolicy: Malformed CIDR, one '/' required")
    }

    @Test func blocksParse() throws {
        #expect(try CIDRBlock.parse("10.0.0.0/24") == CIDRBlock(address: [10, 0, 0, 0], prefixLength: 24))
        #expect(try CIDRBlock.parse("2001:db8:1234:1a00::/64").address == [0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x1a, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(try CIDRBlock.parse("0.0.0.0/0").prefixLength == 0)
    }

    @Test func addressParsing() {
        #expect(CIDRBlock.parseAddress("10.0.0.255") == [10, 0, 0, 255])
        #expect(CIDRBlock.parseAddress("10.0.0.256") == nil)
        #expect(CIDRBlock.parseAddress("010.0.0.1") == nil)
        #expect(CIDRBlock.parseAddress("::1") == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        #expect(CIDRBlock.parseAddress("::") == Array(repeating: 0, count: 16))
        #expect(CIDRBlock.parseAddress("1::") == [0, 1] + Array(repeating: 0, count: 14))
        #expect(CIDRBlock.parseAddress("2001:0db8:1234:1a00:0000:0000:0000:0000")?.count == 16)
        for bad in [":::", "1:::2", "1::2::3", ":1::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "::g", "1.2.3", "a.b.c.d", ""] {
            #expect(CIDRBlock.parseAddress(bad) == nil, "\(bad)")
        }
    }
}

@Suite struct OrValidationTests {
    @Test(arguments: [
        (#"{"$or":{"a":["1"]}}"#, "It must be an Array followed with $or."),
        (#"{"$or":[{"a":["1"]}, "b"]}"#, "Only JSON object is allowed in array of $or relationship."),
        (#"{"$or":[{"a":["1"]}]}"#, "There must have at least 2 Objects in $or relationship."),
        (#"{"$or":[]}"#, "There must have at least 2 Objects in $or relationship."),
        (#"{"$or":[{"a":["1"]},{}]}"#, "Empty objects are not allowed"),
        (#"{"$or":[{"a":["1"]},{"prefix":["x"]}]}"#, "prefix is Ruler reserved fieldName which cannot be used inside $or."),
        (#"{"$or":[{"a":["1"]},{"b":{"numeric":["x"]}}]}"#, "numeric is Ruler reserved fieldName which cannot be used inside $or."),
    ])
    func malformedOrIsRejected(policy: String, reason: String) {
        #expect(rejection(policy, scope: .messageBody) == reason)
    }

    @Test func reservedNamesAreFineOutsideOr() {
        #expect(rejection(#"{"prefix":["x"]}"#) == nil)
    }

    @Test func orBuildsBranchesWithFullPaths() throws {
        let policy = try FilterPolicy.parse(
            #"{"source":["aws.cloudwatch"],"detail":{"$or":[{"a":["1"]},{"b":{"c":["2"]}}]}}"#, scope: .messageBody)
        let paths = policy.branches.map { $0.map(\.path) }
        #expect(paths == [["source", "detail.a"], ["source", "detail.b.c"]])
    }

    @Test func orIsAcceptedUnderMessageAttributesWhenFlat() throws {
        let policy = try FilterPolicy.parse(#"{"a":["1"],"$or":[{"b":["2"]},{"c":["3"]}]}"#)
        #expect(policy.branches.count == 2)
        #expect(rejection(#"{"$or":[{"b":{"x":["2"]}},{"c":["3"]}]}"#)
            == "Filter policy scope MessageAttributes does not support nested filter policy")
    }
}
