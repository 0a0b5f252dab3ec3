// The operator log's pure parts: line formats (text exact, JSON parsed back by Foundation's
// parser), the per-kind rate limiter, and the event log's suppression summary on an injected clock.
import Foundation
import HeraldNet
import HeraldServer
import Logging
import Synchronization
import Testing

@Suite struct LogLineFormatterTests {
    static let at: Int64 = 1_796_551_200_123  // 2026-12-06T10:00:00.123Z

    @Test func timestampsAreUTCWithMilliseconds() {
        #expect(LogLineFormatter.timestamp(millisecondsSince1970: 0) == "1970-01-01T00:00:00.000Z")
        #expect(LogLineFormatter.timestamp(millisecondsSince1970: Self.at) == "2026-12-06T10:00:00.123Z")
        #expect(LogLineFormatter.timestamp(millisecondsSince1970: 951_782_400_999) == "2000-02-29T00:00:00.999Z")
        #expect(LogLineFormatter.timestamp(millisecondsSince1970: -1) == "1969-12-31T23:59:59.999Z")
    }

    @Test func textLineHasSortedFieldsQuotedOnlyWhenNeeded() {
        let line = LogLineFormatter(format: .text).line(
            millisecondsSince1970: Self.at, level: .warning, message: "TLS handshake failed",
            metadata: ["reason": "wrong version number", "peer": "127.0.0.1:5123", "event": "handshake_failed"])
        #expect(line == #"2026-12-06T10:00:00.123Z warning TLS handshake failed event=handshake_failed peer=127.0.0.1:5123 reason="wrong version number""#)
    }

    @Test func textLineEscapesQuotesBackslashesAndLineBreaks() {
        // A client-chosen string cannot start a second, forged line.
        let line = LogLineFormatter(format: .text).line(
            millisecondsSince1970: 0, level: .error, message: "two\nlines",
            metadata: ["reason": "say \"hi\"\n2026-01-01T00:00:00.000Z critical forged", "path": #"C:\x"#, "empty": ""])
        #expect(!line.contains("\n"))
        #expect(line == #"1970-01-01T00:00:00.000Z error two\nlines empty="" path="C:\\x" reason="say \"hi\"\n2026-01-01T00:00:00.000Z critical forged""#)
    }

    @Test func jsonLineParsesBackWithEveryField() throws {
        let line = LogLineFormatter(format: .json).line(
            millisecondsSince1970: Self.at, level: .notice, message: "say \"hi\"\nthere",
            metadata: ["peer": "[::1]:4433", "suppressed": .stringConvertible(11), "notes": ["a", "b"], "msg": "shadow"])
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["ts"] as? String == "2026-12-06T10:00:00.123Z")
        #expect(object["level"] as? String == "notice")
        #expect(object["msg"] as? String == "say \"hi\"\nthere")
        #expect(object["peer"] as? String == "[::1]:4433")
        #expect(object["suppressed"] as? Int == 11)
        #expect(object["notes"] as? [String] == ["a", "b"])
        #expect(object["meta_msg"] as? String == "shadow", "a metadata field never replaces msg")
        #expect(line.hasPrefix(#"{"ts":"#), "ts, level, msg come first")
    }

    @Test func handlerMergesLoggerMetadataAndFiltersByLevel() throws {
        let lines = Mutex<[String]>([])
        var handler = LineLogHandler(format: .json, level: .notice, sink: { line in lines.withLock { $0.append(line) } }, now: { 0 })
        handler[metadataKey: "node"] = "a"
        let logger = Logger(label: "test", factory: { _ in handler })
        logger.info("dropped below notice")
        logger.warning("kept", metadata: ["peer": "p"])
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data((written.first ?? "").utf8)) as? [String: String])
        #expect(object == ["ts": "1970-01-01T00:00:00.000Z", "level": "warning", "msg": "kept", "node": "a", "peer": "p"])
    }
}

@Suite struct LogRateLimiterTests {
    static let second: UInt64 = 1_000_000_000

    @Test func writesUpToTheLimitPerWindowThenCountsAndReportsOnce() {
        var limiter = LogRateLimiter<String>(maxPerWindow: 3, windowNanoseconds: Self.second)
        let t0: UInt64 = 5 * Self.second
        #expect((0..<3).map { limiter.admit("scan", now: t0 + UInt64($0)) } == Array(repeating: .write(suppressedBefore: 0), count: 3))
        #expect(limiter.admit("scan", now: t0 + 10) == .suppress(firstInWindow: true))
        #expect(limiter.admit("scan", now: t0 + 20) == .suppress(firstInWindow: false))
        // Another kind has its own budget.
        #expect(limiter.admit("auth", now: t0 + 30) == .write(suppressedBefore: 0))
        // Still inside the window: nothing to flush yet.
        #expect(limiter.flush(now: t0 + Self.second - 1).isEmpty)
        // The next window's first event carries the count of the one before.
        #expect(limiter.admit("scan", now: t0 + Self.second) == .write(suppressedBefore: 2))
        #expect(limiter.admit("scan", now: t0 + Self.second + 1) == .write(suppressedBefore: 0), "reported once")
    }

