import Testing
@testable import HeraldConfig

/// `admin:`: the metrics and health listener. `minimalConfig` has 5 lines, so appended text starts at line 6.
@Suite struct ConfigAdminTests {
    @Test func absentMeansNoListener() throws {
        #expect(try validConfig(minimalConfig)?.admin == nil)
    }

    @Test func loopbackListenIsAccepted() throws {
        let admin = try #require(try validConfig(minimalConfig + "admin: {listen: 127.0.0.1:9433}\n")?.admin)
        #expect(admin == HeraldConfig.Admin(listen: ListenAddress(host: "127.0.0.1", port: 9433), allowRemote: false))
        #expect(try validConfig(minimalConfig + "admin: {listen: '[::1]:0'}\n")?.admin?.listen == ListenAddress(host: "::1", port: 0))
        #expect(try validConfig(minimalConfig + "admin: {listen: 'localhost:1'}\n")?.admin?.listen.host == "localhost")
    }

    @Test func nonLoopbackNeedsAllowRemote() throws {
        let found = try configProblems(minimalConfig + "admin: {listen: 0.0.0.0:9433}\n")
        #expect(found.at(6, "admin.listen: '0.0.0.0:9433' is not a loopback address") != nil)
        #expect(found.at(6, "allowRemote: true") != nil)
        let admin = try #require(try validConfig(minimalConfig + "admin: {listen: 0.0.0.0:9433, allowRemote: true}\n")?.admin)
        #expect(admin.listen.host == "0.0.0.0" && admin.allowRemote)
    }

    @Test func problemsHaveTheirLines() throws {
        let found = try configProblems(minimalConfig + """
            admin:
              listen: localhost
              allowRemote: maybe
              port: 9433
            """)
        #expect(found.at(7, "admin.listen: ") != nil)
        #expect(found.at(8, "admin.allowRemote") != nil)
        #expect(found.at(9, "admin: unknown key 'port'") != nil)
        #expect(try configProblems(minimalConfig + "admin: {allowRemote: true}\n").at(6, "admin: missing required key 'listen'") != nil)
        #expect(try configProblems(minimalConfig + "admin: 9433\n").at(6, "admin") != nil)
    }

    @Test func embeddedDefaultsServeMetricsOnLoopback() throws {
        // The certsDirectory form (tests, benchmarks) has none, so parallel servers do not all bind 9433.
        #expect(HeraldConfig.defaults(certsDirectory: "/c").admin == nil)
        let folder = try ConfigTempFolder()
        try folder.writeCertificates(in: "certs")
        let config = try HeraldConfig.defaults(currentDirectory: folder.path, executablePath: nil)
        #expect(config.admin == HeraldConfig.Admin(listen: ListenAddress(host: "127.0.0.1", port: 9433)))
    }

    @Test func changingItNeedsARestart() throws {
        let before = try #require(try validConfig(minimalConfig + "admin: {listen: 127.0.0.1:9433}\n"))
        let after = try #require(try validConfig(minimalConfig + "admin: {listen: 127.0.0.1:9434}\n"))
        #expect(after.changesNeedingRestart(from: before).contains("admin listener changed: restart to apply"))
        #expect(!before.changesNeedingRestart(from: before).contains { $0.contains("admin") })
    }

    @Test func loopbackHosts() {
        #expect(HeraldConfig.Admin.isLoopback("127.0.0.1") && HeraldConfig.Admin.isLoopback("127.9.9.9"))
        #expect(HeraldConfig.Admin.isLoopback("::1") && HeraldConfig.Admin.isLoopback("localhost"))
        #expect(!HeraldConfig.Admin.isLoopback("0.0.0.0") && !HeraldConfig.Admin.isLoopback("::") && !HeraldConfig.Admin.isLoopback("10.0.0.1"))
    }
}
