import Dispatch
import FilterPolicy
import HeraldBroker
import HeraldCore
import HeraldNet
import HeraldWire
import Synchronization

/// One client connection speaking the stream protocol (docs/PROTOCOL.md). Confined to its
/// connection's serial queue: every method runs there, except the `StreamSink` calls, which hop.
///
/// Read path: decrypted bytes → `ClientFrameDecoder` → frames. PUB frames of one read batch are
/// collected and published with ONE broker call when the batch ends (or before any other frame,
/// so replies keep the client's order); replies are encoded into `out` and written once per batch.
final class ServerSession: ConnectionHandler, StreamSink, @unchecked Sendable {
    private let service: HeraldService
    private let context: SessionContext
    private let connection: Connection
    // The hot fields below are confined to the connection's queue and touched once or more per
    // frame; their run-time exclusivity checks cost ≈ 3 % of a 1→1 publish and can catch nothing.
    @exclusivity(unchecked) private var settings: SessionSettings
    private var settingsGeneration: UInt64
    @exclusivity(unchecked) private var decoder: ClientFrameDecoder

    private enum State {
        case awaitingConnect
        case ready(principal: Principal, handle: StreamSessionHandle)
        case closed

        /// Read in place (a `case .closed = state` match copied the payload, retains and all).
        var isClosed: Bool {
            if case .closed = self { return true }
            return false
        }

        /// Read in place, like `isClosed`.
        var isReady: Bool {
            if case .ready = self { return true }
            return false
        }
    }
    @exclusivity(unchecked) private var state: State = .awaitingConnect

    /// Encoded output of the current batch, written to the connection in one piece.
    @exclusivity(unchecked) private var out: [UInt8] = []
    /// The PUBs collected for the next broker call: the first `publishRequestIDs.count` requests.
    /// Those after them are emptied ones from earlier calls, kept to be filled again.
    @exclusivity(unchecked) private var publishBatch: [PublishRequest] = []
    /// The last PUB's topic and whether this session's principal may publish to it: consecutive
    /// PUBs to one topic decide it once. Cleared whenever the principal is (re)resolved.
    @exclusivity(unchecked) private var lastPublishPermission: (topic: String, refusal: HeraldError?)?
    @exclusivity(unchecked) private var publishRequestIDs: [UInt64] = []
    @exclusivity(unchecked) private var subscribeBatch: [SubscribeRequest] = []
    @exclusivity(unchecked) private var subscribeSids: [UInt64] = []
    /// Subscriptions attached to durable named subscriptions, served from their queues.
    private var pumps: [UInt64: DurableSubscriptionPump] = [:]
    /// QREQ ReceiveMessage long polls still parked, by request id: cancelled when the client goes.
    private var polls: [UInt64: LongPoll] = [:]
    /// Subscriptions as this connection knows them: deliveries for other sids (an UNSUB raced a
    /// publish) are dropped, so nothing arrives after UNSUBOK.
    @exclusivity(unchecked) private var activeSids: Set<UInt64> = []
    private var pingOutstanding = false
    @exclusivity(unchecked) private var inReadBatch = false
    /// What CONNECT presented, so a reload can re-resolve the principal's permissions.
    private var credentials: (token: String?, certificateCommonName: String?) = (nil, nil)
    /// For the close's log line (Logging/ServerEvent.swift): who the client was and the ERR it was cut off with.
    private var userName: String?
    private var lastHangUp: ServerEvent.HangUp?
    /// Set on the connection's queue when written deliveries left more than the high-water mark
    /// unsent; cleared when the output drained to the low-water mark. Publishers pace on it
    /// (`StreamSink.isBackedUp`), read from their threads.
    private let outputBackedUp = Atomic<Bool>(false)
    /// Deliveries handed to `deliver` whose hop has not run yet, and their body bytes: while
    /// this event loop is busy (or not scheduled), they pile up where the output buffer cannot
    /// see them.
    private let deliveriesInHops = Atomic<Int>(0)
    private let bytesInHops = Atomic<Int>(0)
    /// More deliveries or body bytes than these waiting in hops count as backed up. One
    /// publisher's broker call can hand over ≈ 5,400 small messages at once (a whole read event):
    /// a bound of 4,096 deliveries paced the publisher after most calls of a 1→1 run, so it
    /// waited for each batch to drain instead of decoding the next one meanwhile. The byte bound
    /// (twice the output's high-water mark) keeps large messages from piling up past it.
    static let maxDeliveriesInHops = 16_384
    static let maxBytesInHops = 2 << 20

    init(connection: Connection, service: HeraldService) {
        self.connection = connection
        self.service = service
        self.context = service.context
        self.settingsGeneration = context.generation.load(ordering: .acquiring)
        self.settings = context.settings
        self.decoder = ClientFrameDecoder(limits: settings.wireLimits)
    }

    // MARK: - ConnectionHandler

