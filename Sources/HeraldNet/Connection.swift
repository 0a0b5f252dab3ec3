// Connection: one non-blocking TCP socket (optionally with an OpenSSL session) driven by a read and a
// write DispatchSource and one timer, all on its event loop's serial queue.
//
// Threading: every method and property must be used on `queue` (inside handler callbacks you are
// already there); from elsewhere, hop with `execute { }`. Handler callbacks run on `queue`.
//
// Decisions (phase, pauses, TLS want-read/want-write, close-after-flush, lingering, timers) live in
// `ConnectionStateMachine` (`machine`), a pure value that unit tests drive without sockets; this
// class performs its actions (SSL and socket calls, source suspend/resume, callbacks, teardown).
//
// Lifecycle (see notes/swift-platform.md): sources are cancelled, then resumed if suspended or never
// activated; the fd is closed and SSL_free'd only after every source's cancel handler ran; the
// last cancel handler drops the sources (breaking the self <-> handler cycle) and delivers
// connectionDidClose. Both sources watch the one socket descriptor (one fd per connection); the
// read source is registered first and exactly once (see `start()` for the libdispatch rule).
//
// Writes: `write` appends to the outbound buffer; output goes out after each read batch (coalesced)
// or on `flush()`. The write source runs only while the socket/TLS layer pushed back (EAGAIN,
// WANT_WRITE) — otherwise it would fire continuously. Each write call appends whole frames, so
// `close(after:)` can hang up with a final frame behind whole frames only, whatever was queued.
import CHeraldOpenSSL
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public final class Connection: @unchecked Sendable {
    typealias State = ConnectionStateMachine.Phase

    /// The loop this connection is pinned to.
    public let loop: EventLoop
    /// The serial queue all of this connection's work and callbacks run on.
    public var queue: DispatchQueue { loop.queue }
    public let isClient: Bool
    /// True when the connection runs TLS.
    public var isTLS: Bool { ssl != nil }
    public private(set) var options: ConnectionOptions
    /// Peer address (captured at accept/connect).
    public let remoteAddress: SocketAddress?
    /// The verified peer certificate, set before `connectionDidOpen`; nil when the peer sent none.
    public private(set) var peerCertificate: PeerCertificate?
    /// Negotiated protocol ("TLSv1.3") and cipher, set before `connectionDidOpen`.
    public private(set) var tlsVersion: String?
    public private(set) var tlsCipher: String?
    /// Set once `close` was called (the reason `connectionDidClose` will carry).
    public var closeReason: CloseReason? { machine.closeReason }
    /// Monotonic time of the last bytes read from the peer (the open time before any).
    public var lastReadTime: DispatchTime { DispatchTime(uptimeNanoseconds: machine.lastReadNanos) }

    let fd: Int32
    var ssl: OpaquePointer?
    var handler: (any ConnectionHandler)?
    // Fields marked @exclusivity(unchecked) are confined to `queue` and touched on every read and
    // write: their run-time exclusivity checks cost without being able to catch anything.
    /// Every decision about this connection (see ConnectionStateMachine.swift).
    @exclusivity(unchecked) var machine: ConnectionStateMachine
    var state: State { machine.phase }

    /// Created and registered once in `start()`; pausing suspends it (never re-created, see `start()`).
    private var readSource: (any DispatchSourceRead)?
    private var writeSource: (any DispatchSourceWrite)?
    private var timer: (any DispatchSourceTimer)?
    /// Whether each source is currently resumed (false = inactive or suspended).
    @exclusivity(unchecked) private var readRunning = false
    @exclusivity(unchecked) private var writeRunning = false
    /// Set by the read source's registration handler. Until then the write source stays inactive.
    private var readRegistered = false
    private var started = false
    /// Sources created whose cancel handler has not run yet; the fd closes when this reaches 0.
    private var liveSources = 0

    @exclusivity(unchecked) var output = OutputBuffer()
    /// Length of the last SSL_write that returned WANT_WRITE/WANT_READ (0 after a success). OpenSSL
    /// may already have encrypted (and partly sent) those bytes: the retry must offer them again,
    /// so trimming the output never cuts into them.
    @exclusivity(unchecked) var pendingTLSWriteLength = 0
    /// Diagnostics and tests (read-only views of the machine).
    var readPausedByBackpressure: Bool { machine.readPausedByBackpressure }
    var backpressurePauseCount: Int { machine.backpressurePauseCount }
    @exclusivity(unchecked) var readEvents = 0
    @exclusivity(unchecked) var writeEvents = 0
    /// Called after teardown (the listener's connection count).
    var teardownHook: (@Sendable () -> Void)?

    /// Reads at most this many chunks per event before yielding the loop to other connections.
    static let maxChunksPerReadEvent = 64

    init(loop: EventLoop, fd: Int32, ssl: OpaquePointer?, isClient: Bool, state: State,
         remoteAddress: SocketAddress?, options: ConnectionOptions) {
        self.loop = loop
        self.fd = fd
        self.ssl = ssl
        self.isClient = isClient
        self.machine = ConnectionStateMachine(
            phase: state, pausesReadingAboveHighWater: options.pauseReadingAboveHighWater ?? !isClient,
            now: DispatchTime.now().uptimeNanoseconds)
        self.remoteAddress = remoteAddress
        self.options = options
    }

    deinit {
        // Only reached after teardown (sources hold self until then), or if never started.
        output.release()
        if let ssl { SSL_free(ssl) }
        if !started { _ = Glibc.close(fd) }
    }

    // MARK: - Public API (on `queue`)

    /// Runs `body` on this connection's queue (use from other connections/threads).
    public func execute(_ body: @escaping @Sendable () -> Void) { queue.async(execute: body) }

    /// True once open and until closed.
    public var isOpen: Bool { machine.isOpen }
    /// Bytes written but not yet accepted by the socket.
    public var pendingOutputBytes: Int { output.count }
    /// False while pending output is above the high-water mark (until it drains to the low-water mark).
    public var isWritable: Bool { !machine.aboveHighWater }

    /// The idle timeout; changing it reschedules the idle check.
    public var idleTimeout: Duration? {
        get { options.idleTimeout }
        set {
            options.idleTimeout = newValue
            if state == .open { scheduleIdleCheck(from: DispatchTime.now().uptimeNanoseconds) }
        }
    }

    /// Appends bytes to the outbound buffer. Returns false (bytes dropped) when closed or when the
    /// hard limit would be passed; the latter reports `connectionDidExceedOutputLimit` once.
    /// Sent after the current read batch, or call `flush()`.
    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard admit(bytes.count) else { return false }
        output.append(bytes)
        noteOutputGrowth()
        return true
    }

    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { write($0) }
    }

    @discardableResult
    public func write(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Encodes straight into the outbound buffer: `body` gets room for `maxBytes` and returns how
    /// many it wrote (no intermediate copy). Returns false if refused (closed / hard limit).
    @discardableResult
    public func write(reservingCapacity maxBytes: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        guard admit(maxBytes) else { return false }
        _ = output.append(maxBytes: maxBytes, body)
        noteOutputGrowth()
        return true
    }

    /// Sends pending output now (no-op when nothing is pending or the socket pushed back).
    public func flush() {
        assertOnQueue()
        flushPending()
    }

    /// Stops reading the peer until `resumeReading()` (owner-driven flow control).
    public func pauseReading() {
        assertOnQueue()
        machine.pause(by: .owner)
        updateReadSource()
    }

    public func resumeReading() {
        assertOnQueue()
        guard machine.resumeByOwner() else { return }
        updateReadSource()
        scheduleReadDrain()
    }

    /// Runs `body` on this connection's queue after `delay` (the loop's timer; use it instead of
    /// `queue.asyncAfter`). It runs even if the connection closed meanwhile — check `isOpen` or
    /// `closeReason` in `body`; cancel with the returned item's `cancel()`.
    @discardableResult
    public func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> DispatchWorkItem {
        loop.schedule(after: delay, body)
    }

    /// Closes the connection. Idempotent: only the first reason counts. On an orderly reason
    /// (owner close, protocol error, idle, peer closed) pending output gets one best-effort,
    /// non-blocking send and TLS sends close_notify. `connectionDidClose` follows asynchronously.
    public func close(_ reason: CloseReason = .closedByOwner) {
        assertOnQueue()
        guard case .tearDown(let flushFirst) = machine.closeRequested(reason) else { return }
        if flushFirst { finalFlush() }
        guard started else {
            started = true
            queue.async { self.finishTeardown() }
            return
        }
        timer?.cancel()
        if let readSource {
            readSource.cancel()
            if !readRunning { readSource.resume() }
            readRunning = true
        }
        if let writeSource {
            writeSource.cancel()
            if !writeRunning { writeSource.resume() }
            writeRunning = true
        }
        if liveSources == 0 { queue.async { self.finishTeardown() } }
    }

    /// Stops reading and closes with `reason` once all pending output is written (or after
    /// `timeout`, whichever first). For clients that finish a batch of writes. Later writes are
    /// refused.
    public func closeWhenFlushed(_ reason: CloseReason = .closedByOwner, timeout: Duration = .seconds(5)) {
        close(after: [], discardingQueuedOutput: false, grace: timeout, reason: reason)
    }

    /// Hangs up with `finalBytes` (e.g. a fatal error frame) as the last bytes the peer receives,
    /// even when output is queued or the hard limit was reached:
    /// - with `discardingQueuedOutput`, queued output nobody started sending is dropped first. What
    ///   must go out stays: the write call whose bytes partly went out (the frame in progress), and
    ///   every call overlapping bytes a pending TLS write retry must offer again. Each write call
    ///   appends whole frames, so the peer still sees whole frames, then `finalBytes`;
    /// - `finalBytes` are appended past the hard limit (keep them small);
    /// - reading stops, later writes are refused; once everything is written the connection
    ///   lingers (see `linger`) and closes with `reason` when the peer has it all, or when `grace`
    ///   expires, whichever first.
    /// Idempotent with the other close calls: the first one counts. Before the connection is open
    /// it simply closes.
    public func close(after finalBytes: [UInt8], discardingQueuedOutput: Bool = true,
                      grace: Duration = .seconds(2), reason: CloseReason) {
        assertOnQueue()
        switch machine.closeAfterRequested() {
        case .ignore: return
        case .closeNow:
            close(reason)
            return
        case .queueFinalBytes: break
        }
        if discardingQueuedOutput {
            output.discardUnstarted(keepingFront: pendingTLSWriteLength)
        }
        finalBytes.withUnsafeBytes { output.append($0) }
        guard !output.isEmpty else {
            close(reason)
            return
        }
        machine.closingAfterFlush(reason)
        updateReadSource()
        timer?.schedule(deadline: .now() + grace.dispatchInterval, leeway: .milliseconds(10))
        flushPending()
    }

    /// Internal state for diagnostics (on `queue`).
    var debugState: String {
        var parts: [String] = []
        let m = machine
        parts.append("state=\(state) pending=\(output.count) writeBlocked=\(m.writeBlocked) tlsRetry=\(pendingTLSWriteLength)")
        parts.append("writeWantsRead=\(m.writeWantsRead) readWantsWrite=\(m.readWantsWrite)")
        parts.append("pausedOwner=\(m.readPausedByOwner) pausedBackpressure=\(m.readPausedByBackpressure)")
        parts.append("aboveHigh=\(m.aboveHighWater) reading=\(readRunning) writeRunning=\(writeRunning)")
        parts.append("pauses=\(m.backpressurePauseCount) kernelUnread=\(kernelQueue(Int(FIONREAD)))")
        parts.append("kernelUnsent=\(kernelQueue(Connection.siocoutq)) lingering=\(m.lingering)")
        let sslPending: Int32 = ssl.map { SSL_pending($0) } ?? 0
        parts.append("sslPending=\(sslPending) readEvents=\(readEvents) writeEvents=\(writeEvents)")
        return parts.joined(separator: " ")
    }

    /// SIOCOUTQ (TIOCOUTQ): bytes in the socket's send queue not yet acknowledged by the peer.
    static let siocoutq = 0x5411

    func kernelQueue(_ request: Int) -> Int32 {
        var value: Int32 = 0
        _ = ioctl(fd, UInt(request), &value)
        return value
    }

    // MARK: - Lifecycle

    /// Creates the sources and starts connecting/handshaking. On `queue`, once.
    ///
    /// libdispatch rule (Linux epoll backend, verified in the Swift 6.3.1 libdispatch.so): both
    /// sources of one fd share one epoll registration (a "muxnote" with a readers and a writers
    /// list). `_dispatch_unote_register_muxed` ORs the events currently armed on that registration
    /// into the new source's events *before* choosing the list (`events & EPOLLOUT` → writers). So a
    /// read source registered while the write source is armed (resumed, waiting for EPOLLOUT) is
    /// filed as a writer: it fires on writability and never on readability, and reading stalls once
    /// the write source is suspended. (The old code re-created the read source on every resume of
    /// reading — exactly when output was blocked — and worked around the stall with a dup'ed fd.)
    /// Hence: the read source is registered first, exactly once; the write source is not resumed
    /// before the read source's registration handler ran; pausing suspends the read source (a
    /// suspended source keeps its registration: at most one event is latched, no busy loop).
    func start() {
        guard !started else { return }
        started = true
        let read = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        read.setEventHandler { [self] in self.onReadable() }
        read.setCancelHandler { [self] in self.sourceCancelled() }
        read.setRegistrationHandler { [self] in
            self.readRegistered = true
            self.updateReadSource()
            self.updateWriteSource()
        }
        liveSources += 1
        readSource = read
        readRunning = true
        read.resume()

        let write = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: queue)
        write.setEventHandler { [self] in self.onWritable() }
        write.setCancelHandler { [self] in self.sourceCancelled() }
        liveSources += 1
        writeSource = write

        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.setEventHandler { [weak self] in self?.onTimer() }
        timer.schedule(deadline: .now() + options.handshakeTimeout.dispatchInterval,
                       leeway: .milliseconds(50))
        timer.activate()
        self.timer = timer

        switch state {
        case .connecting: break
        case .handshaking:
            if isClient { driveHandshake() }  // the client speaks first
        case .open: becomeOpen()
        case .closed: break
        }
        updateReadSource()
        updateWriteSource()
    }

    private func sourceCancelled() {
        liveSources -= 1
        guard liveSources == 0, closeReason != nil else { return }
        finishTeardown()
    }

    private func finishTeardown() {
        if let ssl {
            SSL_free(ssl)
            self.ssl = nil
        }
        _ = Glibc.close(fd)
        readSource = nil
        writeSource = nil
        timer = nil
        output.release()
        let handler = self.handler
        self.handler = nil
        teardownHook?()
        teardownHook = nil
        handler?.connectionDidClose(self, reason: closeReason ?? .closedByOwner)
    }

    // MARK: - Source management

    /// Reading is paused by suspending the read source, never by cancelling it (a new read source
    /// could be misfiled as a writer, see `start()`). While connecting it runs and its events are
    /// ignored. It is suspended only once registered (a source suspended before its registration
    /// would never run its registration handler, which the write source waits for).
    func updateReadSource() {
        guard closeReason == nil, let readSource else { return }
        let want = machine.wantsReadEvents
        if want && !readRunning {
            readRunning = true
            readSource.resume()
        } else if !want && readRunning && readRegistered {
            readRunning = false
            readSource.suspend()
        }
    }

    func updateWriteSource() {
        guard closeReason == nil, readRegistered, let writeSource else { return }
        let want = machine.wantsWriteEvents(outputPending: !output.isEmpty)
        if want && !writeRunning {
            writeRunning = true
            writeSource.resume()
        } else if !want && writeRunning {
            writeRunning = false
            writeSource.suspend()
        }
    }

    /// Reads again soon: decrypted bytes may wait inside SSL where the fd source cannot see them.
    func scheduleReadDrain() {
        queue.async { [self] in
            guard machine.canRead else { return }
            readLoop()
        }
    }

    // MARK: - Output bookkeeping

    /// Debug builds trap when a caller breaks the confinement rule (use `execute { }`).
    @inline(__always)
    func assertOnQueue() {
        #if DEBUG
        dispatchPrecondition(condition: .onQueue(queue))
        #endif
    }

    private func admit(_ count: Int) -> Bool {
        assertOnQueue()
        switch machine.admit(count, pending: output.count, hardLimit: options.outputHardLimit) {
        case .accept: return true
        case .refuse: return false
        case .refuseAndReport:
            queue.async { [self] in
                guard closeReason == nil else { return }
                handler?.connectionDidExceedOutputLimit(self)
            }
            return false
        }
    }

    private func noteOutputGrowth() {
        machine.outputGrew(to: output.count, highWaterMark: options.outputHighWaterMark)
    }

    /// After output shrank: lift backpressure and report writability at the low-water mark.
    func noteOutputDrained() {
        guard case .becameWritable(let resumeReading) = machine.outputShrank(
            to: output.count, lowWaterMark: options.outputLowWaterMark) else { return }
        if resumeReading {
            updateReadSource()
            scheduleReadDrain()
        }
        queue.async { [self] in
            guard closeReason == nil else { return }
            handler?.connectionDidBecomeWritable(self)
        }
    }

    /// Pauses reading while our output to the peer is above the high-water mark.
    func applyBackpressure() {
        if machine.readBatchEnded() { updateReadSource() }
    }

    // MARK: - Timer

    private func onTimer() {
        let now = DispatchTime.now().uptimeNanoseconds
        switch machine.timerFired(now: now, idleTimeout: options.idleTimeout,
                                  handshakeTimeout: options.handshakeTimeout) {
        case .none: return
        case .close(let reason): close(reason)
        case .reportIdle(let idleFor):
            handler?.connectionDidBecomeIdle(self, idleFor: .nanoseconds(Int64(min(idleFor, UInt64(Int64.max)))))
            if state == .open && closeReason == nil { scheduleIdleCheck(from: now) }
        case .rearmIdle(let base): scheduleIdleCheck(from: base)
        }
    }

    /// Arms the timer for `base + idleTimeout` (or disarms it without an idle timeout).
    func scheduleIdleCheck(from base: UInt64) {
        guard let timer else { return }
        switch machine.idleTimer(from: base, idleTimeout: options.idleTimeout) {
        case .keep: return
        case .disarm: timer.schedule(deadline: .distantFuture)
        case .at(let deadline, let leeway):
            timer.schedule(deadline: DispatchTime(uptimeNanoseconds: deadline),
                           leeway: .nanoseconds(Int(min(leeway, UInt64(Int.max)))))
        }
    }

    // MARK: - Open

    func becomeOpen() {
        machine.opened(at: DispatchTime.now().uptimeNanoseconds)
        scheduleIdleCheck(from: machine.lastReadNanos)
        if let ssl { capturePeer(ssl) }
        handler?.connectionDidOpen(self)
        guard state == .open else { return }
        updateReadSource()
        readLoop()  // the handshake may have left application data buffered in SSL
        flushPending()
    }

    private func capturePeer(_ ssl: OpaquePointer) {
        if let version = SSL_get_version(ssl) { tlsVersion = String(cString: version) }
        if let cipher = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_get_name(cipher) {
            tlsCipher = String(cString: name)
        }
        guard let cert = SSL_get1_peer_certificate(ssl) else { return }
        defer { X509_free(cert) }
        guard let name = X509_get_subject_name(cert) else { return }
        var buffer = [CChar](repeating: 0, count: 1024)
        let n = cherald_name_rfc2253(name, &buffer, Int32(buffer.count))
        let subject = n >= 0 ? String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        var commonName: String?
        let index = X509_NAME_get_index_by_NID(name, NID_commonName, -1)
        if index >= 0, let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry) {
            var utf8: UnsafeMutablePointer<UInt8>?
            let length = ASN1_STRING_to_UTF8(&utf8, data)
            if length >= 0, let utf8 {
                commonName = String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
                cherald_openssl_free(utf8)
            }
        }
        peerCertificate = PeerCertificate(subject: subject, commonName: commonName)
    }
}

extension Duration {
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return UInt64.max / 2 }
        return whole &+ UInt64(attoseconds / 1_000_000_000)
    }

    var dispatchInterval: DispatchTimeInterval {
        .nanoseconds(Int(min(nanoseconds, UInt64(Int.max))))
    }
}
