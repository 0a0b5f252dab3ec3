import Testing
import HeraldCore

@Suite struct MessageValidatorTests {
    let validator = MessageValidator()
    let body: [UInt8] = Array("hello".utf8)

    func error(body: [UInt8] = Array("hello".utf8), _ attributes: MessageAttributes) -> HeraldError? {
        do {
            try validator.validate(body: body, attributes: attributes)
            return nil
        } catch {
            return error
        }
    }

    func error(name: String, _ value: MessageAttributeValue = .string("v")) -> HeraldError? {
        error([name: value])
    }

    @Test func acceptsAValidMessage() throws {
        try validator.validate(body: body, attributes: [
            "attr1": .number("1"), "s": .string("x"), "b": .binary([0]), "arr": .stringArray(json: #"["a",1,true,null]"#),
            "custom": MessageAttributeValue(dataType: "String.  prefixed.", payload: .string("x")),
            "n-x_y.z": MessageAttributeValue(dataType: "Number.int", payload: .string("-3.25e2")),
        ])
    }

    @Test func emptyMessage() {
        #expect(error(body: [], [:]) == HeraldError(.invalidParameter, "Invalid parameter: Empty message"))
    }

    @Test func sizeLimitCountsBodyAndAttributeNameTypeAndValue() throws {
        // SNS recording: 262144 - len("attr1"+"Number"+"1") body bytes plus attr1=Number:1 is accepted.
        let fits = [UInt8](repeating: 0x61, count: 262_144 - 12)
        try validator.validate(body: fits, attributes: ["attr1": .number("1")])
        let tooLong = fits + [0x61]
        #expect(error(body: tooLong, ["attr1": .number("1")]) == HeraldError(.invalidParameter, "Invalid parameter: Message too long"))
        #expect(error(body: [UInt8](repeating: 0, count: 262_145), [:])?.message == "Invalid parameter: Message too long")
        // Multi-byte UTF-8 counts bytes, not characters.
        // "x" + "String" + "é" is 9 bytes (1 + 6 + 2), not 8 characters.
        let exact = [UInt8](repeating: 0x61, count: 262_144 - 9)
        #expect(error(body: exact, ["x": .string("é")]) == nil)
        #expect(error(body: exact + [0x61], ["x": .string("é")])?.message == "Invalid parameter: Message too long")
    }

    @Test func attributeCountLimit() throws {
        var attributes: MessageAttributes = [:]
        for i in 0..<10 { attributes["a\(i)"] = .string("v") }
        try validator.validate(body: body, attributes: attributes)
        attributes["a10"] = .string("v")
        let failure = try #require(error(attributes))
        #expect(failure.code == .invalidParameter)
        #expect(failure.message.contains("[11] exceeds the allowed maximum [10]"))
    }

    @Test func nameLength() {
        #expect(error(name: String(repeating: "a", count: 256)) == nil)
        #expect(error(name: String(repeating: "a", count: 257))
            == HeraldError(.parameterValueInvalid, "Length of message attribute name must be less than 256 bytes."))
    }

    @Test func nameDots() {
        #expect(error(name: ".attr") == HeraldError(.parameterValueInvalid, "Invalid message attribute name starting with character '.' was found."))
        #expect(error(name: "attr.") == HeraldError(.parameterValueInvalid, "Invalid message attribute name ending with character '.' was found."))
        #expect(error(name: "a..b") == HeraldError(.parameterValueInvalid, "Message attribute name can not have successive '.' character."))
        #expect(error(name: "a.b.c") == nil)
    }

