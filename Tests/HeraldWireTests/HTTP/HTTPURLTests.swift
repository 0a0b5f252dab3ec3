import Testing
@testable import HeraldWire

@Suite struct HTTPURLTests {
    @Test func fullURLSplitsIntoItsParts() throws {
        let url = try HTTPURL("HTTPS://user:p%40ss@Billing.Internal:8443/hooks/orders?x=1&y=%20#frag")
        #expect(url.scheme == .https)
        #expect(url.isTLS)
        #expect(url.user == "user")
        #expect(url.password == "p@ss")
        #expect(url.host == "billing.internal")
        #expect(url.port == 8443)
        #expect(url.requestTarget == "/hooks/orders?x=1&y=%20")
        #expect(url.hostHeader == "billing.internal:8443")
        #expect(url.basicAuthorization == "Basic dXNlcjpwQHNz")
        #expect(url.description == "https://billing.internal:8443/hooks/orders?x=1&y=%20")
    }

    @Test func defaultsApply() throws {
        let plain = try HTTPURL("http://example.com")
        #expect(plain.port == 80)
        #expect(plain.requestTarget == "/")
        #expect(plain.hostHeader == "example.com")
        #expect(plain.basicAuthorization == nil)
        #expect(try HTTPURL("https://example.com:/a").port == 443)
        #expect(try HTTPURL("http://h?q=1").requestTarget == "/?q=1")
        #expect(try HTTPURL("http://u@h/").basicAuthorization == "Basic dTo=")
    }

    @Test func ipv6HostsKeepTheirBrackets() throws {
        let url = try HTTPURL("http://[::1]:8080/p")
        #expect(url.host == "::1")
        #expect(url.port == 8080)
        #expect(url.hostHeader == "[::1]:8080")
        let defaultPort = try HTTPURL("https://[2001:db8::7]")
        #expect(defaultPort.port == 443)
        #expect(defaultPort.hostHeader == "[2001:db8::7]")
        #expect(defaultPort.requestTarget == "/")
    }

    static let invalid = [
        "", "ftp://x/", "http//x", "http:x", "http://", "http://:80/", "http://h:0/", "http://h:65536/", "http://h:8a/",
        "http://h:123456/", "http://[::1", "http://[zz]/", "http://[::1]x/", "http://h/a b", "http://hé/", "http://u%zz@h/",
        "http://h\r\nX: y/", "http://a_b!/",
    ]

    @Test(arguments: invalid)
    func invalidURLIsRefusedWithAReason(_ text: String) {
        #expect { _ = try HTTPURL(text) } throws: { ($0 as? HTTPError)?.code == .invalidURL && !(($0 as? HTTPError)?.message.isEmpty ?? true) }
    }
}

@Suite struct FormURLEncodingTests {
    @Test func formBodyDecodesInOrder() throws {
        let fields = try FormURLEncoding.decode("Action=Publish&Message=hello+world%21&Subject=%E2%9C%93+%C3%A9&flag&&empty=&a=b=c&Action=again")
        #expect(fields == [
            HTTPField(name: "Action", value: "Publish"), HTTPField(name: "Message", value: "hello world!"),
            HTTPField(name: "Subject", value: "✓ é"), HTTPField(name: "flag", value: ""), HTTPField(name: "empty", value: ""),
            HTTPField(name: "a", value: "b=c"), HTTPField(name: "Action", value: "again"),
        ])
        #expect(try FormURLEncoding.decode("") == [])
        #expect(try FormURLEncoding.decode("%2B=%2b") == [HTTPField(name: "+", value: "+")])
    }

    @Test(arguments: ["a=%zz", "a=%4", "a=%", "%=1", "a=%FF", "a=%C3", "a=%g1"])
    func badEscapesAreRefused(_ text: String) {
        #expect { _ = try FormURLEncoding.decode(text) } throws: { ($0 as? HTTPError)?.code == .invalidEncoding }
    }

    @Test func encodeRoundTrips() throws {
        let fields = [
            HTTPField(name: "Token", value: "a+b/c=d&e f"), HTTPField(name: "TopicArn", value: "arn:aws:sns:us-east-1:123:orders"),
            HTTPField(name: "ü", value: "日本 ✓"), HTTPField(name: "empty", value: ""),
        ]
        let encoded = FormURLEncoding.encode(fields)
        #expect(encoded.utf8.allSatisfy { $0 < 0x80 && $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "+") })
        #expect(try FormURLEncoding.decode(encoded) == fields)
    }

    @Test func queryParametersOfARequest() throws {
        let request = HTTPRequest(method: "GET", target: "/?Action=ConfirmSubscription&TopicArn=arn%3Aaws%3Asns%3Ax%3A1%3At&Token=abc")
        #expect(request.path == "/")
        #expect(try request.queryParameters() == [
            HTTPField(name: "Action", value: "ConfirmSubscription"), HTTPField(name: "TopicArn", value: "arn:aws:sns:x:1:t"), HTTPField(name: "Token", value: "abc"),
        ])
        #expect(try HTTPRequest(method: "GET", target: "/plain").queryParameters() == [])
    }
}
