import ArgumentParser
import Dispatch
import Foundation
import HeraldClient
import HeraldCore
import Synchronization

/// `herald publish`: publishes one message (--message) or one per stdin line (--lines) and prints
/// each message id the server confirmed, in order.
struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "publish", abstract: "Publish messages to a topic.")

    @OptionGroup var connection: ConnectionArguments

    @Option(help: "Topic to publish to.")
    var topic: String

    @Option(name: .customLong("attribute"), help: "Message attribute NAME=TYPE:VALUE (String, Number, String.Array as JSON, Binary as base64). Repeatable.")
    var attributes: [AttributeArgument] = []

    @Option(help: "The message body.")
    var message: String?

    @Flag(help: "Publish each line of standard input as one message.")
    var lines = false

    @Option(help: "FIFO message group id.")
    var groupId: String?

    @Option(help: "FIFO deduplication id.")
    var deduplicationId: String?

    func validate() throws {
        if (message == nil) == !lines { throw ValidationError("give exactly one of --message TEXT or --lines") }
    }

    func run() throws {
        var attributeMap: MessageAttributes = [:]
        for attribute in attributes {
            guard attributeMap.updateValue(attribute.value, forKey: attribute.name) == nil else {
                throw Terminal.fail("attribute \(attribute.name) given twice")
            }
        }
        let client = try connection.connect(name: "herald-publish")
        defer { client.close() }
        if let message {
            do {
                let id = try client.publish(topic: topic, attributes: attributeMap, body: Array(message.utf8), groupID: groupId, deduplicationID: deduplicationId)
                Terminal.out(id.text)
            } catch {
                throw Terminal.fail("publish failed: \(error)")
            }
            return
        }
        try publishLines(client, attributes: attributeMap)
    }

    /// Pipelines stdin lines with at most `window` unconfirmed; ids print in publish order.
    private func publishLines(_ client: HeraldClient, attributes: MessageAttributes) throws {
        let window = DispatchSemaphore(value: 1000)
        let done = DispatchGroup()
        let failures = Atomic<Int>(0)
        while let line = readLine(strippingNewline: true) {
            window.wait()
            done.enter()
            client.publish(topic: topic, attributes: attributes, body: Array(line.utf8), groupID: groupId, deduplicationID: deduplicationId) { result in
                switch result {
                case .success(let id): Terminal.out(id.text)
                case .failure(let error):
                    failures.add(1, ordering: .relaxed)
                    Terminal.err("herald: publish failed: \(error)")
                }
                window.signal()
                done.leave()
            }
        }
        done.wait()
        let failed = failures.load(ordering: .relaxed)
        if failed > 0 { throw Terminal.fail("\(failed) message(s) were not accepted") }
    }
}
