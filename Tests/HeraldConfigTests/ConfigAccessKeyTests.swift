import Testing
@testable import HeraldConfig

/// `auth.users[].accessKeys`: the AWS key pairs the HTTP API verifies SigV4 signatures with.
@Suite struct ConfigAccessKeyTests {
    static let head = """
        listeners:
          - listen: 127.0.0.1:4433
            tls: {cert: server.pem, key: server-key.pem}
        auth:
          users:

        """

    @Test func keysWithInlineAndEnvironmentSecrets() throws {
        let yaml = Self.head + """
                - name: api
                  publish: ["*"]
                  accessKeys:
                    - {id: AKIAIOSFODNN7EXAMPLE, secret: wJalrXUtnFEMI/K7MDENG}
                    - {id: AKIAHERALD0000000002, secretEnv: HERALD_SECRET}
            """
        let config = try #require(try validConfig(yaml, environment: ["HERALD_SECRET": "from-the-environment"]))
        let keys = try #require(config.auth.users.first?.accessKeys)
        #expect(keys == [
            HeraldConfig.AccessKey(id: "AKIAIOSFODNN7EXAMPLE", secret: "wJalrXUtnFEMI/K7MDENG"),
            HeraldConfig.AccessKey(id: "AKIAHERALD0000000002", secret: "from-the-environment", secretEnvironmentVariable: "HERALD_SECRET"),
        ])
    }

    @Test func problemsNeverPrintTheSecret() throws {
        let yaml = Self.head + """
                - name: a
                  accessKeys:
                    - {id: short, secret: s1}
                    - {id: AKIAIOSFODNN7EXAMPLE, secret: s2, secretEnv: X}
                    - {id: AKIAIOSFODNN7EXAMPL2}
                    - {id: AKIAIOSFODNN7EXAMPL3, secretEnv: UNSET}
                - name: b
                  accessKeys: [{id: AKIAIOSFODNN7EXAMPLE, secret: top-secret-value}]
            """
        let found = try configProblems(yaml)
        #expect(found.at(8, "an access key id has 16 to 128 letters and digits") != nil)
        #expect(found.at(9, "give either secret or secretEnv, not both") != nil)
        #expect(found.at(10, "missing required key 'secret' (or 'secretEnv')") != nil)
        #expect(found.at(11, "environment variable UNSET is not set or empty") != nil)
        #expect(found.at(13, "duplicate access key id 'AKIAIOSFODNN7EXAMPLE'") != nil)
        #expect(!found.contains { $0.message.contains("top-secret-value") || $0.message.contains("s2") })
    }
}
