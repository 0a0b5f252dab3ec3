import Testing
@testable import HeraldConfig

/// `queues:`, sqs subscriptions, stream retention, topic deduplication, `dataDir`, `durability`
/// and `signing`. `minimalConfig` has 5 lines, so appended text starts at line 6.
@Suite struct ConfigQueuesTests {
    @Test func queuesWithDefaultsAndEveryAttribute() throws {
        let yaml = minimalConfig + """
            queues:
              - name: jobs
              - name: jobs-dlq
              - name: orders.fifo
                visibilityTimeout: 2m
                retention: 14d
                delay: 15m
                receiveWaitTime: 20s
                maxMessageSize: 256KiB
                contentBasedDeduplication: true
                deadLetter: {queue: orders-dlq.fifo, maxReceiveCount: 5}
              - {name: orders-dlq.fifo, fifo: true}
              - name: work
                deadLetter: {queue: jobs-dlq, maxReceiveCount: 1000}
            """.replacingOccurrences(of: "14d", with: "336h")
        let config = try #require(try validConfig(yaml))
        #expect(config.queues.map(\.name) == ["jobs", "jobs-dlq", "orders.fifo", "orders-dlq.fifo", "work"])
        let jobs = try #require(config.queue(named: "jobs"))
        #expect(jobs == HeraldConfig.Queue(name: "jobs"))
        #expect(!jobs.isFIFO && jobs.visibilityTimeoutSeconds == 30 && jobs.retentionSeconds == 345_600)
        #expect(jobs.delaySeconds == 0 && jobs.receiveWaitTimeSeconds == 0 && jobs.maxMessageSize == 1_048_576 && jobs.deadLetter == nil)
        let fifo = try #require(config.queue(named: "orders.fifo"))
        #expect(fifo.isFIFO && fifo.visibilityTimeoutSeconds == 120 && fifo.retentionSeconds == 1_209_600)
        #expect(fifo.delaySeconds == 900 && fifo.receiveWaitTimeSeconds == 20 && fifo.maxMessageSize == 262_144)
        #expect(fifo.contentBasedDeduplication)
        #expect(fifo.deadLetter == HeraldConfig.DeadLetter(queue: "orders-dlq.fifo", maxReceiveCount: 5))
        #expect(config.queue(named: "work")?.deadLetter?.maxReceiveCount == 1000)
        #expect(config.summary == "ok: 1 listener, 0 topics, 5 queues, 0 subscriptions, 0 users")
    }

    @Test func queueProblemsHaveTheirLines() throws {
        let yaml = minimalConfig + """
            queues:
              - name: "bad name"
              - name: a
              - name: a
              - name: b
                fifo: true
              - name: c.fifo
                fifo: false
              - name: d
                visibilityTimeout: 13h
                retention: 59s
                delay: 1500ms
                receiveWaitTime: 21s
                maxMessageSize: 1023
                contentBasedDeduplication: true
              - name: e
                deadLetter: {queue: nowhere, maxReceiveCount: 3}
              - name: f
                deadLetter: {queue: g.fifo, maxReceiveCount: 0}
              - name: h
                deadLetter:
                  queue: g.fifo
                  maxReceiveCount: 3
              - name: g.fifo
              - name: i
                deadLetter: {queue: i, maxReceiveCount: 1}
              - name: \(String(repeating: "x", count: 81))
              - name: .fifo
            """
        let found = try configProblems(yaml)
        #expect(found.at(7, "queues[0].name: queue name 'bad name' may only use A-Z a-z 0-9 _ -") != nil)
        #expect(found.at(9, "duplicate queue 'a' (first at line 8)") != nil)
        #expect(found.at(11, "queues[3].fifo: a FIFO queue's name must end in .fifo ('b')") != nil)
        #expect(found.at(13, "queues[4].fifo: a name ending in .fifo is a FIFO queue ('c.fifo')") != nil)
        #expect(found.at(15, "queues[5].visibilityTimeout: 13h is out of range (0s…12h)") != nil)
        #expect(found.at(16, "queues[5].retention: 59s is out of range (1m…336h)") != nil)
        #expect(found.at(17, "queues[5].delay: must be a whole number of seconds, found 1500ms") != nil)
        #expect(found.at(18, "queues[5].receiveWaitTime: 21s is out of range (0s…20s)") != nil)
        #expect(found.at(19, "queues[5].maxMessageSize: 1023 is out of range (1024…1048576)") != nil)
        #expect(found.at(20, "queues[5].contentBasedDeduplication: only FIFO queues deduplicate") != nil)
        #expect(found.at(22, "queues[6].deadLetter.queue: unknown queue 'nowhere' (declare it under queues:)") != nil)
        #expect(found.at(24, "queues[7].deadLetter.maxReceiveCount: 0 is out of range (1…1000)") != nil)
        #expect(found.at(27, "queues[8].deadLetter.queue: the dead-letter queue of a standard queue must also be standard, 'g.fifo' is FIFO") != nil)
        #expect(found.at(31, "queues[10].deadLetter.queue: a queue cannot be its own dead-letter queue") != nil)
        #expect(found.at(32, "a queue name must have 1 to 80 characters") != nil)
        #expect(found.at(33, "queue name '.fifo' may only use") != nil)
        #expect(found.count == 16)
    }

