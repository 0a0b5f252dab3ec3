// The I/O of Connection (its decisions are ConnectionStateMachine's): connect completion, TLS handshake, the read loop (SSL_read
// until WANT_READ, all chunks then one batch-done callback, then one coalesced flush) and the
// write path (partial writes until EAGAIN/WANT_WRITE), for TLS and plain TCP alike.
// ERR_clear_error() precedes every SSL call: the error queue is per thread and loops hop threads.
import CHeraldOpenSSL
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum ReadResult {
    case data(Int)
    case wouldBlock
    case wantWrite
    case eof
    case failed(String)
}

enum WriteResult {
    case wrote(Int)
    case wouldBlock
    case wantRead
    case failed(String)
}

extension Connection {
    func onReadable() {
        readEvents &+= 1
        switch machine.readable() {
        case .ignore: return
        case .finishConnect: finishConnect()
        case .driveHandshake: driveHandshake()
        case .discardInput: discardInput()
        case .read(let flushFirst):
            if flushFirst { flushPending() }
            readLoop()
        }
    }

    func onWritable() {
        writeEvents &+= 1
        switch machine.writable() {
        case .ignore: return
        case .finishConnect: finishConnect()
        case .driveHandshake: driveHandshake()
        case .flush(let readFirst):
            if readFirst { readLoop() }
            flushPending()
        }
        updateWriteSource()
    }

    func finishConnect() {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 { error = errno }
        guard error == 0 else {
            close(.connectFailed(ErrorText.errno(error)))
            return
        }
        switch machine.connected(usesTLS: ssl != nil) {
        case .driveHandshake: driveHandshake()
        case .open: becomeOpen()
        }
        updateReadSource()
        updateWriteSource()
    }

