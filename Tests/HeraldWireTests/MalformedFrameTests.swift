import Testing
import HeraldCore
@testable import HeraldWire

/// Every malformed input gives a specific error, never a crash or a hang; fatal ones stop the decoder.
@Suite struct MalformedFrameTests {
    struct Case: Sendable, CustomStringConvertible {
        let input: String
        let code: WireError.Code
        let fatal: Bool
        var reference: ErrorReference = .none
        var description: String { input.debugDescription }
    }

    static let clientCases: [Case] = [
        Case(input: "HELLO world\r\n", code: .unknownVerb, fatal: true),
        Case(input: "MSG 1 2 t m 0 0\r\n\r\n", code: .unknownVerb, fatal: true),  // server verb from a client
        Case(input: "\u{16}\u{03}\u{01}\u{02}\u{00}\n", code: .unknownVerb, fatal: true),  // a TLS ClientHello on the plain port
        Case(input: "PUB\r\n", code: .malformedLine, fatal: true),
        Case(input: "PUB orders\r\n", code: .malformedLine, fatal: true),
        Case(input: "PUB orders 1 0\r\n", code: .malformedLine, fatal: true),
        Case(input: "PUB orders x 0 5\r\nhello\r\n", code: .invalidNumber, fatal: true),
        Case(input: "PUB orders 1 0 five\r\nhello\r\n", code: .invalidNumber, fatal: true),
        Case(input: "PUB orders 1 0 -5\r\n", code: .invalidNumber, fatal: true),
        Case(input: "PUB orders 1 0 +5\r\n", code: .invalidNumber, fatal: true),
        Case(input: "PUB orders 1 0 18446744073709551616\r\n", code: .invalidNumber, fatal: true),
        Case(input: "PUB orders 1 0 99999999999999999999999\r\n", code: .invalidNumber, fatal: true),
        Case(input: "PUB orders 18446744073709551616 0 1\r\nx\r\n", code: .invalidNumber, fatal: true),
        Case(input: "PUB orders 1 0 18446744073709551615\r\n", code: .frameTooLarge, fatal: true),
        Case(input: "PUB orders 1 0 400000\r\n", code: .frameTooLarge, fatal: true),
        Case(input: "PUB orders 1 70000 0\r\n", code: .frameTooLarge, fatal: true),
        Case(input: "PUB orders 1 65536 262145\r\n", code: .frameTooLarge, fatal: true),
        Case(input: "PUB orders 1 0 5\r\nhelloXX", code: .missingTerminator, fatal: true),
        Case(input: "PUB orders 1 0 5\r\nhello\rX", code: .missingTerminator, fatal: true),
        Case(input: "PUB orders 1 0 5\r\nhello world\r\n", code: .missingTerminator, fatal: true),
        Case(input: "PUB orders 1 0 5\r\nhel", code: .truncated, fatal: true),
        Case(input: "PUB orders 1 0 5\r\nhello", code: .truncated, fatal: true),
        Case(input: "PUB orders 1 0 5\r\nhello\r", code: .truncated, fatal: true),
        Case(input: "PUB orders 1 0", code: .truncated, fatal: true),
        Case(input: "PUB bad$topic 9 0 1\r\nx\r\n", code: .invalidToken, fatal: false, reference: .request(9)),
        Case(input: "PUB \(String(repeating: "a", count: 257)) 9 0 1\r\nx\r\n", code: .invalidToken, fatal: false, reference: .request(9)),
        Case(input: "PUB t 9 0 1 group=\(String(repeating: "g", count: 129))\r\nx\r\n", code: .invalidToken, fatal: false, reference: .request(9)),
        Case(input: "PUB t 9 0 1 dedup=é\r\nx\r\n", code: .invalidToken, fatal: false, reference: .request(9)),
        Case(input: "PUB t 9 0 1 color=red\r\nx\r\n", code: .malformedLine, fatal: false, reference: .request(9)),
        Case(input: "PUB t 9 0 1 group=a group=b\r\nx\r\n", code: .malformedLine, fatal: false, reference: .request(9)),
        Case(input: "SUB x t MessageAttributes ack 1 0\r\n\r\n", code: .invalidNumber, fatal: true),
        Case(input: "SUB 1 t MessageAttributes ack 1\r\n", code: .malformedLine, fatal: true),
        Case(input: "SUB 1 t MessageAttributes ack 1 300000\r\n", code: .frameTooLarge, fatal: true),
        Case(input: "SUB 1 t Body ack 1 0\r\n\r\n", code: .malformedLine, fatal: false, reference: .subscription(1)),
        Case(input: "SUB 1 t MessageBody maybe 1 0\r\n\r\n", code: .malformedLine, fatal: false, reference: .subscription(1)),
        Case(input: "SUB 1 t MessageBody ack -1 0\r\n\r\n", code: .invalidNumber, fatal: false, reference: .subscription(1)),
        Case(input: "SUB 1 t MessageBody ack 4294967296 0\r\n\r\n", code: .invalidNumber, fatal: false, reference: .subscription(1)),
        Case(input: "SUB 1 t! MessageBody ack 1 2\r\n{}\r\n", code: .invalidToken, fatal: false, reference: .subscription(1)),
        Case(input: "SUB 1 t MessageBody ack 1 0 extra\r\n\r\n", code: .malformedLine, fatal: false, reference: .subscription(1)),
        Case(input: "UNSUB\r\n", code: .malformedLine, fatal: false),
        Case(input: "UNSUB one\r\n", code: .invalidNumber, fatal: false),
        Case(input: "UNSUB 1 2\r\n", code: .malformedLine, fatal: false, reference: .subscription(1)),
        Case(input: "CREDIT 1\r\n", code: .malformedLine, fatal: false, reference: .subscription(1)),
        Case(input: "CREDIT 1 4294967296\r\n", code: .invalidNumber, fatal: false, reference: .subscription(1)),
        Case(input: "ACK 1\r\n", code: .malformedLine, fatal: false, reference: .subscription(1)),
        Case(input: "ACK 1 1,,2\r\n", code: .invalidNumber, fatal: false, reference: .subscription(1)),
        Case(input: "ACK 1 1,\r\n", code: .invalidNumber, fatal: false, reference: .subscription(1)),
        Case(input: "ACK 1 5-3\r\n", code: .malformedLine, fatal: false, reference: .subscription(1)),
        Case(input: "ACK 1 1-2-3\r\n", code: .invalidNumber, fatal: false, reference: .subscription(1)),
        Case(input: "ACK 1 1 2\r\n", code: .malformedLine, fatal: false, reference: .subscription(1)),
        Case(input: "PING now\r\n", code: .malformedLine, fatal: false),
        Case(input: "CONNECT\r\n", code: .invalidJSON, fatal: true),
        Case(input: "CONNECT {\"proto\":1\r\n", code: .invalidJSON, fatal: true),
        Case(input: "CONNECT []\r\n", code: .invalidJSON, fatal: true),
        Case(input: "CONNECT {\"token\":\"x\"}\r\n", code: .invalidJSON, fatal: true),
        Case(input: "CONNECT {\"proto\":\"1\"}\r\n", code: .invalidJSON, fatal: true),
        Case(input: "CONNECT {\"proto\":1,\"token\":5}\r\n", code: .invalidJSON, fatal: true),
    ]