    @Test func eightyCharacterNamesIncludeTheFIFOSuffix() {
        #expect(ConfigParse.queueNameProblem(String(repeating: "q", count: 80)) == nil)
        #expect(ConfigParse.queueNameProblem(String(repeating: "q", count: 75) + ".fifo") == nil)
        #expect(ConfigParse.queueNameProblem(String(repeating: "q", count: 76) + ".fifo") != nil)
        #expect(ConfigParse.queueNameProblem("a.b") != nil)
        #expect(ConfigParse.queueNameProblem("") != nil)
    }

    @Test func sqsSubscriptionsNameDeclaredQueuesOfACompatibleType() throws {
        let yaml = minimalConfig + """
            topics: [orders, orders.fifo]
            queues: [{name: jobs}, {name: jobs.fifo}]
            subscriptions:
              - {name: s1, topic: orders, protocol: sqs, queue: jobs, rawMessageDelivery: true}
              - {name: s2, topic: orders.fifo, protocol: sqs, queue: jobs.fifo}
              - {name: s3, topic: orders.fifo, protocol: sqs, queue: jobs}
              - {name: s4, topic: orders, retention: 2h}
              - {name: s5, topic: orders}
            """
        let config = try #require(try validConfig(yaml))
        let byName = Dictionary(uniqueKeysWithValues: config.subscriptions.map { ($0.name, $0) })
        #expect(byName["s1"]?.protocol == .sqs && byName["s1"]?.queue == "jobs" && byName["s1"]?.rawMessageDelivery == true)
        #expect(byName["s1"]?.retention == nil)
        #expect(byName["s2"]?.queue == "jobs.fifo")
        #expect(byName["s3"]?.queue == "jobs")
        #expect(byName["s4"]?.retention == .seconds(7_200) && byName["s4"]?.queue == nil)
        #expect(byName["s5"]?.retention == .seconds(86_400))
        #expect(config.summary == "ok: 1 listener, 2 topics, 2 queues, 5 subscriptions, 0 users")
    }

    @Test func sqsSubscriptionProblems() throws {
        let yaml = minimalConfig + """
            topics: [orders]
            queues: [{name: jobs.fifo}, {name: bad, delay: 1h}]
            subscriptions:
              - name: s1
                topic: orders
                protocol: sqs
                queue: jobs.fifo
              - name: s2
                topic: orders
                protocol: sqs
              - name: s3
                topic: orders
                protocol: sqs
                queue: missing
              - name: s4
                topic: orders
                queue: jobs.fifo
              - name: s5
                topic: orders
                protocol: sqs
                queue: bad
                retention: 1h
              - name: s6
                topic: orders
                retention: 15d
            """.replacingOccurrences(of: "15d", with: "337h")
        let found = try configProblems(yaml)
        #expect(found.at(7, "queues[1].delay: 1h is out of range (0s…15m)") != nil)
        #expect(found.at(12, "subscriptions[0].queue: Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics") != nil)
        #expect(found.at(13, "subscriptions[1]: missing required key 'queue'") != nil)
        #expect(found.at(19, "subscriptions[2].queue: unknown queue 'missing'") != nil)
        #expect(found.at(22, "subscriptions[3].queue: only for protocol: sqs") != nil)
        // A declared queue with its own problem is not also "unknown"; retention is stream-only.
        #expect(found.at(27, "subscriptions[4].retention: only for protocol: stream") != nil)
        #expect(found.at(30, "subscriptions[5].retention: 337h is out of range (1s…336h)") != nil)
        #expect(found.count == 7)
    }

