import ArgumentParser
import Dispatch
import Foundation
import HeraldClient
import HeraldWire
import Synchronization

/// `herald subscribe`: prints each delivered message as one JSON line
/// `{"id","topic","attributes","message"}` on stdout, and one line on stderr once the
/// subscription is live (SUBOK): `subscribed to T (sid N, session S); resume with --session S`.
struct SubscribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe", abstract: "Subscribe to a topic and print messages as JSON lines.",
        discussion: """
            Once the server confirmed the subscription, one line goes to standard error: \
            `subscribed to TOPIC (sid N, session ID); resume with --session ID` (with --ack-mode auto: \
            `…; --ack-mode auto keeps nothing to resume`). Messages published \
            after that line reach this subscriber: a script that starts `herald subscribe … &` waits \
            for it before publishing.
            """)

    @OptionGroup var connection: ConnectionArguments

    @Option(help: "Topic to subscribe to (with --from-config-subscription: looked up when left out).")
    var topic: String?

    @Option(name: .customLong("filter-policy"), help: "SNS filter policy: JSON text, or @FILE.")
    var filterPolicy: String?

    @Option(help: "Filter policy scope: MessageAttributes or MessageBody.")
    var scope: String = "MessageAttributes"

    @Option(
        name: .customLong("from-config-subscription"), help: ArgumentHelp(
            "Attach to a subscription declared in the server's configuration (its filter policy applies and follows reloads; it keeps messages while no client is attached).",
            valueName: "name"))
    var configSubscription: String?

    @Option(name: .customLong("subscription"), help: .hidden)
    var legacySubscription: String?

    @Option(
        name: .customLong("ack-mode"),
        help: ArgumentHelp(
            "ack: at-least-once, each message is acked after it is printed; one not acked (the subscriber died) is delivered again on resume or, for a configuration subscription, to the next client. auto: at-most-once, the server forgets a message once it is sent; faster, but a message in flight when the subscriber dies is lost.",
            valueName: "auto|ack"))
    var ackMode: SubscribeAckMode = .ack

    @Option(help: "Exit after this many messages.")
    var count: Int?

    @Option(help: "Messages in flight (unacked) at most.")
    var credit: UInt32 = 1000

    /// `--from-config-subscription`, or the older `--subscription` spelling.
    var subscriptionName: String? { configSubscription ?? legacySubscription }

    func validate() throws {
        guard FilterScope(rawValue: scope) != nil else {
            throw ValidationError("FilterPolicyScope: Invalid value [\(scope)]. Please use either MessageBody or MessageAttributes")
        }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if configSubscription != nil && legacySubscription != nil {
            throw ValidationError("give --from-config-subscription once (--subscription is its older name)")
        }
        if subscriptionName != nil && filterPolicy != nil {
            throw ValidationError("--from-config-subscription takes its filter policy from the server's configuration; drop --filter-policy")
        }
        if topic == nil && subscriptionName == nil { throw ValidationError("give --topic, or --from-config-subscription") }
    }

    func run() throws {
        let policy = try PolicyArgument.resolve(filterPolicy)
        let client = try connection.connect(name: "herald-subscribe")
        let topic = try self.topic ?? configuredTopic(client)
        let finished = DispatchSemaphore(value: 0)
        let received = Atomic<Int>(0)
        let limit = count
        let closedReason = Mutex<String?>(nil)
        client.onClose { reason in
            closedReason.withLock { $0 = reason }
            finished.signal()
        }
        client.onError { error in Terminal.err("herald: server: \(error)") }
        let sid: UInt64
        do {
            sid = try client.subscribe(topic: topic, policy: policy, scope: FilterScope(rawValue: scope) ?? .messageAttributes, ackMode: ackMode.clientMode, credit: credit, subscriptionName: subscriptionName) { delivery in
                let n = received.add(1, ordering: .relaxed).newValue
                if let limit, n > limit { return }
                let body = String(decoding: delivery.body, as: UTF8.self)
                Terminal.out("{\"id\":\(JSONText.string(delivery.messageID.text)),\"topic\":\(JSONText.string(delivery.topic)),\"attributes\":\(JSONText.attributes(delivery.attributes)),\"message\":\(JSONText.string(body))}")
                if let limit, n == limit { finished.signal() }
            }
        } catch {
            throw Terminal.fail("subscribe failed: \(error)")
        }
        Terminal.err(Self.liveLine(topic: topic, sid: sid, session: client.session, ackMode: ackMode))
        finished.wait()
        if let reason = closedReason.withLock({ $0 }), limit == nil || received.load(ordering: .relaxed) < (limit ?? 0) {
            throw Terminal.fail("connection closed: \(reason)")
        }
        // Let the last acks go out before closing.
        client.close()
        client.waitUntilClosed(timeout: .seconds(2))
    }

    /// The line scripts wait for: the subscription is live (SUBOK came), and how to resume it. The
    /// server keeps a session after a disconnect only for its ack-mode subscriptions (docs/PROTOCOL.md
    /// §6.4), so an auto-mode one says there is nothing to resume.
    static func liveLine(topic: String, sid: UInt64, session: String, ackMode: SubscribeAckMode) -> String {
        let head = "subscribed to \(topic) (sid \(sid), session \(session)); "
        switch ackMode {
        case .ack: return head + "resume with --session \(session)"
        case .auto: return head + "--ack-mode auto keeps nothing to resume"
        }
    }

    /// The topic of configuration subscription `subscriptionName`, from ListSubscriptions (the
    /// server lists a stream subscription with its name as the endpoint).
    private func configuredTopic(_ client: HeraldClient) throws -> String {
        guard let name = subscriptionName else { throw Terminal.fail("give --topic") }
        let all: [SubscriptionSummary]
        do {
            all = try client.listSubscriptions()
        } catch {
            throw Terminal.fail("cannot look up the topic of \(name) (give --topic): \(error)")
        }
        guard let found = all.first(where: { $0.protocolName == "stream" && $0.endpoint == name }),
            let topic = found.topicArn.split(separator: ":").last
        else {
            throw Terminal.fail("the server's configuration declares no stream subscription named \(name)")
        }
        return String(topic)
    }
}

/// `--ack-mode`: the protocol's two SUB ack modes (docs/PROTOCOL.md, SUB).
enum SubscribeAckMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    case auto
    case ack

    var clientMode: ClientAckMode { self == .auto ? .auto : .afterHandler }
}