    @Test func flushReportsWindowsThatEndedWithDropsAndForgetsThem() {
        var limiter = LogRateLimiter<String>(maxPerWindow: 1, windowNanoseconds: Self.second)
        _ = limiter.admit("a", now: 0)
        for t in 1...4 { _ = limiter.admit("a", now: UInt64(t)) }
        _ = limiter.admit("b", now: 0)
        let reports = limiter.flush(now: Self.second)
        #expect(reports.map(\.kind) == ["a"] && reports.map(\.suppressed) == [4], "b dropped nothing: no report")
        #expect(limiter.flush(now: 2 * Self.second).isEmpty)
        #expect(limiter.admit("a", now: 2 * Self.second) == .write(suppressedBefore: 0), "flushed drops are not reported again")
    }

    @Test func aClockThatGoesBackwardsStartsANewWindow() {
        var limiter = LogRateLimiter<String>(maxPerWindow: 1, windowNanoseconds: Self.second)
        _ = limiter.admit("a", now: 10 * Self.second)
        #expect(limiter.admit("a", now: 10 * Self.second + 1) == .suppress(firstInWindow: true))
        #expect(limiter.admit("a", now: Self.second) == .write(suppressedBefore: 1))
    }

    @Test func eventLogWritesTheSuppressionSummaryAtTheWindowsEnd() throws {
        let lines = Mutex<[String]>([])
        let clock = Atomic<UInt64>(0)
        let handler = LineLogHandler(format: .json, level: .info, sink: { line in lines.withLock { $0.append(line) } }, now: { 0 })
        let log = ServerEventLog(
            logger: Logger(label: "test", factory: { _ in handler }), maxPerWindow: 2, window: .seconds(1),
            clock: { clock.load(ordering: .relaxed) }, schedulesFlush: false)
        for port in 0..<50 {
            log.report(.connectionClosed(
                reason: .handshakeFailed("wrong version number"), cause: .handshakeFailed, hangUp: nil,
                peer: "127.0.0.1:\(port)", user: nil, certificate: nil, handshakeTimeout: .seconds(10)))
        }
        log.report(ServerEvent(.closed, .debug, "below the level: not counted"))
        #expect(lines.withLock { $0.count } == 2)
        clock.store(1_000_000_000, ordering: .relaxed)
        log.flush()
        let objects = try lines.withLock { $0 }.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.count == 3)
        #expect(objects.prefix(2).allSatisfy { $0["event"] as? String == "handshake_failed" && $0["reason"] as? String == "wrong version number" })
        #expect(objects.last?["msg"] as? String == "suppressed 48 similar events")
        #expect(objects.last?["kind"] as? String == "handshake_failed")
        #expect(objects.last?["suppressed"] as? Int == 48)
    }
}

/// How a closed connection maps to its one event (the cases the loopback tests cannot provoke cheaply).
@Suite struct ServerEventMappingTests {
    static func closed(_ reason: CloseReason, _ cause: DisconnectCause, _ hangUp: ServerEvent.HangUp? = nil, user: String? = "alice") -> ServerEvent {
        .connectionClosed(reason: reason, cause: cause, hangUp: hangUp, peer: "127.0.0.1:1", user: user, certificate: nil, handshakeTimeout: .seconds(10))
    }

    @Test func slowConsumersAreWarningsWithTheReasonTheyWereCutOff() {
        let pending = Self.closed(.protocolError("pending queue"), .slowConsumer, .init(code: .slowConsumer, message: "slow consumer: a subscription's pending queue passed its bound"))
        #expect(pending.kind == .slowConsumer && pending.level == .warning)
        #expect(pending.metadata["reason"] == "slow consumer: a subscription's pending queue passed its bound")
        #expect(pending.metadata["user"] == "alice")
        let output = Self.closed(.outputLimitExceeded(pendingBytes: 9_000_000), .outputLimit)
        #expect(output.kind == .slowConsumer && output.metadata["reason"] == "peer too slow: 9000000 bytes of output pending")
    }

    @Test func eachCauseHasItsKindAndLevel() {
        #expect(Self.closed(.handshakeTimeout, .handshakeFailed, user: nil).metadata["reason"] == "no TLS handshake within 10.0 seconds")
        #expect(Self.closed(.idleTimeout, .timeout, .init(code: .timeout, message: "no CONNECT within 10 seconds")).kind == .timeout)
        #expect(Self.closed(.protocolError("x"), .connectRefused, .init(code: .unsupportedProtocol, message: "protocol version 9")).kind == .connectRefused)
        #expect(Self.closed(.protocolError("x"), .protocolError, .init(code: .authenticationFailed, message: "unknown token")).kind == .authFailed,
                "a user removed by a reload is an auth failure")
        #expect(Self.closed(.ioError("reset"), .ioError).level == .info)
        let orderly = Self.closed(.peerClosed, .clientClosed)
        #expect(orderly.kind == .closed && orderly.level == .debug)
    }
}
