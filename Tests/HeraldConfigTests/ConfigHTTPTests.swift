import Testing
@testable import HeraldConfig

/// `http:`: the AWS-compatible API listener. `minimalConfig` has 5 lines, so appended text starts at line 6.
@Suite struct ConfigHTTPTests {
    @Test func absentMeansNoListener() throws {
        #expect(try validConfig(minimalConfig)?.http == nil)
    }

    @Test func listenOnlyDerivesThePublicURL() throws {
        let config = try #require(try validConfig(minimalConfig + "http: {listen: 127.0.0.1:4566}\n"))
        let http = try #require(config.http)
        #expect(http.listen == ListenAddress(host: "127.0.0.1", port: 4566))
        #expect(http.tls == nil && http.publicURL == nil)
        #expect(http.effectivePublicURL(boundPort: 4566) == "http://127.0.0.1:4566")
        // Port 0 binds a free port: the URL names the one bound.
        #expect(HeraldConfig.HTTPAPI(listen: ListenAddress(host: "0.0.0.0", port: 0)).effectivePublicURL(boundPort: 50_123) == "http://127.0.0.1:50123")
        #expect(HeraldConfig.HTTPAPI(listen: ListenAddress(host: "::1", port: 9)).effectivePublicURL(boundPort: 9) == "http://[::1]:9")
    }

    @Test func tlsAndPublicURL() throws {
        let yaml = minimalConfig + """
            http:
              listen: 0.0.0.0:4566
              tls: {cert: server.pem, key: server-key.pem}
              publicURL: https://herald.example:8443/
            """
        let http = try #require(try validConfig(yaml)?.http)
        #expect(http.tls?.certificateFile.hasSuffix("/server.pem") == true)
        #expect(http.tls?.privateKeyFile.hasSuffix("/server-key.pem") == true)
        #expect(http.publicURL == "https://herald.example:8443")
        #expect(http.effectivePublicURL(boundPort: 1) == "https://herald.example:8443")
        let derived = HeraldConfig.HTTPAPI(listen: http.listen, tls: http.tls)
        #expect(derived.effectivePublicURL(boundPort: 4566) == "https://127.0.0.1:4566")
    }

    @Test func problemsHaveTheirLines() throws {
        let found = try configProblems(minimalConfig + """
            http:
              listen: localhost
              tls: {cert: missing.pem, key: server-key.pem, clientCA: server.pem}
              publicURL: ftp://x
              port: 4566
            """)
        #expect(found.at(7, "http.listen: ") != nil)
        #expect(found.at(8, "http.tls: unknown key 'clientCA'") != nil)
        #expect(found.at(8, "http.tls.cert: '") != nil)
        #expect(found.at(9, "http.publicURL: 'ftp://x': must start with http:// or https://") != nil)
        #expect(found.at(10, "http: unknown key 'port'") != nil)
        #expect(try configProblems(minimalConfig + "http: {tls: {cert: server.pem, key: server-key.pem}}\n").at(6, "http: missing required key 'listen'") != nil)
        #expect(try configProblems(minimalConfig + "http: {listen: 127.0.0.1:1, publicURL: 'http://a/?q=1'}\n").at(6, "http.publicURL: 'http://a/?q=1': only a scheme") != nil)
        #expect(try configProblems(minimalConfig + "http: {listen: 127.0.0.1:1, publicURL: 'https://'}\n").at(6, "http.publicURL: 'https://': the host is missing") != nil)
    }

    @Test func embeddedDefaultsServeTheAPIOnLocalStacksPort() throws {
        // The certsDirectory form (tests, benchmarks) has none, so parallel servers do not all bind 4566.
        #expect(HeraldConfig.defaults(certsDirectory: "/c").http == nil)
        let folder = try ConfigTempFolder()
        try folder.writeCertificates(in: "certs")
        let config = try HeraldConfig.defaults(currentDirectory: folder.path, executablePath: nil)
        #expect(config.http == HeraldConfig.HTTPAPI(listen: ListenAddress(host: "127.0.0.1", port: 4566)))
        #expect(config.http?.effectivePublicURL(boundPort: 4566) == "http://127.0.0.1:4566")
    }

    @Test func changingItNeedsARestart() {
        let old = HeraldConfig.defaults(certsDirectory: "/certs")
        var new = old
        new.http = HeraldConfig.HTTPAPI()
        #expect(new.changesNeedingRestart(from: old) == ["http listener changed: restart to apply"])
        #expect(old.changesNeedingRestart(from: old).isEmpty)
    }
}
