import Testing
import HeraldCore

@Suite struct TopicNameTests {
    @Test(arguments: ["a", "orders", "Orders_2024-x", "t.fifo", String(repeating: "a", count: 256), String(repeating: "a", count: 251) + ".fifo"])
    func valid(name: String) { #expect(TopicName.isValid(name)) }

    @Test(arguments: ["", ".fifo", "a.b", "a b", "a.fifo.fifo", "a.FIFO", "ä", String(repeating: "a", count: 257), "x.fif", "a/b"])
    func invalid(name: String) { #expect(!TopicName.isValid(name)) }

    @Test func fifo() {
        #expect(TopicName.isFIFO("orders.fifo"))
        #expect(!TopicName.isFIFO("orders"))
    }
}

@Suite struct HeraldErrorCodeTests {
    @Test func catalogCodesAreUniqueAndWellFormed() {
        let raw = HeraldErrorCode.all.map(\.rawValue)
        #expect(Set(raw).count == raw.count)
        for code in HeraldErrorCode.all { #expect(HeraldErrorCode.isWellFormed(code.rawValue.utf8), "\(code)") }
        #expect(HeraldErrorCode.invalidParameter.rawValue == "InvalidParameter")
        #expect(HeraldErrorCode.parameterValueInvalid.rawValue == "ParameterValueInvalid")
    }

    @Test func wellFormedness() {
        #expect(!HeraldErrorCode.isWellFormed("".utf8))
        #expect(!HeraldErrorCode.isWellFormed("Bad Code".utf8))
        #expect(!HeraldErrorCode.isWellFormed(String(repeating: "A", count: 65).utf8))
        #expect(HeraldErrorCode.isWellFormed("FutureCode2".utf8))
    }
}