    func connectionDidOpen(_ connection: Connection) {
        context.counters.connectionsOpened.add(1, ordering: .relaxed)
        connection.idleTimeout = settings.heartbeat
        let info = ServerInfo(
            serverName: settings.serverName, version: HeraldVersion.text, protocolVersion: HeraldProtocol.version,
            limits: settings.wireLimits, maxMessageBytes: settings.messageValidator.limits.maxMessageBytes,
            maxAttributes: settings.messageValidator.limits.maxAttributes,
            maxSubscriptions: context.broker.options.limits.maxSubscriptionsPerSession,
            heartbeatIntervalMilliseconds: Self.milliseconds(settings.heartbeat))
        FrameEncoder.append(ServerFrame.info(info), to: &out)
        writeOut()
        // CONNECT must arrive within the connect timeout (docs/PROTOCOL.md §6.5).
        connection.schedule(after: settings.connectTimeout) { [self] in
            guard case .awaitingConnect = state else { return }
            context.counters.heartbeatTimeouts.add(1, ordering: .relaxed)
            fail(HeraldError(.timeout, "no CONNECT within \(settings.connectTimeout)"), reason: .idleTimeout)
        }
    }

    static func milliseconds(_ d: Duration) -> Int {
        Int(d.components.seconds) * 1000 + Int(d.components.attoseconds / 1_000_000_000_000_000)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        inReadBatch = true
        refreshSettings()
        pingOutstanding = false
        decoder.append(bytes)
        decodeBuffered()
    }

    func connectionDidFinishReadBatch(_ connection: Connection) {
        endBatch()  // the connection flushes right after this callback
    }

    private func endBatch() {
        publishPending()
        subscribePending()
        inReadBatch = false
        writeOut()
    }

    // MARK: - Turns: a connection never holds its event loop for long

    /// How long one connection may hold its event loop before the others on it get a turn: a
    /// client pipelining thousands of SUBs (or PUBs) gets its work done in slices, with the other
    /// connections of its loop (say, one waiting for a PONG) served between them. A turn with
    /// subscription work (route rebuilds, the expensive frames) ends after `turnNanoseconds`; one of
    /// PUBs only after `publishTurnNanoseconds`, because each turn's PUBs are published (fanned out
    /// to every receiving session) together and shorter turns cost fan-out throughput.
    static let turnNanoseconds: UInt64 = 500_000
    static let publishTurnNanoseconds: UInt64 = 4_000_000
    /// SUBs per broker call: a route rebuild per slice, not per SUB, yet short enough to keep a
    /// turn near `turnNanoseconds`.
    static let subscribesPerCall = 128
    /// PUBs per broker call within a turn: an eighth of the pending bound (at least 16), so a
    /// publisher learns its subscribers are backlogged (and is paced, see `pace`) well before a
    /// subscriber that keeps up reaches the bound.
    private var publishesPerCall: Int {
        max(16, context.broker.options.limits.maxPendingMessages / 8)
    }

    /// The rest of the buffered frames are handled by a later turn (reading is paused till then).
    private var continuationScheduled = false
    /// SUB/UNSUB frames handled in the current turn.
    private var turnSubscriptionOps = 0

    /// Handles buffered frames until they run out, the turn's time is spent, or the publisher is
    /// paced; what is left waits in the decoder (reading paused) for `continueTurn`.
    private func decodeBuffered() {
        guard !continuationScheduled, !pacing else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        turnSubscriptionOps = 0
        var frames = 0
        while decodeOne() {
            if pacing { return }
            frames &+= 1
            guard frames & 15 == 0 || turnSubscriptionOps > 0 else { continue }  // a PUB costs ~1 µs: read the clock every 16
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            if elapsed >= Self.publishTurnNanoseconds || (elapsed >= Self.turnNanoseconds && turnSubscriptionOps > 0) {
                scheduleContinuation()
                return
            }
        }
    }

    private func scheduleContinuation() {
        continuationScheduled = true
        connection.pauseReading()
        connection.queue.async { [self] in
            continuationScheduled = false
            guard !pacing else { return }  // the relief continues the turn
            continueTurn()
        }
    }

    /// A turn that starts from the decoder's buffer instead of a read; reading resumes once the
    /// buffer is drained.
    private func continueTurn() {
        if case .closed = state { return }
        inReadBatch = true
        decodeBuffered()
        endBatch()
        if case .closed = state { return }
        if !continuationScheduled && !pacing { connection.resumeReading() }
    }

    func connectionDidBecomeIdle(_ connection: Connection, idleFor: Duration) {
        if pingOutstanding {
            context.counters.heartbeatTimeouts.add(1, ordering: .relaxed)
            fail(HeraldError(.timeout, "no traffic and no PONG within two heartbeat intervals"), reason: .idleTimeout)
            return
        }
        pingOutstanding = true
        FrameEncoder.append(ServerFrame.ping, to: &out)
        writeOut()
    }

    /// The client does not read: its outbound buffer reached the hard limit. It is told why
    /// (docs/PROTOCOL.md §6.3) before the connection closes; its session is detached (ack-mode
    /// messages it did not get stay for a resume).
    func connectionDidExceedOutputLimit(_ connection: Connection) {
        context.counters.outputLimitDisconnects.add(1, ordering: .relaxed)
        let pending = connection.pendingOutputBytes
        let limit = connection.options.outputHardLimit
        if case .ready(_, let handle) = state {
            service.detachSession(handle)
        }
        hangUp(ErrorFrame(code: .slowConsumer, message: "slow consumer: the client did not read and the server's outbound buffer for this connection passed its limit of \(limit) bytes; the connection was closed"),
               reason: .outputLimitExceeded(pendingBytes: pending), dropQueuedOutput: true, cause: .outputLimit)
    }

