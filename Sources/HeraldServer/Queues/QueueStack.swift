import Dispatch
import Foundation
import HeraldBroker
import HeraldConfig
import HeraldCore
import HeraldNet
import HeraldStore

/// The durable part of a server, composed once at start: the journal (or, without a data
/// directory, an in-memory store), the queue manager on it, and the queue API front ends call.
struct QueueStack: Sendable {
    let store: any LogStore & MetaStore
    /// Held while the server runs: one server per data directory.
    let lock: DirectoryLock?
    let manager: QueueManager
    let api: QueueAPI
    /// Signs SNS envelopes; its certificate is what `SigningCertURL` serves.
    let signer: MessageSigner
    /// HTTP/S subscriptions: their pumps and confirmation handshake.
    let endpoints: HTTPEndpoints
    /// One line for the log: what recovery found.
    let recoveryLine: String

    /// Opens the store in `config.dataDir` (nil: memory, nothing survives a restart), recovers the
    /// queues and run-time subscriptions, and declares the configured queues.
    static func open(
        config: HeraldConfig, broker: Broker, repair: Bool, files: any JournalFileSystem = PosixFileSystem(), baseURL: String? = nil,
        log: @escaping @Sendable (String) -> Void
    ) throws(ServerError) -> QueueStack {
        var identity = QueueIdentity(region: config.aws.region, account: config.aws.account)
        if let baseURL { identity.baseURL = baseURL }
        let store: any LogStore & MetaStore
        var signingDirectory: String
        /// Without a data directory the key is made in a temporary directory, loaded, and the directory removed.
        var temporarySigningDirectory = false
        var lines: [String] = []
        var lock: DirectoryLock?
        if let dataDir = config.dataDir {
            do {
                try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            } catch {
                throw ServerError("data directory \(dataDir): \(error.localizedDescription)")
            }
            do {
                lock = try DirectoryLock(directory: dataDir)
            } catch {
                throw ServerError("data directory \(dataDir): \(error)")
            }
            let journal: LocalJournal
            do {
                journal = try LocalJournal(directory: dataDir + "/journal", fsync: fsyncPolicy(config.durability.fsync), files: files, repair: repair)
            } catch {
                throw ServerError("journal in \(dataDir)/journal: \(error)" + (repair ? "" : " (start with --repair to drop damaged records and go on)"))
            }
            lines.append("journal \(dataDir)/journal: \(journal.recovery)")
            store = journal
            signingDirectory = dataDir
        } else {
            store = MemoryLogStore()
            signingDirectory = NSTemporaryDirectory() + "herald-signing-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            temporarySigningDirectory = true
            lines.append("no dataDir: queues are held in memory and lost on restart")
        }
        let signer: MessageSigner
        do {
            if let signing = config.signing {
                signer = try MessageSigner(keyPEMFile: signing.keyFile, certificatePEMFile: signing.certificateFile)
            } else {
                signer = try MessageSigner.loadOrCreate(directory: signingDirectory)
            }
        } catch {
            throw ServerError("SNS signing key: \(error)")
        }
        if temporarySigningDirectory { try? FileManager.default.removeItem(atPath: signingDirectory) }
        let renderer = EnvelopeRenderer(
            signer: signer, version: SNSEnvelope.SignatureVersion(rawValue: config.signatureVersion) ?? .v1, identity: identity,
            signingCertURL: "\(identity.baseURL)/SimpleNotificationService-herald.pem")
        let manager = QueueManager(
            store: store, renderer: renderer, identity: identity,
            clock: { Int64(Date().timeIntervalSince1970 * 1000) }, contentHash: SHA256.hex)
        let started = DispatchTime.now().uptimeNanoseconds
        let report: QueueRecoveryReport
        do {
            report = try manager.open()
        } catch {
            throw ServerError("queue recovery: \(error)")
        }
        let millis = (DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
        lines.append("queues recovered in \(millis) ms: \(report)")
        try declare(config.queues, in: manager, identity: identity)
        try declareSubscriptionQueues(config.subscriptions, in: manager)
        let endpoints = try HTTPEndpoints(
            manager: manager, broker: broker, meta: store, renderer: renderer, delivery: config.httpDelivery, log: log,
            clock: { Int64(Date().timeIntervalSince1970 * 1000) })
        try endpoints.declareQueues(config.subscriptions)
        let api = QueueAPI(manager: manager, broker: broker, meta: store, identity: identity, md5: SQSDigest.md5Hex, endpoints: endpoints)
        for line in lines { log(line) }
        return QueueStack(
            store: store, lock: lock, manager: manager, api: api, signer: signer, endpoints: endpoints, recoveryLine: lines.joined(separator: "; "))
    }

    /// Makes the configured queues exist with their configured attributes (dead-letter queues
    /// first). Queues that left the configuration are kept: deleting data is an explicit act.
    static func declare(_ queues: [HeraldConfig.Queue], in manager: QueueManager, identity: QueueIdentity) throws(ServerError) {
        let ordered = queues.filter { $0.deadLetter == nil } + queues.filter { $0.deadLetter != nil }
        for queue in ordered {
            let attributes = queueAttributes(queue, identity: identity)
            let result = wait { done in
                if manager.summary(queue.name) == nil {
                    manager.createQueue(queue.name, attributes: attributes, reply: done)
                } else {
                    manager.setAttributes(queue.name, attributes, reply: done)
                }
            }
            if case .failure(let error) = result { throw ServerError("queue \(queue.name): \(error.message)") }
        }
    }

    /// Every stream subscription declared in the configuration is durable: its messages wait in a
    /// queue of its own while no client is attached, for its `retention` (SQS's 60 s–14 days).
    static func declareSubscriptionQueues(_ subscriptions: [HeraldConfig.Subscription], in manager: QueueManager) throws(ServerError) {
        for subscription in subscriptions where subscription.protocol == .stream {
            var attributes = QueueAttributes(fifo: false)
            attributes.visibilityTimeout = DurableSubscriptionPump.ackTimeout
            let retention = Int(subscription.retention?.components.seconds ?? 86_400)
            attributes.messageRetentionPeriod = min(max(retention, 60), 1_209_600)
            let name = NamedSubscription.queueName(subscription.name)
            let result = wait { done in
                if manager.summary(name) == nil {
                    manager.createQueue(name, attributes: attributes, validatingName: false, reply: done)
                } else {
                    manager.setAttributes(name, attributes, reply: done)
                }
            }
            if case .failure(let error) = result { throw ServerError("subscription \(subscription.name): \(error.message)") }
        }
    }

    static func queueAttributes(_ queue: HeraldConfig.Queue, identity: QueueIdentity) -> QueueAttributes {
        var attributes = QueueAttributes(fifo: queue.isFIFO)
        attributes.visibilityTimeout = queue.visibilityTimeoutSeconds
        attributes.messageRetentionPeriod = queue.retentionSeconds
        attributes.delaySeconds = queue.delaySeconds
        attributes.receiveMessageWaitTimeSeconds = queue.receiveWaitTimeSeconds
        attributes.maximumMessageSize = queue.maxMessageSize
        attributes.contentBasedDeduplication = queue.contentBasedDeduplication
        attributes.redrivePolicy = queue.deadLetter.map {
            RedrivePolicy(deadLetterTargetQueue: $0.queue, deadLetterTargetArn: identity.queueARN($0.queue), maxReceiveCount: $0.maxReceiveCount)
        }
        return attributes
    }

    static func fsyncPolicy(_ setting: HeraldConfig.FsyncSetting) -> FsyncPolicy {
        switch setting {
        case .always: return .always
        case .never: return .never
        case .interval(let period): return .interval(period)
        }
    }

    /// Runs an asynchronous manager call and waits for its reply (start-up and reload only: never
    /// on the manager's callback queue, which the reply needs).
    static func wait(_ call: (@escaping @Sendable (Result<Void, HeraldError>) -> Void) -> Void) -> Result<Void, HeraldError> {
        let semaphore = DispatchSemaphore(value: 0)
        let box = ResultBox()
        call { result in
            box.set(result)
            semaphore.signal()
        }
        semaphore.wait()
        return box.get()
    }
}

private final class ResultBox: @unchecked Sendable {
    private var result: Result<Void, HeraldError> = .success(())
    private let lock = NSLock()
    func set(_ value: Result<Void, HeraldError>) { lock.withLock { result = value } }
    func get() -> Result<Void, HeraldError> { lock.withLock { result } }
}
