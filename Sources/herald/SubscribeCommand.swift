import ArgumentParser
import Dispatch
import Foundation
import HeraldClient
import HeraldWire
import Synchronization

/// `herald subscribe`: prints each delivered message as one JSON line
/// `{"id","topic","attributes","message"}`; acks after printing (at-least-once).
struct SubscribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "subscribe", abstract: "Subscribe to a topic and print messages as JSON lines.")

    @OptionGroup var connection: ConnectionArguments

    @Option(help: "Topic to subscribe to.")
    var topic: String

    @Option(name: .customLong("filter-policy"), help: "SNS filter policy: JSON text, or @FILE.")
    var filterPolicy: String?

    @Option(help: "Filter policy scope: MessageAttributes or MessageBody.")
    var scope: String = "MessageAttributes"

    @Option(help: "Attach to a subscription declared in the server's configuration (its filter policy applies, and follows reloads).")
    var subscription: String?

    @Option(help: "Exit after this many messages.")
    var count: Int?

    @Option(help: "Messages in flight (unacked) at most.")
    var credit: UInt32 = 1000

    func validate() throws {
        guard FilterScope(rawValue: scope) != nil else {
            throw ValidationError("FilterPolicyScope: Invalid value [\(scope)]. Please use either MessageBody or MessageAttributes")
        }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if subscription != nil && filterPolicy != nil {
            throw ValidationError("--subscription takes its filter policy from the server's configuration; drop --filter-policy")
        }
    }

    func run() throws {
        let policy = try PolicyArgument.resolve(filterPolicy)
        let client: HeraldClient
        do {
            client = try HeraldClient.connect(connection.clientOptions(name: "herald-subscribe"))
        } catch let error as ClientError {
            throw Terminal.fail("cannot connect: \(error)")
        }
        let finished = DispatchSemaphore(value: 0)
        let received = Atomic<Int>(0)
        let limit = count
        let closedReason = Mutex<String?>(nil)
        client.onClose { reason in
            closedReason.withLock { $0 = reason }
            finished.signal()
        }
        client.onError { error in Terminal.err("herald: server: \(error)") }
        do {
            _ = try client.subscribe(topic: topic, policy: policy, scope: FilterScope(rawValue: scope) ?? .messageAttributes, ackMode: .afterHandler, credit: credit, subscriptionName: subscription) { delivery in
                let n = received.add(1, ordering: .relaxed).newValue
                if let limit, n > limit { return }
                let body = String(decoding: delivery.body, as: UTF8.self)
                Terminal.out("{\"id\":\(JSONText.string(delivery.messageID.text)),\"topic\":\(JSONText.string(delivery.topic)),\"attributes\":\(JSONText.attributes(delivery.attributes)),\"message\":\(JSONText.string(body))}")
                if let limit, n == limit { finished.signal() }
            }
        } catch {
            throw Terminal.fail("subscribe failed: \(error)")
        }
        finished.wait()
        if let reason = closedReason.withLock({ $0 }), limit == nil || received.load(ordering: .relaxed) < (limit ?? 0) {
            throw Terminal.fail("connection closed: \(reason)")
        }
        // Let the last acks go out before closing.
        client.close()
        client.waitUntilClosed(timeout: .seconds(2))
    }
}