    @Test(arguments: clientCases)
    func clientDecoderRejects(_ c: Case) {
        let results = decodeClient(bytes(c.input))
        #expect(results.first == .failure(c.code, fatal: c.fatal, reference: c.reference), "\(results)")
    }

    @Test func garbageLineTooLong() {
        // 10 KB without a line end: rejected once the line limit is reached, not buffered further.
        var decoder = ClientFrameDecoder()
        decoder.append([UInt8](repeating: 0x41, count: 4095))
        #expect(throws: Never.self) { _ = try decoder.next() }
        decoder.append([0x41])
        #expect(throws: WireError.self) { _ = try decoder.next() }
    }

    @Test func fatalErrorsStick() throws {
        var decoder = ClientFrameDecoder()
        decoder.append(bytes("BOGUS\r\nPING\r\n"))
        let first = #expect(throws: WireError.self) { _ = try decoder.next() }
        decoder.append(bytes("PING\r\n"))
        let second = #expect(throws: WireError.self) { _ = try decoder.next() }
        #expect(first == second)
        #expect(first?.code == .unknownVerb)
    }

    @Test func nonFatalErrorSkipsExactlyOneFrame() throws {
        var decoder = ClientFrameDecoder()
        decoder.append(bytes("PUB b@d 3 0 4\r\nPING\r\nPING\r\n"))
        let error = #expect(throws: WireError.self) { _ = try decoder.next() }
        #expect(error?.isFatal == false)
        #expect(error?.heraldCode == .invalidParameter)
        #expect(error?.message == "Invalid parameter: Topic Name")
        // The body "PING" was consumed as the section, not read as a frame.
        #expect(try decoder.next() == .ping)
        #expect(try decoder.next() == nil)
    }