    func connectionDidClose(_ connection: Connection, reason: CloseReason) {
        let cause = disconnectCause ?? Self.cause(of: reason)
        context.counters.countDisconnect(cause)
        context.events.report(.connectionClosed(
            reason: reason, cause: cause, hangUp: lastHangUp, peer: connection.remoteAddress?.description ?? "unknown", user: userName,
            certificate: connection.peerCertificate?.commonName, handshakeTimeout: connection.options.handshakeTimeout))
        context.counters.events.countHandshakeFailure(reason)
        if case .ready(_, let handle) = state {
            service.detachSession(handle)
        }
        state = .closed
        publishBatch.removeAll()
        publishRequestIDs.removeAll()
        subscribeBatch.removeAll()
        subscribeSids.removeAll()
        stopPumps()
    }

    private func stopPumps() {
        for pump in pumps.values { pump.stop() }
        pumps = [:]
        for poll in polls.values { poll.cancel() }
        polls = [:]
    }

    /// Why this session hung up, when it did (the connection's close reason is less specific).
    private var disconnectCause: DisconnectCause?

    private static func cause(of reason: CloseReason) -> DisconnectCause {
        switch reason {
        case .peerClosed: return .clientClosed
        case .idleTimeout: return .timeout
        case .handshakeFailed, .handshakeTimeout: return .handshakeFailed
        case .outputLimitExceeded: return .outputLimit
        case .protocolError: return .protocolError
        case .ioError, .connectFailed: return .ioError
        case .closedByOwner, .rejected: return .closedByServer
        }
    }

    // MARK: - StreamSink (called on a publisher's thread: hop to our queue)

    /// One hop per batch, on purpose: the hops queue behind the other connections of this event
    /// loop (publishers among them), which paces publishers to what subscribers' sockets take.
    /// (Coalescing them into one hop per session let publishers outrun their subscribers until the
    /// output hard limit cut the subscribers off, 10→10 benchmark.) Deliveries waiting in hops and
    /// unsent output both count toward `isBackedUp`, which paces the publishers.
    func deliver(_ deliveries: [StreamDelivery]) { deliver(deliveries, soleHolder: false) }

    func deliver(_ deliveries: [StreamDelivery], soleHolder: Bool) {
        let count = deliveries.count
        var summed = 0
        for delivery in deliveries { summed &+= delivery.message.body.count }
        let bytes = summed
        deliveriesInHops.add(count, ordering: .relaxed)
        bytesInHops.add(bytes, ordering: .relaxed)
        // Messages this hop alone holds are freed on the publisher's loop, where they were
        // allocated: freed on another thread, glibc's `free` locks the allocating thread's arena
        // against that thread's own `malloc`s (1→1: 5 % of server samples waited on that lock;
        // freeing on the origin took 11–15 % off the server's CPU). The hop's box holds the last
        // reference: the broker's own were dropped in the publish call, which ends on the origin
        // before the release below can run there. Shared messages are left alone: their releases
        // would only add work to the publisher's loop, and they are seldom the last.
        guard soleHolder, let origin = EventLoop.current, origin !== connection.loop else {
            connection.execute { [self] in write(deliveries, count: count, bytes: bytes) }
            return
        }
        let hop = HopDeliveries(deliveries)
        connection.execute { [self] in
            write(hop.deliveries, count: count, bytes: bytes)
            origin.executeBatched { hop.deliveries = [] }
        }
    }

    /// A hop's deliveries, cleared on the loop that allocated their messages (`deliver`). Read on
    /// the session's loop before the clearing is handed over, written once on the origin after.
    private final class HopDeliveries: @unchecked Sendable {
        var deliveries: [StreamDelivery]
        init(_ deliveries: [StreamDelivery]) { self.deliveries = deliveries }
    }

    /// The session's side of a hop, on its loop.
    private func write(_ deliveries: [StreamDelivery], count: Int, bytes: Int) {
        if writeDeliveries(deliveries) {
            connection.flush()
            if connection.pendingOutputBytes > connection.options.outputHighWaterMark {
                outputBackedUp.store(true, ordering: .relaxed)
            }
        }
        let left = deliveriesInHops.subtract(count, ordering: .relaxed).newValue
        let leftBytes = bytesInHops.subtract(bytes, ordering: .relaxed).newValue
        if (left <= Self.maxDeliveriesInHops && left + count > Self.maxDeliveriesInHops)
            || (leftBytes <= Self.maxBytesInHops && leftBytes + bytes > Self.maxBytesInHops) {
            reportDrainedOutput()
        }
    }

    var isBackedUp: Bool {
        outputBackedUp.load(ordering: .relaxed) || deliveriesInHops.load(ordering: .relaxed) > Self.maxDeliveriesInHops
            || bytesInHops.load(ordering: .relaxed) > Self.maxBytesInHops
    }

