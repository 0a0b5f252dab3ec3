// ConnectionStateMachine: every decision `Connection` makes about its socket, as a value type with
// events in and actions out (the swift-nio style). It owns the flags that used to live on
// `Connection` (phase, pauses by owner and by backpressure, TLS want-read/want-write crossings,
// close-after-flush, lingering, the output-limit report) and performs no I/O: no sockets, no SSL,
// no DispatchSource, no clock (times come in as arguments). `Connection` is the effectful wrapper:
// it feeds events in, performs the returned actions, and after each change reconciles its sources
// with `wantsReadEvents` / `wantsWriteEvents(outputPending:)`.
//
// What stays in `Connection` (source facts, not decisions): whether each source is resumed, whether
// the read source's registration handler ran, and the libdispatch rule of `Connection.start()` — the
// read source is registered once, first, and paused by suspending it (never cancelled/re-created).
// The machine only says whether read events are wanted; how that is achieved is the wrapper's.
//
// Confinement: a plain value stored in `Connection`, used only on its queue.

struct ConnectionStateMachine {
    /// Where the connection is in its life. `.closed` is final.
    enum Phase: Sendable, Equatable { case connecting, handshaking, open, closed }

    /// Who paused reading. Each cause is lifted separately; reading resumes when none is left.
    enum PauseCause: Sendable, Equatable { case owner, backpressure }

    /// What the pushed-back I/O call waits for before it is retried.
    enum Wait: Sendable, Equatable { case readable, writable }

    // MARK: - State

    private(set) var phase: Phase
    /// Set by the first close: the reason `connectionDidClose` carries.
    private(set) var closeReason: CloseReason?
    /// Set by close(after:…) / closeWhenFlushed: close with this reason once output is empty.
    private(set) var closeAfterFlush: CloseReason?
    private(set) var readPausedByOwner = false
    private(set) var readPausedByBackpressure = false
    /// Pending output passed the high-water mark and has not yet drained to the low-water mark.
    private(set) var aboveHighWater = false
    /// Servers pause reading above the high-water mark (clients by option).
    let pausesReadingAboveHighWater: Bool
    /// How often reading was paused for backpressure (diagnostics, tests).
    private(set) var backpressurePauseCount = 0
    /// The last write hit EAGAIN / WANT_WRITE: wait for the write source.
    private(set) var writeBlocked = false
    /// SSL_write wants the peer's data first (renegotiation/key update): retry on readable.
    private(set) var writeWantsRead = false
    /// SSL_read must write first: retry on writable.
    private(set) var readWantsWrite = false
    /// The handshake is waiting for writability (else for readability).
    private(set) var handshakeWantsWrite = false
    /// Everything was written after close(after:…): waiting for the peer to acknowledge it.
    private(set) var lingering = false
    /// The peer ended its side while we linger: input is no longer watched.
    private(set) var lingerInputEnded = false
    /// The hard-limit refusal was reported since output last drained.
    private(set) var limitReported = false
    /// Monotonic time (ns) of the last bytes read from the peer (the open time before any).
    private(set) var lastReadNanos: UInt64

    init(phase: Phase, pausesReadingAboveHighWater: Bool, now: UInt64) {
        self.phase = phase
        self.pausesReadingAboveHighWater = pausesReadingAboveHighWater
        self.lastReadNanos = now
    }

    // MARK: - Derived

    var readPaused: Bool { readPausedByOwner || readPausedByBackpressure }

    /// Open and not closing (`Connection.isOpen`).
    var isOpen: Bool { phase == .open && closeReason == nil && closeAfterFlush == nil }

    /// The read loop may run: open and not paused.
    var canRead: Bool { phase == .open && !readPaused }

    /// Whether the read source should be resumed. While connecting or handshaking it runs (events
    /// drive the connect/handshake); while lingering it runs until the peer's EOF.
    var wantsReadEvents: Bool {
        guard closeReason == nil else { return false }
        return lingering ? !lingerInputEnded : !(phase == .open && readPaused)
    }

    /// Whether the write source should be resumed: only while something waits for writability
    /// (an armed write source on a writable socket would fire continuously).
    func wantsWriteEvents(outputPending: Bool) -> Bool {
        guard closeReason == nil else { return false }
        switch phase {
        case .connecting: return true
        case .handshaking: return handshakeWantsWrite
        case .open: return (writeBlocked && outputPending) || readWantsWrite
        case .closed: return false
        }
    }

    /// While reading: stop the batch because output is above the high-water mark.
    var stopsReadingForOutput: Bool { aboveHighWater && pausesReadingAboveHighWater }

    /// Output may be written now (the caller also checks that output is pending).
    var canFlush: Bool { phase == .open && !writeBlocked && !writeWantsRead }

    // MARK: - Socket events

    enum ReadableAction: Equatable {
        case ignore
        case finishConnect
        case driveHandshake
        /// Lingering: read and drop raw input.
        case discardInput
        /// Run the read loop; with `flushFirst` a write that waited for readability retries first.
        case read(flushFirst: Bool)
    }