    @Test func oversizeLengthsAreRejectedBeforeTheSectionArrives() throws {
        var decoder = ClientFrameDecoder()
        decoder.append(bytes("PUB orders 1 0 1000000\r\n"))
        let error = #expect(throws: WireError.self) { _ = try decoder.next() }
        #expect(error?.code == .frameTooLarge)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func lenientInput() throws {
        // Bare LF line ends, lower-case verbs, extra blanks and blank lines (typing in openssl s_client).
        let results = decodeClient(bytes("\r\n\nping\npub  orders\t1 0 2\nhi\n  Ping  \r\n"))
        #expect(results == [.frame(.ping), .frame(.publish(PublishFrame(topic: "orders", requestID: 1, body: bytes("hi")))), .frame(.ping)])
    }

    static let serverCases: [Case] = [
        Case(input: "PUB t 1 0 0\r\n\r\n", code: .unknownVerb, fatal: true),
        Case(input: "INFO\r\n", code: .invalidJSON, fatal: true),
        Case(input: "INFO {}\r\n", code: .invalidJSON, fatal: true),
        Case(input: "INFO {\"proto\":1,\"max_line\":-1}\r\n", code: .invalidJSON, fatal: true),
        Case(input: "CONNOK {\"resumed\":true}\r\n", code: .invalidJSON, fatal: true),
        Case(input: "CONNOK {\"session\":\"s\",\"resumed\":1}\r\n", code: .invalidJSON, fatal: true),
        Case(input: "MSG 1 2 t m 0\r\n", code: .malformedLine, fatal: true),
        Case(input: "MSG 1 2 t m 0 99999999\r\n", code: .frameTooLarge, fatal: true),
        Case(input: "MSG x 2 t m 0 1\r\nx\r\n", code: .invalidNumber, fatal: true),
        Case(input: "MSG 1 2 t m 0 1\r\nxy\r\n", code: .missingTerminator, fatal: true),
        Case(input: "MSG 1 2 t m 0 1 again\r\nx\r\n", code: .malformedLine, fatal: false, reference: .subscription(1)),
        Case(input: "MSG 1 2 t m 0 1 redelivered redelivered\r\nx\r\n", code: .malformedLine, fatal: false, reference: .subscription(1)),
        Case(input: "MSG 1 2 t m!id 0 1\r\nx\r\n", code: .invalidToken, fatal: false, reference: .subscription(1)),
        Case(input: "MSG 1 2 t/x m 0 1\r\nx\r\n", code: .invalidToken, fatal: false, reference: .subscription(1)),
        Case(input: "PUBOK 1\r\n", code: .malformedLine, fatal: false, reference: .request(1)),
        Case(input: "PUBOK 1 bad/id\r\n", code: .invalidToken, fatal: false, reference: .request(1)),
        Case(input: "ERR\r\n", code: .malformedLine, fatal: false),
        Case(input: "ERR Not-A-Code - x\r\n", code: .invalidToken, fatal: false),
        Case(input: "ERR NotFound\r\n", code: .malformedLine, fatal: false),
        Case(input: "ERR NotFound sid=x msg\r\n", code: .invalidNumber, fatal: false),
        Case(input: "ERR NotFound abc msg\r\n", code: .invalidNumber, fatal: false),
        Case(input: "SUBOK\r\n", code: .malformedLine, fatal: false),
        Case(input: "MSG 1 2 t m 0 5\r\nab", code: .truncated, fatal: true),
    ]

    @Test(arguments: serverCases)
    func serverDecoderRejects(_ c: Case) {
        let results = decodeServer(bytes(c.input))
        #expect(results.first == .failure(c.code, fatal: c.fatal, reference: c.reference), "\(results)")
    }

    @Test func randomBytesNeverCrashOrHang() {
        var generator = SplitMix64(seed: 42)
        let alphabet = bytes("PUBSMGACKINFOERR 0123456789\r\n-=.,{}\"")
        for round in 0..<2000 {
            let count = Int(generator.next() % 200)
            let input: [UInt8] = (0..<count).map { _ in
                round % 2 == 0 ? UInt8(truncatingIfNeeded: generator.next()) : alphabet[Int(generator.next() % UInt64(alphabet.count))]
            }
            // Both decoders must terminate; any result is fine as long as it is frames/errors.
            let client = decodeClient(input)
            let server = decodeServer(input)
            #expect(client.count <= input.count + 1)
            #expect(server.count <= input.count + 1)
        }
    }
}

