import HeraldCore
import Testing
@testable import HeraldConfig

@Suite struct ConfigPermissionsTests {
    @Test func patternsMatch() throws {
        let any = try #require(TopicPattern("*"))
        #expect(any.kind == .anyTopic)
        #expect(any.matches("orders") && any.matches("x.fifo"))

        let prefix = try #require(TopicPattern("orders*"))
        #expect(prefix.kind == .prefix("orders"))
        #expect(prefix.matches("orders"))
        #expect(prefix.matches("orders-eu"))
        #expect(prefix.matches("orders.fifo"))
        #expect(!prefix.matches("order"))
        #expect(!prefix.matches("my-orders"))

        let exact = try #require(TopicPattern("orders"))
        #expect(exact.matches("orders"))
        #expect(!exact.matches("orders-eu"))
        #expect(!exact.matches("Orders"))
        #expect(TopicPattern("orders.fifo")?.matches("orders.fifo") == true)
        #expect([any, prefix, exact].map(\.description) == ["*", "orders*", "orders"])
    }

    @Test(arguments: ["", "**", "or*ders", "*orders", "bad name", "a/b*", "orders.", "ü"])
    func invalidPatterns(text: String) {
        #expect(TopicPattern(text) == nil)
        #expect(TopicPattern.problem(in: text) != nil)
    }

    @Test func permissionsCombineLists() throws {
        let permissions = Permissions(
            publish: [try #require(TopicPattern("orders")), try #require(TopicPattern("audit-*"))],
            subscribe: [try #require(TopicPattern("*"))])
        #expect(permissions.allows(.publish, topic: "orders"))
        #expect(permissions.allows(.publish, topic: "audit-2026"))
        #expect(!permissions.allows(.publish, topic: "payments"))
        #expect(permissions.allows(.subscribe, topic: "payments"))
        #expect(Permissions.all.allows(.publish, topic: "x") && Permissions.all.allows(.subscribe, topic: "x"))
        #expect(!Permissions.none.allows(.publish, topic: "x") && !Permissions.none.allows(.subscribe, topic: "x"))
    }

    @Test func topicNames() {
        #expect(TopicName.isValid("orders"))
        #expect(TopicName.isValid("Orders_2026-eu"))
        #expect(TopicName.isValid("orders.fifo"))
        #expect(TopicName.isValid(String(repeating: "a", count: 256)))
        #expect(TopicName.isValid(String(repeating: "a", count: 251) + ".fifo"))
        #expect(!TopicName.isValid(String(repeating: "a", count: 257)))
        #expect(!TopicName.isValid(String(repeating: "a", count: 252) + ".fifo"))
        for bad in ["", ".fifo", "a.b", "a b", "orders.FIFO", "a.fifo.fifo", "ordérs", "a:b"] {
            #expect(!TopicName.isValid(bad), "\(bad)")
        }
    }

    @Test func permissionsFromAConfigFile() throws {
        let yaml = """
            listeners:
              - listen: 127.0.0.1:4433
                tls: {cert: server.pem, key: server-key.pem}
            auth:
              anonymous: {subscribe: ["news*"]}
              users:
                - name: writer
                  token: t1
                  publish: [orders, "audit-*"]
                  subscribe: orders
                - name: reader
                  token: t2
                  subscribe: ["*"]
                - name: nobody
                  token: t3
            """
        let config = try #require(try validConfig(yaml))
        let auth = config.auth
        #expect(auth.allowAnonymous)
        #expect(auth.anonymousPermissions.allows(.subscribe, topic: "news-eu"))
        #expect(!auth.anonymousPermissions.allows(.publish, topic: "news-eu"))
        let writer = try #require(auth.user(token: "t1"))
        #expect(writer.permissions.allows(.publish, topic: "audit-x"))
        #expect(writer.permissions.allows(.subscribe, topic: "orders"))
        #expect(!writer.permissions.allows(.subscribe, topic: "orders-eu"))
        #expect(try #require(auth.user(token: "t2")).permissions.allows(.subscribe, topic: "anything"))
        #expect(try #require(auth.user(token: "t3")).permissions == .none)
        #expect(auth.user(token: "t4") == nil)
        #expect(auth.user(token: "t") == nil)
        #expect(auth.user(token: "t11") == nil)
        #expect(auth.user(token: "") == nil)
        #expect(HeraldConfig.Auth.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!HeraldConfig.Auth.constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
    }
}
