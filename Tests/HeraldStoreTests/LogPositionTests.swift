import HeraldStore
import Testing

@Suite struct LogPositionTests {
    @Test func packsSegmentAndOffsetInLogOrder() {
        let a = LogPosition(segment: LogSegmentID(1), offset: 4_000_000_000)
        let b = LogPosition(segment: LogSegmentID(2), offset: 16)
        #expect(a < b)
        #expect(a.segment == LogSegmentID(1) && a.offset == 4_000_000_000)
        #expect(LogPosition(packed: b.packed) == b)
    }
}
