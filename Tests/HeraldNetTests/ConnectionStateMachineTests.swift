@testable import HeraldNet
import Testing

// ConnectionStateMachine driven without sockets: events in, actions and source interest out.
extension NetTests {
    @Suite struct ConnectionStateMachineBehaviour {
        typealias Machine = ConnectionStateMachine
        static let ms: UInt64 = 1_000_000

        /// An open server-side machine (pauses above the high-water mark), opened at t = 0.
        func openMachine(pausesAboveHighWater: Bool = true) -> Machine {
            Machine(phase: .open, pausesReadingAboveHighWater: pausesAboveHighWater, now: 0)
        }

        // MARK: Connect and handshake

        @Test func plainConnectOpens() {
            var m = Machine(phase: .connecting, pausesReadingAboveHighWater: false, now: 0)
            #expect(m.wantsReadEvents)  // runs while connecting; its events complete the connect
            #expect(m.wantsWriteEvents(outputPending: false))
            #expect(!m.isOpen && !m.canRead)
            let r1 = m.readable()
            #expect(r1 == .finishConnect)
            let r2 = m.writable()
            #expect(r2 == .finishConnect)
            let r3 = m.connected(usesTLS: false)
            #expect(r3 == .open)
            m.opened(at: 7)
            #expect(m.phase == .open && m.isOpen && m.canRead)
            #expect(m.lastReadNanos == 7)
            #expect(!m.wantsWriteEvents(outputPending: false))
        }

        @Test func tlsHandshakeWaitsForTheDirectionOpenSSLAsks() {
            var m = Machine(phase: .connecting, pausesReadingAboveHighWater: false, now: 0)
            let r4 = m.connected(usesTLS: true)
            #expect(r4 == .driveHandshake)
            #expect(m.phase == .handshaking)
            m.handshakeBlocked(wantsWrite: true)
            #expect(m.wantsWriteEvents(outputPending: false))
            let r5 = m.writable()
            #expect(r5 == .driveHandshake)
            m.handshakeBlocked(wantsWrite: false)
            #expect(!m.wantsWriteEvents(outputPending: false))
            #expect(m.wantsReadEvents)
            let r6 = m.readable()
            #expect(r6 == .driveHandshake)
            m.handshakeBlocked(wantsWrite: true)
            m.opened(at: 1)
            #expect(!m.handshakeWantsWrite)
            #expect(!m.wantsWriteEvents(outputPending: false))
            let r7 = m.readable()
            #expect(r7 == .read(flushFirst: false))
        }

