import Testing
@testable import HeraldConfig

/// `consumers:`: managed queue consumers. `minimalConfig` has 5 lines, so appended text starts at line 6.
@Suite struct ConsumerConfigTests {
    static let queues = """
        queues:
          - name: orders
          - name: jobs.fifo

        """

    @Test func defaultsAndEveryKey() throws {
        let yaml = minimalConfig + Self.queues + """
            consumers:
              - queue: orders
                endpoint: http://127.0.0.1:9000/handler
              - name: orders-audit
                queue: orders
                endpoint: https://user:pa%40ss@hooks.example.com:8443/sqs?x=1
                batchSize: 10000
                maxBatchingWindow: 300s
                maxConcurrency: 1000
                reportBatchItemFailures: true
                timeout: 20s
              - queue: jobs.fifo
                endpoint: http://[::1]:8080/
                batchSize: 10
                maxBatchingWindow: 250ms
                maxConcurrency: 2
            """
        let config = try #require(try validConfig(yaml))
        #expect(config.consumers.map(\.name) == ["orders", "orders-audit", "jobs.fifo"])
        let plain = config.consumers[0]
        #expect(plain == HeraldConfig.Consumer(queue: "orders", endpoint: "http://127.0.0.1:9000/handler"))
        #expect(plain.batchSize == 10 && plain.maxBatchingWindow == .zero && plain.maxConcurrency == 5)
        #expect(!plain.reportBatchItemFailures && plain.timeout == .seconds(30))
        let audit = config.consumers[1]
        #expect(audit.queue == "orders" && audit.endpoint == "https://user:pa%40ss@hooks.example.com:8443/sqs?x=1")
        #expect(audit.batchSize == 10_000 && audit.maxBatchingWindow == .seconds(300) && audit.maxConcurrency == 1_000)
        #expect(audit.reportBatchItemFailures && audit.timeout == .seconds(20))
        #expect(config.consumers[2].maxBatchingWindow == .milliseconds(250) && config.consumers[2].maxConcurrency == 2)
    }

    @Test func problemsHaveTheirLinesAndSayWhy() throws {
        let yaml = minimalConfig + Self.queues + """
            consumers:
              - queue: nowhere
                endpoint: http://127.0.0.1:9000/
              - queue: orders
                endpoint: ftp://example.com/x
                batchSize: 0
              - name: big
                queue: orders
                endpoint: "http://exa mple.com/"
                batchSize: 10001
                maxBatchingWindow: 301s
                maxConcurrency: 1
                timeout: 0s
              - name: fifo
                queue: jobs.fifo
                endpoint: http://:80/
                batchSize: 11
              - name: port
                queue: orders
                endpoint: https://admin:secret@example.com:99999/
                maxConcurrency: 1001
                reportBatchItemFailures: maybe
              - {name: "bad name", queue: orders, endpoint: "http://a/"}
              - {queue: orders}
              - {name: twin, queue: orders, endpoint: "http://a/"}
              - {name: twin, queue: orders, endpoint: "http://a/"}
              - {queue: orders, endpoint: "http://a/", batchsize: 5}
            """
        let found = try configProblems(yaml)
        #expect(found.at(10, "consumers[0].queue: unknown queue 'nowhere' (declare it under queues:)") != nil)
        #expect(found.at(13, "consumers[1].endpoint: 'ftp://example.com/x': must start with http:// or https://") != nil)
        #expect(found.at(14, "consumers[1].batchSize: 0 is out of range (1…10000)") != nil)
        #expect(found.at(17, "consumers[2].endpoint: 'http://exa mple.com/': contains spaces") != nil)
        #expect(found.at(18, "consumers[2].batchSize: 10001 is out of range (1…10000)") != nil)
        #expect(found.at(19, "consumers[2].maxBatchingWindow: 301s is out of range (0s…5m)") != nil)
        #expect(found.at(20, "consumers[2].maxConcurrency: 1 is out of range (2…1000)") != nil)
        #expect(found.at(21, "consumers[2].timeout: 0s is out of range (1s…15m)") != nil)
        #expect(found.at(24, "consumers[3].endpoint: 'http://:80/': the host is missing") != nil)
        #expect(found.at(25, "consumers[3].batchSize: 11 is out of range for a FIFO queue (1…10") != nil)
        let port = found.at(28, "consumers[4].endpoint: 'https://…@example.com:99999/': port '99999' is not a number in 1...65535")
        #expect(port != nil)
        #expect(!found.contains { $0.message.contains("secret") }, "credentials never appear in a problem")
        #expect(found.at(29, "consumers[4].maxConcurrency: 1001 is out of range (2…1000)") != nil)
        #expect(found.at(30, "consumers[4].reportBatchItemFailures") != nil)
        #expect(found.at(31, "consumers[5].name: a consumer name has 1 to 80 characters") != nil)
        #expect(found.at(32, "consumers[6]: missing required key 'endpoint'") != nil)
        #expect(found.at(34, "duplicate consumer name 'twin' (first at line 33)") != nil)
        #expect(found.at(35, "consumers[9]: unknown key 'batchsize'; did you mean 'batchSize'?") != nil)
        // Three unnamed consumers of `orders` (lines 12, 32, 35) share its name.
        #expect(found.at(32, "duplicate consumer name 'orders' (first at line 12)") != nil)
    }

    @Test func theTimeoutMayNotOutlastTheQueuesVisibilityTimeout() throws {
        let yaml = minimalConfig + """
            queues:
              - {name: quick, visibilityTimeout: 10s}
            consumers:
              - queue: quick
                endpoint: http://127.0.0.1:1/
              - name: fits
                queue: quick
                endpoint: http://127.0.0.1:1/
                timeout: 10s
              - name: long
                queue: quick
                endpoint: http://127.0.0.1:1/
                timeout: 11s
            """
        let found = try configProblems(yaml)
        #expect(found.count == 2)
        #expect(found.at(9, "consumers[0].timeout: 30s is longer than the visibilityTimeout of queue 'quick' (10s)") != nil, "the default, at the queue line")
        #expect(found.at(18, "consumers[2].timeout: 11s is longer than the visibilityTimeout of queue 'quick' (10s)") != nil)
    }

    @Test func aQueueWithProblemsIsNotAlsoUnknown() throws {
        let yaml = minimalConfig + """
            queues:
              - name: broken
                visibilityTimeout: 13h
            consumers:
              - queue: broken
                endpoint: http://127.0.0.1:1/
            """
        let found = try configProblems(yaml)
        #expect(found.count == 1)
        #expect(found.first?.message.contains("visibilityTimeout") == true)
    }
}