    func driveHandshake() {
        guard let ssl, state == .handshaking else { return }
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            becomeOpen()
            updateWriteSource()
            return
        }
        let code = SSL_get_error(ssl, rc)
        switch code {
        case SSL_ERROR_WANT_READ: machine.handshakeBlocked(wantsWrite: false)
        case SSL_ERROR_WANT_WRITE: machine.handshakeBlocked(wantsWrite: true)
        default:
            close(.handshakeFailed(describeFailure(ssl, code: code, during: "handshake")))
            return
        }
        updateWriteSource()
    }

    /// OpenSSL's reason for a failed call, with the certificate verification result when relevant.
    private func describeFailure(_ ssl: OpaquePointer, code: Int32, during phase: String) -> String {
        let savedErrno = errno
        var text = ErrorText.openSSL()
        let verify = SSL_get_verify_result(ssl)
        if verify != Int(X509_V_OK), let reason = X509_verify_cert_error_string(verify) {
            text += (text.isEmpty ? "" : "; ") + "certificate: " + String(cString: reason)
        }
        if text.isEmpty {
            switch code {
            case SSL_ERROR_SYSCALL:
                text = savedErrno != 0 ? ErrorText.errno(savedErrno) : "unexpected EOF during \(phase)"
            case SSL_ERROR_ZERO_RETURN: text = "peer closed during \(phase)"
            default: text = "SSL error \(code) during \(phase)"
            }
        }
        return text
    }

    /// Reads until the socket and SSL are drained (or the chunk budget is spent), delivering every
    /// chunk, then one batch-done callback, then one flush of everything written meanwhile.
    func readLoop() {
        guard machine.canRead else { return }
        let buffer = loop.readBuffer
        var delivered = false
        var ending: CloseReason?
        var chunks = 0
        reading: while machine.canRead {
            if chunks >= Connection.maxChunksPerReadEvent {
                scheduleReadDrain()
                break
            }
            switch ioRead(buffer) {
            case .data(let n):
                delivered = true
                chunks += 1
                handler?.connection(self, didRead: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                if machine.stopsReadingForOutput { break reading }
            case .wouldBlock: break reading
            case .wantWrite:
                machine.readBlockedOnWrite()
                break reading
            case .eof:
                ending = .peerClosed
                break reading
            case .failed(let reason):
                ending = .ioError(reason)
                break reading
            }
        }
        if delivered {
            machine.bytesRead(at: DispatchTime.now().uptimeNanoseconds)
            if state == .open { handler?.connectionDidFinishReadBatch(self) }
        }
        if state == .open { flushPending() }
        if let ending {
            close(ending)
            return
        }
        if state == .open {
            applyBackpressure()
            updateWriteSource()
        }
    }

    /// Writes pending output until done or the socket/TLS pushes back.
    func flushPending() {
        guard machine.canFlush, !output.isEmpty else { return }
        // More than one TLS record to write: cork the socket so the kernel sends full segments
        // instead of one per record (each segment costs a transmit and a wake-up of the reader).
        let corked = ssl != nil && output.count > Connection.maxTLSWriteLength
        if corked { Socket.setCork(fd, true) }
        var failure: String?
        writing: while !output.isEmpty {
            switch ioWrite(output.readable) {
            case .wrote(let n):
                output.consume(n)
                pendingTLSWriteLength = 0
            case .wouldBlock:
                notePendingTLSWrite()
                machine.outputBlocked(waitingFor: .writable)
                break writing
            case .wantRead:
                notePendingTLSWrite()
                machine.outputBlocked(waitingFor: .readable)
                break writing
            case .failed(let reason):
                failure = reason
                break writing
            }
        }
        // Uncorked before anything can close the descriptor: the last partial segment goes now.
        if corked { Socket.setCork(fd, false) }
        if let failure {
            close(.ioError(failure))
            return
        }
        if output.isEmpty {
            switch machine.outputEmptied() {
            case .proceed: break
            case .startLingering:
                linger()
                return
            case .stop: return
            }
        }
        output.shrinkIfEmpty()
        noteOutputDrained()
        updateWriteSource()
    }

    /// An SSL_write came back with WANT_WRITE/WANT_READ: remember the length it was given.
    private func notePendingTLSWrite() {
        if ssl != nil { pendingTLSWriteLength = Connection.tlsWriteLength(output.readable.count) }
    }

    /// After close(after:…): everything, the final bytes included, is with the kernel. Sends
    /// close_notify and FIN, then keeps the socket until the peer has acknowledged all of it
    /// (SIOCOUTQ empty), discarding what the peer still sends; the close deadline (the timer) bounds
    /// the wait. Closing at once would send RST whenever the peer's bytes sit unread in our receive
    /// queue (it sent CREDIT or PING while we no longer read), and RST discards our unsent data —
    /// the final ERR would be lost exactly when the peer is slow.
    /// Called once, when `machine.outputEmptied()` says `.startLingering`.
    func linger() {
        if let ssl {
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
            ERR_clear_error()
        }
        _ = shutdown(fd, Int32(SHUT_WR))
        updateReadSource()
        updateWriteSource()
        checkLinger()
    }

    private func checkLinger() {
        switch machine.lingerCheck(unacknowledged: kernelQueue(Connection.siocoutq)) {
        case .stop: return
        case .close(let reason): close(reason)
        case .checkAgain: schedule(after: .milliseconds(5)) { [self] in checkLinger() }
        }
    }

    /// While lingering: reads and drops raw input (nothing is decrypted any more).
    private func discardInput() {
        let buffer = loop.readBuffer
        guard let base = buffer.baseAddress else { return }
        for _ in 0..<Connection.maxChunksPerReadEvent {
            let n = recv(fd, base, buffer.count, Int32(MSG_DONTWAIT))
            if n > 0 { continue }
            if n == 0 {
                machine.peerEndedWhileLingering()  // EOF stays readable: stop watching
                updateReadSource()
                return
            }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return }
            close(machine.lingerInputFailed(ErrorText.errno(e)))  // reset: nothing more gets through
            return
        }
    }

    /// Best effort on close: one non-blocking pass over pending output, then close_notify / FIN.
    func finalFlush() {
        var attempts = 0
        while !output.isEmpty && attempts < 64 {
            attempts += 1
            guard case .wrote(let n) = ioWrite(output.readable) else { break }
            output.consume(n)
            pendingTLSWriteLength = 0
        }
        if let ssl {
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
            ERR_clear_error()
        } else {
            _ = shutdown(fd, Int32(SHUT_WR))
        }
    }

    func ioRead(_ buffer: UnsafeMutableRawBufferPointer) -> ReadResult {
        guard let base = buffer.baseAddress else { return .wouldBlock }
        if let ssl {
            ERR_clear_error()
            let n = SSL_read(ssl, base, Int32(buffer.count))
            if n > 0 { return .data(Int(n)) }
            let code = SSL_get_error(ssl, n)
            switch code {
            case SSL_ERROR_WANT_READ: return .wouldBlock
            case SSL_ERROR_WANT_WRITE: return .wantWrite
            case SSL_ERROR_ZERO_RETURN: return .eof
            case SSL_ERROR_SYSCALL:
                let e = errno
                let queued = ErrorText.openSSL()
                if !queued.isEmpty { return .failed(queued) }
                return e == 0 ? .eof : .failed(ErrorText.errno(e))
            default:
                return .failed(describeFailure(ssl, code: code, during: "read"))
            }
        }
        while true {
            let n = Glibc.read(fd, base, buffer.count)
            if n > 0 { return .data(n) }
            if n == 0 { return .eof }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
            return .failed(ErrorText.errno(e))
        }
    }

    /// Plaintext offered to one SSL_write: one TLS record's worth. With SSL_MODE_ENABLE_PARTIAL_WRITE
    /// OpenSSL returns after one record anyway, so this costs no extra calls; it bounds what a
    /// WANT_WRITE retry pins at the front of the output (see `pendingTLSWriteLength`). A pending
    /// retry offers the same bytes again, with a length that never shrinks.
    static let maxTLSWriteLength = 16 << 10

    static func tlsWriteLength(_ available: Int) -> Int { min(available, maxTLSWriteLength) }

    func ioWrite(_ bytes: UnsafeRawBufferPointer) -> WriteResult {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .wrote(0) }
        if let ssl {
            let length = Connection.tlsWriteLength(bytes.count)
            ERR_clear_error()
            let n = SSL_write(ssl, base, Int32(length))
            if n > 0 { return .wrote(Int(n)) }
            let code = SSL_get_error(ssl, n)
            switch code {
            case SSL_ERROR_WANT_WRITE: return .wouldBlock
            case SSL_ERROR_WANT_READ: return .wantRead
            case SSL_ERROR_SYSCALL:
                let e = errno
                let queued = ErrorText.openSSL()
                if !queued.isEmpty { return .failed(queued) }
                return .failed(e == 0 ? "connection closed during write" : ErrorText.errno(e))
            default:
                return .failed(describeFailure(ssl, code: code, during: "write"))
            }
        }
        let length = min(bytes.count, 1 << 30)
        while true {
            let n = send(fd, base, length, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .wrote(n) }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
            return .failed(ErrorText.errno(e))
        }
    }
}