    func connectionDidBecomeWritable(_ connection: Connection) {
        guard outputBackedUp.load(ordering: .relaxed),
              connection.pendingOutputBytes <= connection.options.outputHighWaterMark else { return }
        outputBackedUp.store(false, ordering: .relaxed)
        reportDrainedOutput()
    }

    /// Tells the broker this session no longer backs up, so paced publishers may go on.
    private func reportDrainedOutput() {
        guard !isBackedUp, case .ready(_, let handle) = state else { return }
        service.sessionOutputDrained(handle)
    }

    func disconnect(reason: DisconnectReason) {
        connection.execute { [self] in
            let code = reason.code
            let text: String
            switch reason {
            case .slowConsumer: text = "slow consumer: a subscription's pending queue passed its bound; the session was dropped"
            case .sessionTakenOver: text = "the session was taken over by a newer connection"
            }
            // The broker already released the session. Queued frames the client has not started
            // receiving are dropped: it never sees those MSGs, so it cannot have acked them.
            let cause: DisconnectCause = reason == .slowConsumer ? .slowConsumer : .sessionTakenOver
            hangUp(ErrorFrame(code: code, message: text), reason: .protocolError(text), dropQueuedOutput: true, cause: cause)
        }
    }

    // MARK: - Frames

    /// Decodes and handles one frame; false when the buffer holds no complete frame or the
    /// session ended.
    private func decodeOne() -> Bool {
        let frame: ClientFrame?
        do {
            frame = try decoder.next()
        } catch {
            context.counters.protocolErrors.add(1, ordering: .relaxed)
            publishPending()
            subscribePending()
            let frame = ErrorFrame(code: error.heraldCode, reference: error.reference, message: error.message)
            if error.isFatal {
                if case .ready(_, let handle) = state {
                    service.detachSession(handle)
                }
                hangUp(frame, reason: .protocolError(error.message), dropQueuedOutput: false, cause: .protocolError)
                return false
            }
            FrameEncoder.appendError(frame, to: &out)
            return true
        }
        guard let frame = consume frame else { return false }  // moved, not copied
        handle(frame)
        return !state.isClosed
    }

    private func handle(_ frame: consuming ClientFrame) {
        // PUBs and SUBs are batched (one broker call per run of them); replies stay in the order
        // the client sent its frames, so a run ends before any other frame is handled.
        if case .publish = frame {
            subscribePending()
            // Consumed: the PUB's topic, body and ids move into the publish request, not copied.
            if case .publish(let pub) = consume frame { handlePublish(pub) }
            return
        }
        publishPending()
        if case .subscribe(let sub) = frame, case .ready = state {
            handleSubscribe(sub)
            return
        }
        subscribePending()
        if case .awaitingConnect = state, case .connect = frame {} else if case .awaitingConnect = state {
            return requireConnect()
        }
        switch frame {
        case .connect(let options): handleConnect(options)
        case .subscribe(let sub): handleSubscribe(sub)
        case .unsubscribe(let sid): handleUnsubscribe(sid)
        case .credit(let sid, let count): handleCredit(sid: sid, count: count)
        case .ack(let sid, let tags): handleAck(sid: sid, ranges: tags)
        case .ping: FrameEncoder.append(ServerFrame.pong, to: &out)
        case .pong: pingOutstanding = false
        case .publish: break
        case .queueRequest(let request): handleQueueRequest(request)
        }
    }

    private func handleConnect(_ options: ConnectOptions) {
        guard case .awaitingConnect = state else {
            return fail(HeraldError(.protocolError, "CONNECT was already accepted on this connection"), reason: nil)
        }
        guard options.protocolVersion == HeraldProtocol.version else {
            return fail(HeraldError(.unsupportedProtocol, "protocol version \(options.protocolVersion) is not supported; this server speaks \(HeraldProtocol.version)"), reason: nil)
        }
        let principal: Principal
        credentials = (options.token, connection.peerCertificate?.commonName)
        switch service.authenticate(token: options.token, certificateCommonName: credentials.certificateCommonName, settings: settings) {
        case .success(let p): principal = p
        case .failure(let error): return fail(error, reason: nil)
        }
        switch service.attachSession(options.session.map(SessionID.init), principal: principal, sink: self) {
        case .success(let handle):
            state = .ready(principal: principal, handle: handle)
            lastPublishPermission = nil
            userName = principal.name
            FrameEncoder.append(ServerFrame.connected(ConnectAccepted(session: handle.id.text, resumed: handle.resumed)), to: &out)
        case .failure(let error):
            fail(error, reason: nil)
        }
    }