    /// The read source fired.
    mutating func readable() -> ReadableAction {
        switch phase {
        case .closed: return .ignore
        case .connecting: return .finishConnect  // data, EOF or an error: the connect completed
        case .handshaking: return .driveHandshake
        case .open:
            if lingering { return .discardInput }
            let flushFirst = writeWantsRead
            writeWantsRead = false
            return .read(flushFirst: flushFirst)
        }
    }

    enum WritableAction: Equatable {
        case ignore
        case finishConnect
        case driveHandshake
        /// Flush output; with `readFirst` a read that waited for writability retries first.
        case flush(readFirst: Bool)
    }

    /// The write source fired.
    mutating func writable() -> WritableAction {
        switch phase {
        case .closed: return .ignore
        case .connecting: return .finishConnect
        case .handshaking: return .driveHandshake
        case .open:
            writeBlocked = false
            let readFirst = readWantsWrite
            readWantsWrite = false
            return .flush(readFirst: readFirst)
        }
    }

    enum ConnectedAction: Equatable { case driveHandshake, open }

    /// The TCP connect completed without error.
    mutating func connected(usesTLS: Bool) -> ConnectedAction {
        guard usesTLS else { return .open }
        phase = .handshaking
        return .driveHandshake
    }

    /// SSL_do_handshake needs more: wait for writability (`wantsWrite`) or readability.
    mutating func handshakeBlocked(wantsWrite: Bool) {
        handshakeWantsWrite = wantsWrite
    }

    /// Connect (plain) or handshake (TLS) done, or accepted plain: the connection is open.
    mutating func opened(at now: UInt64) {
        handshakeWantsWrite = false
        phase = .open
        lastReadNanos = now
    }

    /// The read loop delivered bytes (resets the idle clock).
    mutating func bytesRead(at now: UInt64) {
        lastReadNanos = now
    }

    /// SSL_read returned WANT_WRITE: retry the read when writable.
    mutating func readBlockedOnWrite() {
        readWantsWrite = true
    }

    /// A write pushed back: EAGAIN / WANT_WRITE waits for `.writable`, WANT_READ for `.readable`.
    mutating func outputBlocked(waitingFor wait: Wait) {
        switch wait {
        case .writable: writeBlocked = true
        case .readable: writeWantsRead = true
        }
    }

    // MARK: - Flow control

    /// The owner or backpressure pauses reading. Returns true when this changed the pause state.
    @discardableResult
    mutating func pause(by cause: PauseCause) -> Bool {
        switch cause {
        case .owner:
            let changed = !readPausedByOwner
            readPausedByOwner = true
            return changed
        case .backpressure:
            guard !readPausedByBackpressure else { return false }
            readPausedByBackpressure = true
            backpressurePauseCount += 1
            return true
        }
    }

    /// The owner resumes reading. Returns true when reading should restart (and drain what SSL may
    /// hold); false when it was not paused by the owner or the connection is closing after flush.
    mutating func resumeByOwner() -> Bool {
        guard readPausedByOwner, closeAfterFlush == nil else { return false }
        readPausedByOwner = false
        return true
    }

    /// End of a read batch: pause for backpressure when output is above the high-water mark.
    /// Returns true when reading was paused now.
    mutating func readBatchEnded() -> Bool {
        guard pausesReadingAboveHighWater && aboveHighWater else { return false }
        return pause(by: .backpressure)
    }

    enum Admission: Equatable {
        case accept
        case refuse
        /// Refused at the hard limit, for the first time since output last drained: report it.
        case refuseAndReport
    }

    /// May `count` more bytes be appended to `pending` bytes of output?
    mutating func admit(_ count: Int, pending: Int, hardLimit: Int) -> Admission {
        guard closeReason == nil, closeAfterFlush == nil, phase != .closed else { return .refuse }
        guard pending + count > hardLimit else { return .accept }
        if limitReported { return .refuse }
        limitReported = true
        return .refuseAndReport
    }

    /// Output grew to `pending` bytes.
    mutating func outputGrew(to pending: Int, highWaterMark: Int) {
        if !aboveHighWater && pending > highWaterMark { aboveHighWater = true }
    }

    enum DrainAction: Equatable {
        case none
        /// Report `connectionDidBecomeWritable`; with `resumeReading` the backpressure pause was
        /// lifted (reconcile the read source and drain what SSL may hold).
        case becameWritable(resumeReading: Bool)
    }

    /// Output shrank to `pending` bytes.
    mutating func outputShrank(to pending: Int, lowWaterMark: Int) -> DrainAction {
        guard aboveHighWater, pending <= lowWaterMark else { return .none }
        aboveHighWater = false
        limitReported = false
        let resume = readPausedByBackpressure
        readPausedByBackpressure = false
        return .becameWritable(resumeReading: resume)
    }