        @Test func handshakeAndConnectTimeoutsAreTimerEvents() {
            let connecting = Machine(phase: .connecting, pausesReadingAboveHighWater: false, now: 0)
            #expect(connecting.timerFired(now: 0, idleTimeout: nil, handshakeTimeout: .seconds(3))
                    == .close(.connectFailed("timed out after 3.0 seconds")))
            let handshaking = Machine(phase: .handshaking, pausesReadingAboveHighWater: false, now: 0)
            #expect(handshaking.timerFired(now: 0, idleTimeout: .seconds(1), handshakeTimeout: .seconds(3))
                    == .close(.handshakeTimeout))
        }

        // MARK: Pause and resume

        @Test func ownerPauseSuspendsReadingAndResumeDrains() {
            var m = openMachine()
            #expect(m.wantsReadEvents)
            let r8 = m.pause(by: .owner)
            #expect(r8)
            let r9 = m.pause(by: .owner)
            #expect(!r9)  // idempotent
            #expect(!m.wantsReadEvents && !m.canRead)
            let r10 = m.resumeByOwner()
            #expect(r10)
            #expect(m.wantsReadEvents && m.canRead)
            let r11 = m.resumeByOwner()
            #expect(!r11)  // was not paused
        }

        @Test func backpressurePausesAtHighWaterAndResumesAtLowWater() {
            var m = openMachine()
            m.outputGrew(to: 100, highWaterMark: 100)
            #expect(!m.aboveHighWater && !m.stopsReadingForOutput)
            let r12 = m.readBatchEnded()
            #expect(!r12)
            m.outputGrew(to: 101, highWaterMark: 100)
            #expect(m.aboveHighWater && m.stopsReadingForOutput)
            let r13 = m.readBatchEnded()
            #expect(r13)
            let r14 = m.readBatchEnded()
            #expect(!r14)  // counted once per pause
            #expect(m.backpressurePauseCount == 1)
            #expect(m.readPausedByBackpressure && !m.wantsReadEvents)
            // Above the low-water mark nothing changes; at it, writability is reported and reading resumes.
            let r15 = m.outputShrank(to: 51, lowWaterMark: 50)
            #expect(r15 == .none)
            let r16 = m.outputShrank(to: 50, lowWaterMark: 50)
            #expect(r16 == .becameWritable(resumeReading: true))
            #expect(!m.aboveHighWater && m.wantsReadEvents)
            let r17 = m.outputShrank(to: 0, lowWaterMark: 50)
            #expect(r17 == .none)
        }

        @Test func clientsDoNotPauseForBackpressureUnlessAsked() {
            var m = openMachine(pausesAboveHighWater: false)
            m.outputGrew(to: 1_000, highWaterMark: 10)
            #expect(m.aboveHighWater && !m.stopsReadingForOutput)
            let r18 = m.readBatchEnded()
            #expect(!r18)
            #expect(m.wantsReadEvents)
            let r19 = m.outputShrank(to: 0, lowWaterMark: 5)
            #expect(r19 == .becameWritable(resumeReading: false))
        }

        @Test func ownerAndBackpressurePausesAreLiftedSeparately() {
            var m = openMachine()
            m.pause(by: .owner)
            m.outputGrew(to: 11, highWaterMark: 10)
            let r20 = m.readBatchEnded()
            #expect(r20)
            let r21 = m.outputShrank(to: 0, lowWaterMark: 5)
            #expect(r21 == .becameWritable(resumeReading: true))
            #expect(!m.wantsReadEvents)  // the owner's pause remains
            let r22 = m.resumeByOwner()
            #expect(r22)
            #expect(m.wantsReadEvents)
        }

        // MARK: Output limit

        @Test func hardLimitIsReportedOncePerDrain() {
            var m = openMachine()
            let r23 = m.admit(10, pending: 90, hardLimit: 100)
            #expect(r23 == .accept)
            let r24 = m.admit(11, pending: 90, hardLimit: 100)
            #expect(r24 == .refuseAndReport)
            let r25 = m.admit(11, pending: 90, hardLimit: 100)
            #expect(r25 == .refuse)
            m.outputGrew(to: 90, highWaterMark: 50)
            _ = m.outputShrank(to: 0, lowWaterMark: 10)
            let r26 = m.admit(200, pending: 0, hardLimit: 100)
            #expect(r26 == .refuseAndReport)
        }

        // MARK: Blocked writes and TLS crossings

        @Test func blockedWriteArmsTheWriteSourceOnlyWithOutputPending() {
            var m = openMachine()
            #expect(m.canFlush)
            m.outputBlocked(waitingFor: .writable)
            #expect(!m.canFlush)
            #expect(m.wantsWriteEvents(outputPending: true))
            #expect(!m.wantsWriteEvents(outputPending: false))
            let r27 = m.writable()
            #expect(r27 == .flush(readFirst: false))
            #expect(m.canFlush && !m.wantsWriteEvents(outputPending: true))
        }

        @Test func tlsWriteWantingReadRetriesOnReadable() {
            var m = openMachine()
            m.outputBlocked(waitingFor: .readable)  // SSL_write: WANT_READ
            #expect(!m.canFlush)
            #expect(!m.wantsWriteEvents(outputPending: true))  // waits for the peer, not the socket
            let r28 = m.readable()
            #expect(r28 == .read(flushFirst: true))
            #expect(m.canFlush)
            let r29 = m.readable()
            #expect(r29 == .read(flushFirst: false))
        }

        @Test func tlsReadWantingWriteRetriesOnWritable() {
            var m = openMachine()
            m.readBlockedOnWrite()  // SSL_read: WANT_WRITE
            #expect(m.wantsWriteEvents(outputPending: false))
            let r30 = m.writable()
            #expect(r30 == .flush(readFirst: true))
            #expect(!m.wantsWriteEvents(outputPending: false))
            let r31 = m.writable()
            #expect(r31 == .flush(readFirst: false))
        }

        // MARK: Closing

        @Test func orderlyCloseOfAnOpenConnectionFlushesOnce() {
            for reason in [CloseReason.closedByOwner, .protocolError("x"), .idleTimeout, .peerClosed] {
                var m = openMachine()
                let r32 = m.closeRequested(reason)
                #expect(r32 == .tearDown(finalFlush: true))
                #expect(m.phase == .closed && m.closeReason == reason)
                let r33 = m.closeRequested(.closedByOwner)
                #expect(r33 == .ignore)  // the first reason counts
                #expect(!m.wantsReadEvents && !m.wantsWriteEvents(outputPending: true))
                let r34 = m.readable()
                let r35 = m.writable()
                #expect(r34 == .ignore && r35 == .ignore)
                let r36 = m.admit(1, pending: 0, hardLimit: 10)
                #expect(r36 == .refuse)
            }
        }

        @Test func errorCloseOrCloseBeforeOpenDoesNotFlush() {
            var m = openMachine()
            let r37 = m.closeRequested(.ioError("reset"))
            #expect(r37 == .tearDown(finalFlush: false))
            var handshaking = Machine(phase: .handshaking, pausesReadingAboveHighWater: true, now: 0)
            let r38 = handshaking.closeRequested(.closedByOwner)
            #expect(r38 == .tearDown(finalFlush: false))
        }

        @Test func closeAfterFinalBytesLingersThenClosesWhenAcknowledged() {
            var m = openMachine()
            #expect(m.closeAfterRequested() == .queueFinalBytes)
            m.closingAfterFlush(.protocolError("bye"))
            #expect(!m.isOpen && !m.wantsReadEvents)  // reading stops
            let r39 = m.admit(1, pending: 0, hardLimit: 10)
            #expect(r39 == .refuse)  // later writes are refused
            #expect(m.closeAfterRequested() == .ignore)
            let r40 = m.resumeByOwner()
            #expect(!r40)  // the owner cannot resume reading
            // The final bytes are written: linger, watching input again (to discard it) until EOF.
            let r41 = m.outputEmptied()
            #expect(r41 == .startLingering)
            let r42 = m.outputEmptied()
            #expect(r42 == .stop)
            #expect(m.lingering && m.wantsReadEvents)
            let r43 = m.readable()
            #expect(r43 == .discardInput)
            #expect(m.lingerCheck(unacknowledged: 120) == .checkAgain)
            m.peerEndedWhileLingering()
            #expect(!m.wantsReadEvents)
            #expect(m.lingerCheck(unacknowledged: 0) == .close(.protocolError("bye")))
            // Closing from lingering sends nothing more.
            let r44 = m.closeRequested(.protocolError("bye"))
            #expect(r44 == .tearDown(finalFlush: false))
            #expect(m.lingerCheck(unacknowledged: 0) == .stop)
        }

        @Test func graceExpiryClosesWithThePendingReason() {
            var m = openMachine()
            m.closingAfterFlush(.idleTimeout)
            #expect(m.idleTimer(from: 0, idleTimeout: .seconds(1)) == .keep)  // the grace deadline stays armed
            #expect(m.timerFired(now: 10 * Self.ms, idleTimeout: .seconds(1), handshakeTimeout: .seconds(1))
                    == .close(.idleTimeout))
            #expect(m.lingerInputFailed("reset") == .idleTimeout)
        }

        @Test func closeAfterBeforeOpenClosesAtOnce() {
            let m = Machine(phase: .handshaking, pausesReadingAboveHighWater: true, now: 0)
            #expect(m.closeAfterRequested() == .closeNow)
            let open = openMachine()
            #expect(open.lingerInputFailed("reset") == .ioError("reset"))
            #expect(open.outputEmptiedIsProceed)
        }

        // MARK: Idle timer

        @Test func idleTimerReportsAfterTheTimeoutAndRearmsFromTheLastRead() {
            var m = openMachine()
            #expect(m.idleTimer(from: 0, idleTimeout: nil) == .disarm)
            #expect(m.idleTimer(from: 5, idleTimeout: .seconds(1)) == .at(deadline: 5 + 1_000 * Self.ms, leeway: 50 * Self.ms))
            #expect(m.idleTimer(from: 0, idleTimeout: .milliseconds(4)) == .at(deadline: 4 * Self.ms, leeway: Self.ms))
            m.bytesRead(at: 300 * Self.ms)
            #expect(m.timerFired(now: 1_000 * Self.ms, idleTimeout: .seconds(1), handshakeTimeout: .seconds(5))
                    == .rearmIdle(from: 300 * Self.ms))
            #expect(m.timerFired(now: 1_300 * Self.ms, idleTimeout: .seconds(1), handshakeTimeout: .seconds(5))
                    == .reportIdle(idleFor: 1_000 * Self.ms))
            #expect(m.timerFired(now: 1_300 * Self.ms, idleTimeout: nil, handshakeTimeout: .seconds(5)) == .none)
            _ = m.closeRequested(.idleTimeout)
            #expect(m.timerFired(now: 9_000 * Self.ms, idleTimeout: .seconds(1), handshakeTimeout: .seconds(5)) == .none)
        }
    }
}

extension ConnectionStateMachine {
    /// Not closing: an emptied output carries on (checked on a copy).
    fileprivate var outputEmptiedIsProceed: Bool {
        var copy = self
        return copy.outputEmptied() == .proceed
    }
}
