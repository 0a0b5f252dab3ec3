import Testing
@testable import HeraldConfig

/// `contentBasedDeduplication:` on FIFO topics (SNS's topic attribute). `minimalConfig` has 5
/// lines, so appended text starts at line 6.
@Suite struct ConfigTopicDeduplicationTests {
    @Test func fifoTopicsTakeContentBasedDeduplication() throws {
        let yaml = minimalConfig + """
            topics:
              - name: orders.fifo
                contentBasedDeduplication: true
              - name: explicit.fifo
                contentBasedDeduplication: false
              - plain.fifo
            """
        let config = try #require(try validConfig(yaml))
        #expect(config.topic(named: "orders.fifo")?.contentBasedDeduplication == true)
        #expect(config.topic(named: "explicit.fifo")?.contentBasedDeduplication == false)
        #expect(config.topic(named: "plain.fifo")?.contentBasedDeduplication == false)
    }

    @Test func standardTopicsAndNonBooleansAreRefusedWithTheirLines() throws {
        let bad = minimalConfig + """
            topics:
              - name: orders
                contentBasedDeduplication: true
              - name: b.fifo
                contentBasedDeduplication: maybe
            """
        let found = try configProblems(bad)
        #expect(found.at(8, "topics[0].contentBasedDeduplication: only for FIFO topics") != nil)
        #expect(found.at(10, "topics[1].contentBasedDeduplication") != nil)
        #expect(found.count == 2)
    }
}