    private func handlePublish(_ pub: consuming PublishFrame) {
        let refusal: HeraldError?
        if let last = lastPublishPermission, last.topic == pub.topic, state.isReady {
            refusal = last.refusal
        } else {
            guard case .ready(let principal, _) = state else { return requireConnect() }
            refusal = service.publishRefusal(topic: pub.topic, principal: principal)
            lastPublishPermission = (pub.topic, refusal)
        }
        let requestID = pub.requestID
        let reference = ErrorReference.request(requestID)
        let attributes: MessageAttributes
        do {
            attributes = try AttributeCodec.decode(pub.attributes)
        } catch {
            return reply(HeraldError(error.heraldCode, error.message), reference)
        }
        // The attribute section decoded without error: MSGs pass it through as the publisher sent it.
        let cache = pub.attributes.isEmpty ? nil : EncodedAttributeSection(pub.attributes)
        // Each field is moved out of the frame (swapped with an empty value), not copied: a copy
        // cost a retain here and a release when the frame died, per field and per PUB.
        var pub = pub
        if let error = service.preparePublish(
            topic: moveOut(&pub.topic, leaving: ""), attributes: attributes, body: moveOut(&pub.body, leaving: []),
            groupID: moveOut(&pub.groupID, leaving: nil), deduplicationID: moveOut(&pub.deduplicationID, leaving: nil),
            transportCache: cache, refusal: refusal, validator: settings.messageValidator,
            filling: &publishBatch, at: publishRequestIDs.count) {
            return reply(error, reference)
        }
        publishRequestIDs.append(requestID)
        if publishRequestIDs.count >= publishesPerCall { publishPending() }
    }

    /// Publishes the collected PUB frames with one broker call and encodes their confirmations.
    private func publishPending() {
        guard !publishRequestIDs.isEmpty else { return }
        var congestion: PublishCongestion?
        var receipts: PublishReceipts?
        let results = service.publish(
            taking: &publishBatch, count: publishRequestIDs.count, congestion: &congestion, receipts: &receipts)
        if let congestion { pace(congestion) }
        if receipts != nil || !confirmations.isEmpty {
            // Some confirmation waits for a receipt: every later one queues behind it.
            queueConfirmations(results, receipts: receipts)
        } else {
            writeConfirmations(results, requestIDs: publishRequestIDs)
        }
        // The emptied requests stay, to be filled by the next PUBs (`preparePublish(…filling:at:)`).
        publishRequestIDs.removeAll(keepingCapacity: true)
    }

    /// PUBOK (or ERR) for each result, in order. Runs of accepted publishes are encoded straight
    /// into the connection's buffer in one reservation.
    private func writeConfirmations(_ results: [Result<MessageID, HeraldError>], requestIDs: [UInt64]) {
        writeOut()  // earlier replies first
        let count = min(results.count, requestIDs.count)
        var index = 0
        while index < count {
            var end = index
            var capacity = 0
            while end < count, case .success(let id) = results[end] {
                capacity += DirectFrameWriter.publishedCapacity(messageID: id)
                end += 1
            }
            if end > index {
                let first = index
                connection.write(reservingCapacity: capacity) { buffer in
                    guard let base = buffer.baseAddress else { return 0 }
                    var written = 0
                    for position in first..<end {
                        guard case .success(let id) = results[position] else { continue }
                        written += DirectFrameWriter.writePublished(
                            requestID: requestIDs[position], messageID: id, to: base + written)
                    }
                    return written
                }
                index = end
            }
            if index < count, case .failure(let error) = results[index] {
                FrameEncoder.appendError(ErrorFrame(code: error.code, reference: .request(requestIDs[index]), message: error.message), to: &out)
                writeOut()
                index += 1
            }
        }
    }

    // MARK: - Confirmations that wait for receipts

    /// A publish confirmation not written yet: its result, and whether a receipt still holds it.
    private struct Confirmation {
        let requestID: UInt64
        var result: Result<MessageID, HeraldError>
        var waiting: Bool
    }

    /// Confirmations in request order; `confirmationsBase` is the sequence number of the first.
    @exclusivity(unchecked) private var confirmations: [Confirmation] = []
    @exclusivity(unchecked) private var confirmationsHead = 0
    @exclusivity(unchecked) private var confirmationsBase: UInt64 = 0

    private func queueConfirmations(_ results: [Result<MessageID, HeraldError>], receipts: PublishReceipts?) {
        let waiting = receipts?.waitingRequests ?? []
        let first = confirmationsBase + UInt64(confirmations.count - confirmationsHead)
        for (index, result) in results.enumerated() where index < publishRequestIDs.count {
            confirmations.append(Confirmation(requestID: publishRequestIDs[index], result: result, waiting: waiting.contains(index)))
        }
        if let receipts {
            let connection = self.connection
            receipts.whenSettled { [weak self] settled in
                guard let session = self else { return }
                connection.execute { session.settleConfirmations(first: first, settled) }
            }
        }
        flushConfirmations()
    }

    /// Receipts settled for requests of the batch whose first confirmation has sequence `first`.
    private func settleConfirmations(first: UInt64, _ settled: [(request: Int, error: HeraldError?)]) {
        if case .closed = state { return }
        for (request, error) in settled {
            // A confirmation already written cannot be settled again (never expected: guarded, not trapped).
            let sequence = first &+ UInt64(request)
            guard sequence >= confirmationsBase, sequence - confirmationsBase < UInt64(confirmations.count - confirmationsHead) else { continue }
            let position = Int(sequence - confirmationsBase) + confirmationsHead
            confirmations[position].waiting = false
            if let error { confirmations[position].result = .failure(error) }
        }
        flushConfirmations()
        if !inReadBatch { connection.flush() }
    }

