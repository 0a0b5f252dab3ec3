import Testing
@testable import HeraldCore

/// SigV4 against AWS's published suite (botocore's copy) and the Herald-shaped vectors of
/// spec/aws-api.md §8.3 (botocore 1.44.18, clock at 20150830T123600Z).
@Suite struct SigV4Tests {
    static let key = "AKIDEXAMPLE"
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let date = "20150830T123600Z"
    static let now = SigV4.parseAmzDate(date) ?? 0

    static func authorization(service: String, signed: String, signature: String) -> String {
        "AWS4-HMAC-SHA256 Credential=\(key)/20150830/us-east-1/\(service)/aws4_request, SignedHeaders=\(signed), Signature=\(signature)"
    }

    static func lookup(_ id: String) -> String? { id == key ? secret : nil }

    @Test func hmacMatchesRFC4231() {
        // RFC 4231 test case 2.
        let mac = HMACSHA256.authenticate(Array("what do ya want for nothing?".utf8), key: Array("Jefe".utf8))
        #expect(LowerHex.string(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func amzDates() {
        #expect(SigV4.parseAmzDate("19700101T000000Z") == 0)
        #expect(SigV4.parseAmzDate("20150830T123600Z") == 1_440_938_160)
        #expect(SigV4.parseAmzDate("2015-08-30T12:36:00Z") == nil)
        #expect(SigV4.parseAmzDate("20151330T123600Z") == nil)
    }

    @Test func getVanilla() throws {
        let signature = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        let request = SigV4Request(
            method: "GET", path: "/",
            headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", Self.date),
                      ("Authorization", Self.authorization(service: "service", signed: "host;x-amz-date", signature: signature))],
            body: [])
        #expect(SigV4.canonicalRequest(request, signedHeaders: ["host", "x-amz-date"])
            == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let credential = try SigV4.verify(request, now: Self.now, secret: Self.lookup)
        #expect(credential == SigV4Credential(accessKeyID: Self.key, date: "20150830", region: "us-east-1", service: "service"))
    }

    @Test func postFormURLEncoded() throws {
        let request = SigV4Request(
            method: "POST", path: "/",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Host", "example.amazonaws.com"), ("X-Amz-Date", Self.date),
                      ("Authorization", Self.authorization(service: "service", signed: "content-type;host;x-amz-date",
                                                           signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"))],
            body: Array("Param1=value1".utf8))
        #expect(try SigV4.verify(request, now: Self.now, secret: Self.lookup).service == "service")
    }

    static func sqsSendMessage(signature: String, body: String = #"{"QueueUrl": "http://localhost:4566/123456789012/orders", "MessageBody": "hello"}"#) -> SigV4Request {
        SigV4Request(
            method: "POST", path: "/",
            headers: [("Host", "localhost:4566"), ("X-Amz-Target", "AmazonSQS.SendMessage"), ("Content-Type", "application/x-amz-json-1.0"),
                      ("x-amzn-query-mode", "true"), ("X-Amz-Date", date),
                      ("Authorization", authorization(service: "sqs", signed: "content-type;host;x-amz-date;x-amz-target;x-amzn-query-mode", signature: signature))],
            body: Array(body.utf8))
    }

    static let sqsSignature = "dcbbbe4ef418ba1aaa440023648630bc77ca1ac0fb39f1b50737e4a5bad70a51"

    @Test func sqsJSONAsBotocoreSignsIt() throws {
        let request = Self.sqsSendMessage(signature: Self.sqsSignature)
        let canonical = SigV4.canonicalRequest(request, signedHeaders: ["content-type", "host", "x-amz-date", "x-amz-target", "x-amzn-query-mode"])
        #expect(SHA256.hex(Array(canonical.utf8)) == "c4ac507d26e2d8eeb91a2ed217e6a661d57c6c4657d3b3ef33849879e17ade26")
        #expect(try SigV4.verify(request, now: Self.now, secret: Self.lookup).service == "sqs")
    }

    @Test func snsQueryAsBotocoreSignsIt() throws {
        let body = "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aorders&Message=hello"
        #expect(SHA256.hex(Array(body.utf8)) == "fa07e6f86e4066b75900dfd266cbd4e59b80e9d957f8711b52457cb6b006b300")
        let request = SigV4Request(
            method: "POST", path: "/",
            headers: [("Host", "localhost:4566"), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("X-Amz-Date", Self.date),
                      ("Authorization", Self.authorization(service: "sns", signed: "content-type;host;x-amz-date",
                                                           signature: "7ddc62bc4eef77fd20d828eb94931b4871989758c6f347f84a8346bab562660a"))],
            body: Array(body.utf8))
        let canonical = SigV4.canonicalRequest(request, signedHeaders: ["content-type", "host", "x-amz-date"])
        #expect(SHA256.hex(Array(canonical.utf8)) == "21f235b451391bc04c59767710d2323ee2370ba59df18a56c817d20dd74e9bb3")
        #expect(try SigV4.verify(request, now: Self.now, secret: Self.lookup).service == "sns")
    }

    @Test func refusals() {
        func code(_ request: SigV4Request, now: Int64 = Self.now, secret: (String) -> String? = Self.lookup) -> SigV4Error.Code? {
            do {
                _ = try SigV4.verify(request, now: now, secret: secret)
                return nil
            } catch {
                return error.code
            }
        }
        // A wrong secret, a changed body, an unknown key, a stale clock.
        #expect(code(Self.sqsSendMessage(signature: Self.sqsSignature), secret: { _ in "wrong" }) == .signatureDoesNotMatch)
        #expect(code(Self.sqsSendMessage(signature: Self.sqsSignature, body: #"{"QueueUrl": "x", "MessageBody": "changed"}"#)) == .signatureDoesNotMatch)
        #expect(code(Self.sqsSendMessage(signature: Self.sqsSignature), secret: { _ in nil }) == .invalidClientTokenId)
        #expect(code(Self.sqsSendMessage(signature: Self.sqsSignature), now: Self.now + 16 * 60) == .signatureDoesNotMatch)
        #expect(code(Self.sqsSendMessage(signature: Self.sqsSignature), now: Self.now + 14 * 60) == nil)
        // No Authorization; a malformed one; no host among the signed headers.
        #expect(code(SigV4Request(method: "GET", path: "/", headers: [("Host", "h")], body: [])) == .missingAuthenticationToken)
        var malformed = Self.sqsSendMessage(signature: Self.sqsSignature)
        malformed.headers.append(("Authorization", "x"))
        malformed.headers.removeAll { $0.name == "Authorization" && $0.value != "x" }
        #expect(code(malformed) == .incompleteSignature)
        #expect(throws: SigV4Error.self) { try SigV4.parseAuthorization("AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request, SignedHeaders=x-amz-date, Signature=00") }
        #expect(throws: SigV4Error.self) { try SigV4.parseAuthorization("AWS4-HMAC-SHA256 Credential=a/2015/r/aws4_request, SignedHeaders=host, Signature=00") }
    }

    @Test func canonicalForms() {
        #expect(SigV4.canonicalURI("/a/./b/../c") == "/a/c")
        #expect(SigV4.canonicalURI("/000000000000/orders") == "/000000000000/orders")
        #expect(SigV4.canonicalURI("/a%20b") == "/a%2520b")  // encoded again, as botocore does
        #expect(SigV4.canonicalQuery("b=2&a=1&a=0&c") == "a=0&a=1&b=2&c=")
        #expect(SigV4.canonicalQuery("k=a%2Fb+c") == "k=a%2Fb%2Bc")
    }
}