    @Test func topicDeduplication() throws {
        let yaml = minimalConfig + """
            topics:
              - name: orders
                deduplication: {key: "attribute:request-id"}
              - name: payments
                deduplication: {window: 1h, key: body}
              - plain
            """
        let config = try #require(try validConfig(yaml))
        #expect(config.topic(named: "orders")?.deduplication == HeraldConfig.TopicDeduplication(window: .seconds(300), key: .attribute("request-id")))
        #expect(config.topic(named: "payments")?.deduplication == HeraldConfig.TopicDeduplication(window: .seconds(3_600), key: .body))
        #expect(config.topic(named: "plain")?.deduplication == nil)

        let bad = minimalConfig + """
            topics:
              - name: a.fifo
                deduplication: {key: body}
              - name: b
                deduplication: {window: 61m, key: "attribute:"}
              - name: c
                deduplication: {window: 5m}
              - name: d
                deduplication: {key: header}
            """
        let found = try configProblems(bad)
        #expect(found.at(8, "topics[0].deduplication: FIFO topics deduplicate by SNS's rules") != nil)
        #expect(found.at(10, "topics[1].deduplication.window: 61m is out of range (1s…1h)") != nil)
        #expect(found.at(10, "topics[1].deduplication.key: expected 'body' or 'attribute:NAME'") != nil)
        #expect(found.at(12, "topics[2].deduplication: missing required key 'key'") != nil)
        #expect(found.at(14, "found 'header'") != nil)
        #expect(found.count == 5)
    }

    @Test func dataDirAndDurability() throws {
        let defaults = try #require(try validConfig(minimalConfig))
        #expect(defaults.dataDir == nil && defaults.durability.fsync == .always && defaults.signatureVersion == 1 && defaults.signing == nil)

        let config = try #require(try validConfig(minimalConfig + "dataDir: state/herald\ndurability: {fsync: interval}\n"))
        #expect(config.dataDir?.hasSuffix("/state/herald") == true)
        #expect(config.dataDir?.hasPrefix("/") == true)
        #expect(config.durability.fsync == .interval(.seconds(1)))
        #expect(try validConfig(minimalConfig + "dataDir: /var/lib/herald\n")?.dataDir == "/var/lib/herald")
        #expect(try validConfig(minimalConfig + "durability: {fsync: interval, interval: 250ms}\n")?.durability.fsync == .interval(.milliseconds(250)))
        #expect(try validConfig(minimalConfig + "durability:\n  fsync: {interval: 200ms}\n")?.durability.fsync == .interval(.milliseconds(200)))
        #expect(try validConfig(minimalConfig + "durability: {fsync: never}\n")?.durability.fsync == .never)

        #expect(try configProblems(minimalConfig + "durability: {fsync: sometimes}\n").at(6, "durability.fsync: expected one of always, never, interval, found 'sometimes'") != nil)
        #expect(try configProblems(minimalConfig + "durability: {fsync: never, interval: 1s}\n").at(6, "applies only with fsync: interval, not 'never'") != nil)
        #expect(try configProblems(minimalConfig + "durability: {fsync: interval, interval: 2m}\n").at(6, "durability.interval: 2m is out of range (1ms…1m)") != nil)
        #expect(try configProblems(minimalConfig + "durability: {fsync: {interval: 1s}, interval: 1s}\n").at(6, "give the interval once") != nil)
        #expect(try configProblems(minimalConfig + "dataDir: ''\n").at(6, "dataDir: must name a folder") != nil)
    }

    @Test func signing() throws {
        let files = ["keys/sign-key.pem": "key", "keys/sign-cert.pem": "cert"]
        let both = minimalConfig + "signing: {keyFile: keys/sign-key.pem, certificateFile: keys/sign-cert.pem, signatureVersion: 2}\n"
        let config = try #require(try validConfig(both, files: files))
        #expect(config.signing?.keyFile.hasSuffix("/keys/sign-key.pem") == true)
        #expect(config.signing?.certificateFile.hasSuffix("/keys/sign-cert.pem") == true)
        #expect(config.signatureVersion == 2)
        #expect(try validConfig(minimalConfig + "signatureVersion: 2\n")?.signatureVersion == 2)
        #expect(try validConfig(minimalConfig + "signing: {signatureVersion: 1}\n")?.signing == nil)

        let found = try configProblems(minimalConfig + """
            signing:
              keyFile: keys/sign-key.pem
              signatureVersion: 2
            signatureVersion: 3
            """, files: files)
        #expect(found.at(7, "signing: keyFile needs certificateFile") != nil)
        #expect(found.at(8, "signing.signatureVersion: also given at top level; give it once") != nil)
        #expect(found.count == 2)
        #expect(try configProblems(minimalConfig + "signatureVersion: 3\n").at(6, "signatureVersion: expected 1 (SHA1withRSA) or 2 (SHA256withRSA), found '3'") != nil)
        #expect(try configProblems(minimalConfig + "signing: {keyFile: a.pem, certificateFile: b.pem}\n").at(6, "signing.keyFile: '") != nil)
    }
}