    /// Writes the confirmations at the head that no receipt holds any more, in order.
    private func flushConfirmations() {
        var end = confirmationsHead
        while end < confirmations.count, !confirmations[end].waiting { end += 1 }
        guard end > confirmationsHead else { return }
        let ready = confirmations[confirmationsHead..<end]
        writeConfirmations(ready.map(\.result), requestIDs: ready.map(\.requestID))
        confirmationsBase += UInt64(end - confirmationsHead)
        confirmationsHead = end
        if confirmationsHead == confirmations.count {
            confirmations.removeAll(keepingCapacity: true)
            confirmationsHead = 0
        } else if confirmationsHead > 1_024 {
            confirmations.removeFirst(confirmationsHead)
            confirmationsHead = 0
        }
    }

    // MARK: - Publisher pacing

    /// Longest a publisher waits for backlogged subscribers before reading on anyway; after that
    /// the subscribers' pending bound (slow-consumer policy) decides, so one stuck subscriber cannot
    /// stall a topic's publishers for good.
    static let maxPacingWait: Duration = .seconds(3)
    /// After a wait ran out, congestion is ignored for this long (the stuck subscriber overflows).
    static let pacingGrace: UInt64 = 1_000_000_000

    private var pacing = false
    /// Identifies the current wait, so a relief or deadline of an earlier one is ignored.
    private var pacingEpoch: UInt64 = 0
    private var ignoreCongestionUntil: UInt64 = 0

    /// The last batch left subscribers backlogged: stop handling this publisher's frames and stop
    /// reading it until they drain (bounded by `maxPacingWait`), as NATS stalls a fast producer,
    /// instead of growing their queues until they are cut off as slow consumers. The subscribers
    /// signal relief (no polling); one timer bounds the wait.
    private func pace(_ congestion: PublishCongestion) {
        guard !pacing else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now >= ignoreCongestionUntil else { return }
        pacing = true
        pacingEpoch &+= 1
        let epoch = pacingEpoch
        connection.pauseReading()
        let connection = self.connection
        congestion.whenRelieved { [weak self] in
            guard let session = self else { return }
            connection.execute { session.endPacing(epoch, relieved: true) }
        }
        connection.schedule(after: Self.maxPacingWait) { [weak self] in
            self?.endPacing(epoch, relieved: false)
        }
    }

    private func endPacing(_ epoch: UInt64, relieved: Bool) {
        guard pacing, epoch == pacingEpoch else { return }
        if case .closed = state { return }
        if !relieved { ignoreCongestionUntil = DispatchTime.now().uptimeNanoseconds + Self.pacingGrace }
        pacing = false
        if !continuationScheduled { continueTurn() }  // frames left in the buffer, then reading
    }

    private func handleSubscribe(_ sub: SubscribeFrame) {
        guard case .ready(let principal, _) = state else { return requireConnect() }
        let scope: FilterPolicyScope = sub.scope == .messageBody ? .messageBody : .messageAttributes
        switch service.prepareSubscribe(
            sid: sub.sid, topic: sub.topic, policy: sub.policy, scope: scope, subscriptionName: sub.subscriptionName,
            ackMode: sub.ackMode == .ack ? .explicit : .auto, credit: Int(sub.credit), principal: principal, settings: settings) {
        case .success(let request) where request.tag != nil:
            subscribePending()  // earlier SUBs answer first
            attachDurable(request, sub: sub)
        case .success(let request):
            guard pumps[sub.sid] == nil else {
                return reply(BrokerError.duplicateSubscription(sid: sub.sid).heraldError, .subscription(sub.sid))
            }
            subscribeBatch.append(request)
            subscribeSids.append(sub.sid)
            turnSubscriptionOps += 1
            if subscribeBatch.count >= Self.subscribesPerCall { subscribePending() }
        case .failure(let error):
            subscribePending()  // earlier SUBs answer first
            reply(error, .subscription(sub.sid))
        }
    }

    /// Subscribes the collected SUB frames with one broker call (one route rebuild per topic for
    /// the run) and answers each; every SUBOK means the subscription is live.
    private func subscribePending() {
        guard !subscribeBatch.isEmpty, case .ready(_, let handle) = state else { return }
        let results = service.subscribe(handle, subscribeBatch)
        for (sid, result) in zip(subscribeSids, results) {
            switch result {
            case .success:
                activeSids.insert(sid)
                // SUBOK goes out before any redelivered MSG: those hop through our queue after this frame.
                FrameEncoder.append(ServerFrame.subscribed(sid: sid), to: &out)
            case .failure(let error):
                reply(error, .subscription(sid))
            }
        }
        subscribeBatch.removeAll(keepingCapacity: true)
        subscribeSids.removeAll(keepingCapacity: true)
    }