    enum FlushedAction: Equatable {
        /// Not closing: carry on (shrink the buffer, report drain, reconcile the write source).
        case proceed
        /// Closing after flush and everything is written: send close_notify/FIN and linger.
        case startLingering
        /// Closing after flush, already lingering or closed: nothing more.
        case stop
    }

    /// A flush left the output empty.
    mutating func outputEmptied() -> FlushedAction {
        guard closeAfterFlush != nil else { return .proceed }
        guard !lingering, closeReason == nil else { return .stop }
        lingering = true
        return .startLingering
    }

    // MARK: - Closing

    enum CloseAction: Equatable {
        /// Already closed: the first reason counts.
        case ignore
        /// Tear down: cancel sources, close the fd. With `finalFlush`, first one best-effort,
        /// non-blocking send of pending output and close_notify / FIN.
        case tearDown(finalFlush: Bool)
    }

    /// `close(reason)`, from the owner or from inside (EOF, error, timer).
    mutating func closeRequested(_ reason: CloseReason) -> CloseAction {
        guard closeReason == nil else { return .ignore }
        closeReason = reason
        let wasOpen = phase == .open
        phase = .closed
        guard wasOpen && !lingering else { return .tearDown(finalFlush: false) }
        switch reason {
        case .closedByOwner, .protocolError, .idleTimeout, .peerClosed: return .tearDown(finalFlush: true)
        default: return .tearDown(finalFlush: false)
        }
    }

    enum CloseAfterAction: Equatable {
        /// Another close came first.
        case ignore
        /// Not open yet: close at once.
        case closeNow
        /// Queue the final bytes (dropping unstarted output if asked), then call `closingAfterFlush`
        /// — or `closeRequested` if the output is still empty.
        case queueFinalBytes
    }

    /// `close(after:…)` / `closeWhenFlushed`.
    func closeAfterRequested() -> CloseAfterAction {
        guard closeReason == nil, closeAfterFlush == nil else { return .ignore }
        return phase == .open ? .queueFinalBytes : .closeNow
    }

    /// The final bytes are queued: stop reading, refuse writes, close with `reason` once flushed
    /// (the caller arms the grace timer and flushes).
    mutating func closingAfterFlush(_ reason: CloseReason) {
        closeAfterFlush = reason
        readPausedByOwner = true
    }

    enum LingerAction: Equatable {
        case stop
        /// The peer acknowledged everything: close with this reason.
        case close(CloseReason)
        /// Bytes still unacknowledged: check again shortly.
        case checkAgain
    }

    /// While lingering: `unacknowledged` bytes sit in the socket's send queue (SIOCOUTQ).
    func lingerCheck(unacknowledged: Int32) -> LingerAction {
        guard lingering, closeReason == nil, let reason = closeAfterFlush else { return .stop }
        return unacknowledged <= 0 ? .close(reason) : .checkAgain
    }

    /// While lingering, the peer sent EOF (which stays readable): stop watching input.
    mutating func peerEndedWhileLingering() {
        lingerInputEnded = true
    }

    /// While lingering, discarding input failed (reset): the reason to close with.
    func lingerInputFailed(_ error: String) -> CloseReason {
        closeAfterFlush ?? .ioError(error)
    }

    // MARK: - Timer

    enum TimerAction: Equatable {
        case none
        case close(CloseReason)
        /// Report `connectionDidBecomeIdle(idleFor:)`, then (if still open) re-arm from `now`.
        case reportIdle(idleFor: UInt64)
        /// Not idle long enough yet: re-arm the idle check from the last read.
        case rearmIdle(from: UInt64)
    }

    /// The connection's one timer fired: handshake/connect deadline, close-after-flush grace, or
    /// idle check, depending on the phase.
    func timerFired(now: UInt64, idleTimeout: Duration?, handshakeTimeout: Duration) -> TimerAction {
        guard closeReason == nil else { return .none }
        switch phase {
        case .connecting: return .close(.connectFailed("timed out after \(handshakeTimeout)"))
        case .handshaking: return .close(.handshakeTimeout)
        case .closed: return .none
        case .open:
            if let pending = closeAfterFlush { return .close(pending) }
            guard let idle = idleTimeout else { return .none }
            let idleFor = now &- lastReadNanos
            return idleFor >= idle.nanoseconds ? .reportIdle(idleFor: idleFor) : .rearmIdle(from: lastReadNanos)
        }
    }

    enum TimerSetting: Equatable {
        /// Leave the timer as it is (the close-after-flush grace deadline is armed).
        case keep
        case disarm
        case at(deadline: UInt64, leeway: UInt64)
    }

    /// The idle check to arm for `base + idleTimeout` (5 % leeway, at least 1 ms).
    func idleTimer(from base: UInt64, idleTimeout: Duration?) -> TimerSetting {
        guard closeAfterFlush == nil else { return .keep }
        guard let idle = idleTimeout else { return .disarm }
        let leeway = max(idle.nanoseconds / 20, 1_000_000)
        return .at(deadline: base &+ idle.nanoseconds, leeway: leeway)
    }
}