    @Test(arguments: [("a^b", "5E"), ("a b", "20"), ("ä", "E4"), ("a/b", "2F"), ("😀", "1F600")])
    func nameCharacters(name: String, hex: String) {
        #expect(error(name: name) == HeraldError(
            .parameterValueInvalid,
            "Invalid non-alphanumeric character '#x\(hex)' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots."))
    }

    @Test(arguments: ["AWS.x", "aws.x", "aWs.trace", "Amazon.x", "AMAZON.x", "amazon.y"])
    func reservedPrefixes(name: String) throws {
        let failure = try #require(error(name: name))
        #expect(failure.code == .parameterValueInvalid)
        #expect(failure.message.contains("reserved prefix"))
    }

    @Test(arguments: ["AWSx", "Amazonx", "awsome", "AWS-x"])
    func namesMerelyStartingLikeReservedPrefixesAreFine(name: String) {
        #expect(error(name: name) == nil)
    }

    @Test func emptyName() {
        #expect(error(name: "")?.code == .parameterValueInvalid)
    }

    @Test(arguments: ["String.", "Stringprefixed", "string", "Num", "Binary.", "Foo", "NUMBER"])
    func invalidDataTypes(type: String) {
        let value = MessageAttributeValue(dataType: type, payload: .string("1"))
        #expect(error(["attr1": value]) == HeraldError(
            .parameterValueInvalid,
            "The message attribute 'attr1' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."))
    }

    @Test(arguments: ["String", "String.prefixed", "String.  prefixed.", "String.Array", "Number", "Number.float", "Number.."])
    func validStringAndNumberTypes(type: String) {
        let value = MessageAttributeValue(dataType: type, payload: .string(type == "String.Array" ? "[]" : "1"))
        // "Number.." is "Number." plus the one-character label ".", accepted like "String.  prefixed.".
        #expect(error(["attr1": value]) == nil)
    }

    @Test func missingAndOverlongDataType() {
        #expect(error(["attr1": MessageAttributeValue(dataType: "", payload: .string("x"))]) == HeraldError(
            .validationError,
            "1 validation error detected: Value null at 'messageAttributes.attr1.member.dataType' failed to satisfy constraint: Member must not be null"))
        let long = "String." + String(repeating: "x", count: 249)
        #expect(error(["attr1": MessageAttributeValue(dataType: long, payload: .string("x"))]) == nil)
        #expect(error(["attr1": MessageAttributeValue(dataType: long + "x", payload: .string("x"))])
            == HeraldError(.parameterValueInvalid, "Length of message attribute type must be less than 256 bytes."))
    }

    @Test func valueFieldMustMatchType() {
        #expect(error(["attr1": MessageAttributeValue(dataType: "String", payload: .binary([1]))])
            == HeraldError(.parameterValueInvalid, "The message attribute 'attr1' with type 'String' must use field 'String'."))
        #expect(error(["attr1": MessageAttributeValue(dataType: "Number", payload: .binary([1]))])
            == HeraldError(.parameterValueInvalid, "The message attribute 'attr1' with type 'Number' must use field 'String'."))
        #expect(error(["attr1": MessageAttributeValue(dataType: "Binary", payload: .string("x"))])
            == HeraldError(.parameterValueInvalid, "The message attribute 'attr1' with type 'Binary' must use field 'Binary'."))
    }

    @Test func emptyValues() {
        #expect(error(["attr1": .string("")]) == HeraldError(
            .parameterValueInvalid, "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type 'String'."))
        #expect(error(["attr1": .binary([])]) == HeraldError(
            .parameterValueInvalid, "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type 'Binary'."))
        #expect(error(["attr1": .number("")])?.message
            == "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type 'Number'.")
    }

    @Test(arguments: ["0", "-1", "+1", "1.5", ".5", "5.", "1e9", "-1e9", "1000000000", "-1000000000", "0.123456789", "1E3", "2.5e-3", "007"])
    func validNumbers(text: String) {
        #expect(error(["n": .number(text)]) == nil)
        #expect(NumberAttribute.value(of: text) != nil)
    }

    @Test(arguments: ["abc", "1 ", " 1", "1,5", "0x10", "Infinity", "NaN", "inf", "1e", "e5", ".", "-", "+-1", "1.2.3", "١"])
    func notNumbers(text: String) {
        #expect(error(["n": .number(text)]) == HeraldError(.parameterValueInvalid, "Could not cast message attribute 'n' value to number."))
        #expect(NumberAttribute.value(of: text) == nil)
    }

    @Test(arguments: ["1000000000.0001", "-1000000001", "1e10", "1e400"])
    func numbersOutOfRange(text: String) throws {
        let failure = try #require(error(["n": .number(text)]))
        #expect(failure.code == .parameterValueInvalid)
        #expect(failure.message.hasPrefix("Value \(text) for message attribute 'n' of type 'Number' is out of range") || failure.message.hasPrefix("Could not cast"))
    }

    @Test func stringArrayMustBeAJSONArray() throws {
        #expect(error(["a": .stringArray(json: #"["x", 1, 2.5, true, false, null, {"k": "v"}]"#)]) == nil)
        #expect(error(["a": .stringArray(json: "[]")]) == nil)
        for bad in [#"{"a": 1}"#, "x", "[1,", "\"s\"", "[1] 2"] {
            let failure = try #require(error(["a": .stringArray(json: bad)]), "\(bad)")
            #expect(failure.code == .parameterValueInvalid)
            #expect(failure.message.hasPrefix("The message attribute 'a' with type 'String.Array' must be a JSON array"))
        }
        // The reason is the shared JSON parser's (Jackson's) message; what filtering reads, this accepts.
        let truncated = try #require(error(["a": .stringArray(json: "[1,")]))
        #expect(truncated.message.hasPrefix("The message attribute 'a' with type 'String.Array' must be a JSON array: Unexpected end-of-input: expected close marker for Array"))
        #expect(error(["a": .stringArray(json: #"["\ud800"]"#)]) == nil)
        // Only the exact type String.Array is an array; a custom String label is free text.
        #expect(error(["a": MessageAttributeValue(dataType: "String.Arrayish", payload: .string("x"))]) == nil)
    }

    @Test func supplementaryCharactersOnlyWhenAsked() throws {
        #expect(error(["a": .string("hi 😀")]) == nil)
        let strict = MessageValidator(rejectsSupplementaryCharacters: true)
        #expect(throws: HeraldError(.parameterValueInvalid, "Invalid attribute value was passed in for message attribute")) {
            try strict.validate(body: [1], attributes: ["a": .string("hi 😀")])
        }
    }

    @Test func firstErrorIsDeterministic() {
        // Both are bad; names are checked in UTF-8 order, so "a" is reported.
        let failure = error(["b": .string(""), "a": .binary([])])
        #expect(failure?.message.contains("'a'") == true)
    }

    @Test func limitsAreConfigurable() throws {
        var limits = MessageLimits()
        limits.maxMessageBytes = 20
        limits.maxAttributes = 1
        let small = MessageValidator(limits: limits)
        try small.validate(body: Array("123456789012".utf8), attributes: ["a": .string("b")])  // 12 + 8
        #expect(throws: HeraldError(.invalidParameter, "Invalid parameter: Message too long")) {
            try small.validate(body: Array("1234567890123".utf8), attributes: ["a": .string("b")])
        }
        #expect(throws: HeraldError.self) { try small.validate(body: [1], attributes: ["a": .string("b"), "c": .string("d")]) }
    }
}