    /// A SUB naming a configuration subscription: served from that subscription's queue.
    private func attachDurable(_ request: SubscribeRequest, sub: SubscribeFrame) {
        guard let tag = request.tag, let api = context.queues.withLock({ $0 }) else {
            return reply(HeraldError(.notFound, "Subscription does not exist: \(request.tag ?? "")"), .subscription(sub.sid))
        }
        guard pumps[sub.sid] == nil, !activeSids.contains(sub.sid) else {
            return reply(BrokerError.duplicateSubscription(sid: sub.sid).heraldError, .subscription(sub.sid))
        }
        let limit = service.broker.options.limits.maxSubscriptionsPerSession
        guard activeSids.count + pumps.count < limit else {
            return reply(BrokerError.tooManySubscriptionsForSession(limit: limit).heraldError, .subscription(sub.sid))
        }
        let pump = DurableSubscriptionPump(
            sid: sub.sid, queue: NamedSubscription.queueName(tag), topic: request.topic, autoAck: request.ackMode == .auto,
            credit: request.credit, maxCredit: service.broker.options.limits.maxCredit, manager: api.manager,
            connection: connection
        ) { [unowned self] frame in
            FrameEncoder.append(ServerFrame.message(frame), to: &out)
            writeOut()
        }
        pumps[sub.sid] = pump
        FrameEncoder.append(ServerFrame.subscribed(sid: sub.sid), to: &out)
        pump.start()
    }

    private func handleUnsubscribe(_ sid: UInt64) {
        guard case .ready(_, let handle) = state else { return requireConnect() }
        turnSubscriptionOps += 1
        if let pump = pumps.removeValue(forKey: sid) {
            pump.stop()
            return FrameEncoder.append(ServerFrame.unsubscribed(sid: sid), to: &out)
        }
        do {
            try service.unsubscribe(handle, sid: sid)
            activeSids.remove(sid)
            FrameEncoder.append(ServerFrame.unsubscribed(sid: sid), to: &out)
        } catch {
            reply(error, .subscription(sid))
        }
    }

    private func handleCredit(sid: UInt64, count: UInt32) {
        guard case .ready(_, let handle) = state else { return requireConnect() }
        if let pump = pumps[sid] { return pump.addCredit(Int(count)) }
        do {
            try service.addCredit(handle, sid: sid, Int(count))
        } catch {
            reply(error, .subscription(sid))
        }
    }

    private func handleAck(sid: UInt64, ranges: [ClosedRange<UInt64>]) {
        guard case .ready(_, let handle) = state else { return requireConnect() }
        if let pump = pumps[sid] { return pump.ack(ranges) }
        do {
            try service.ack(handle, sid: sid, ranges: ranges)
        } catch {
            reply(error, .subscription(sid))
        }
    }

    // MARK: - Queues

    /// A QREQ goes to the queue API (the same handling the SQS HTTP API gets); its QRES or ERR is
    /// written whenever the action completes — a long-poll receive may answer after later frames.
    private func handleQueueRequest(_ request: QueueRequestFrame) {
        guard case .ready(let principal, _) = state else { return requireConnect() }
        guard let api = context.queues.withLock({ $0 }) else {
            return reply(HeraldError(.invalidAction, "queues are not available on this server"), .request(request.requestID))
        }
        let connection = self.connection
        let requestID = request.requestID
        // SNS's topic actions: the same TopicAPI the SNS HTTP API renders as XML.
        if TopicAPI.actions.contains(request.action) {
            return TopicAPI(service: service, queues: api).handle(action: request.action, body: request.json, principal: principal, settings: settings) { [weak self] result in
                guard let session = self else { return }
                connection.execute { session.writeQueueResponse(requestID, result) }
            }
        }
        let poll = api.handle(action: request.action, body: request.json, principal: principal, settings: settings) { [weak self] result in
            guard let session = self else { return }
            connection.execute { session.writeQueueResponse(requestID, result) }
        }
        // The reply hops onto this queue, so it comes after this registration.
        if let poll { polls[requestID] = poll }
    }

    private func writeQueueResponse(_ requestID: UInt64, _ result: Result<JSONValue, HeraldError>) {
        polls.removeValue(forKey: requestID)
        guard case .ready = state else { return }
        switch result {
        case .success(let json):
            var bytes: [UInt8] = []
            json.write(to: &bytes)
            FrameEncoder.append(ServerFrame.queueResponse(QueueResponseFrame(requestID: requestID, json: bytes)), to: &out)
        case .failure(let error):
            reply(error, .request(requestID))
        }
        writeOut()
    }

    // MARK: - Output

    /// Most a run of MSG frames reserves in the outbound buffer beyond what its first frame needs.
    static let deliveryRunBytes = 64 << 10

    /// MSG frames go straight into the connection's outbound buffer (after anything in `out`), in
    /// runs: a run reserves room for as many frames as the remaining deliveries would take if they
    /// were the size of its first (at most `deliveryRunBytes`, at least the first frame), then
    /// sizes and encodes each frame in one go until one does not fit. Each delivery's fields are
    /// read once, in place (a fan-out's deliveries are different messages, each a cache miss and
    /// a retain of storage other threads share: reading them in a sizing pass and again in an
    /// encoding pass doubled both). The sid is looked up once per run of one sid.
    /// Returns whether it wrote anything (the caller flushes).
    private func writeDeliveries(_ deliveries: [StreamDelivery]) -> Bool {
        guard case .ready = state else { return false }
        writeOut()
        var wrote = false
        deliveries.withUnsafeBufferPointer { items in
            var sids = ActiveSidLookup()
            var index = 0
            while index < items.count {
                guard sids.isActive(items[index].sid, in: activeSids) else {
                    index += 1
                    continue
                }
                let first = Self.frameCapacity(items[index].message)
                let room = max(first, min(Self.deliveryRunBytes, first * (items.count - index)))
                let accepted = connection.write(reservingCapacity: room) { buffer in
                    guard let base = buffer.baseAddress else { return 0 }
                    var used = 0
                    while index < items.count {
                        guard sids.isActive(items[index].sid, in: activeSids) else {
                            index += 1
                            continue
                        }
                        guard let wrote = DirectFrameWriter.writeMessage(
                            sid: items[index].sid, deliveryTag: items[index].deliveryTag, message: items[index].message,
                            redelivered: items[index].redelivered, to: base + used, room: buffer.count - used)
                        else { break }
                        used += wrote
                        index += 1
                    }
                    return used
                }
                guard accepted else { return }  // closed or past the hard limit (reported by the connection)
                wrote = true
            }
        }
        return wrote
    }

    /// Room one MSG frame of `message` takes (`DirectFrameWriter.messageCapacity`).
    private static func frameCapacity(_ message: Message) -> Int {
        DirectFrameWriter.messageCapacity(
            topic: message.topic, messageID: message.id, attributesCount: AttributeCodec.section(for: message).count,
            bodyCount: message.body.count, groupID: message.groupID)
    }

    /// Hands `out` to the connection. Inside a read batch the connection flushes when the batch
    /// ends; elsewhere (timers, deliveries, broker callbacks) nothing else would, so flush now.
    private func writeOut() {
        guard !out.isEmpty else { return }
        _ = connection.write(out)
        out.removeAll(keepingCapacity: true)
        if !inReadBatch { connection.flush() }
    }

    private func reply(_ error: HeraldError, _ reference: ErrorReference) {
        FrameEncoder.appendError(ErrorFrame(code: error.code, reference: reference, message: error.message), to: &out)
    }

    private func requireConnect() {
        fail(HeraldError(.protocolError, "CONNECT required"), reason: nil)
    }

    /// Sends a fatal ERR and closes the connection.
    private func fail(_ error: HeraldError, reason: CloseReason?) {
        context.counters.protocolErrors.add(1, ordering: .relaxed)
        if case .ready(_, let handle) = state {
            service.detachSession(handle)
        }
        let cause: DisconnectCause
        switch (state, error.code) {
        case (_, .timeout): cause = .timeout
        case (.awaitingConnect, let code) where code != .protocolError: cause = .connectRefused
        default: cause = .protocolError
        }
        hangUp(ErrorFrame(code: error.code, message: error.message), reason: reason ?? .protocolError(error.message),
               dropQueuedOutput: false, cause: cause)
    }

    /// How long a closing connection may take to get its final ERR out to a client that reads.
    static let hangUpGrace: Duration = .seconds(2)

    /// Ends the session with `frame` as the last frame the client receives, then closes (a client
    /// always learns why it was cut off). The caller has detached the broker session, if any.
    /// With `dropQueuedOutput` (slow consumers), output the client has not started receiving is
    /// dropped: the frame already partly sent is finished, then the ERR follows at once. Without
    /// it, earlier replies go out first. Either way the connection stops reading and closes once
    /// the ERR is written, or after `hangUpGrace`.
    private func hangUp(_ frame: ErrorFrame, reason: CloseReason, dropQueuedOutput: Bool, cause: DisconnectCause) {
        if case .closed = state { return }
        state = .closed
        disconnectCause = cause
        lastHangUp = ServerEvent.HangUp(code: frame.code, message: frame.message)
        publishBatch.removeAll()
        publishRequestIDs.removeAll()
        subscribeBatch.removeAll()
        subscribeSids.removeAll()
        stopPumps()
        if dropQueuedOutput {
            out.removeAll(keepingCapacity: false)
        } else {
            writeOut()  // earlier replies first (refused past the hard limit)
        }
        var bytes: [UInt8] = []
        FrameEncoder.appendError(frame, to: &bytes)
        connection.close(after: bytes, discardingQueuedOutput: dropQueuedOutput, grace: Self.hangUpGrace, reason: reason)
    }

    private func refreshSettings() {
        let generation = context.generation.load(ordering: .acquiring)
        guard generation != settingsGeneration else { return }
        settingsGeneration = generation
        settings = context.settings
        // Users and permissions apply to the next frame: resolve this connection's principal again.
        guard case .ready(_, let handle) = state else { return }
        switch service.authenticate(token: credentials.token, certificateCommonName: credentials.certificateCommonName, settings: settings) {
        case .success(let principal):
            state = .ready(principal: principal, handle: handle)
            lastPublishPermission = nil
        case .failure(let error):
            lastPublishPermission = nil
            fail(error, reason: nil)
        }
    }
}

/// `writeDeliveries`' memo of whether the last sid seen is active (deliveries come in runs of one
/// sid).
private struct ActiveSidLookup {
    private var sid: UInt64?
    private var active = false

    mutating func isActive(_ sid: UInt64, in activeSids: Set<UInt64>) -> Bool {
        if sid != self.sid {
            self.sid = sid
            active = activeSids.contains(sid)
        }
        return active
    }
}

/// The version the server reports in INFO.
public enum HeraldVersion {
    public static let text = "0.1.0"
}
