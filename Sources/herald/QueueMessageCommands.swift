import ArgumentParser
import Foundation
import HeraldClient
import HeraldCore

/// `herald queue send --queue Q [--attribute …] [--group G] [--dedup D] [--delay S] BODY|-`: prints the message id.
struct QueueSendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "send", abstract: "Send one message to a queue (prints its id).")

    @OptionGroup var connection: ConnectionArguments

    @Option(help: "Queue name.")
    var queue: String

    @Option(name: .customLong("attribute"), help: "Message attribute NAME=TYPE:VALUE (String, Number, Binary as base64). Repeatable.")
    var attributes: [AttributeArgument] = []

    @Option(help: "FIFO message group id.")
    var group: String?

    @Option(help: "FIFO deduplication id.")
    var dedup: String?

    @Option(help: "Delay before the message is visible: seconds or 5m (0-900 s).")
    var delay: DurationArgument?

    @Argument(help: "The message body (text), or - to read it from standard input.")
    var body: String

    func validate() throws {
        if let delay, !(0...900).contains(delay.seconds) { throw ValidationError("--delay must be 0-900 seconds, got \(delay.seconds)") }
    }

    func run() throws {
        var attributeMap: MessageAttributes = [:]
        for attribute in attributes {
            guard attributeMap.updateValue(attribute.value, forKey: attribute.name) == nil else {
                throw Terminal.fail("attribute \(attribute.name) given twice")
            }
        }
        var text = body
        if body == "-" {
            guard let stdin = String(data: FileHandle.standardInput.readDataToEndOfFile(), encoding: .utf8) else {
                throw Terminal.fail("the message body on standard input is not UTF-8 text")
            }
            text = stdin
        }
        let sent = try QueueCLI.run(connection, name: "herald-queue") { client throws(ClientError) in
            try client.send(queue: queue, body: text, attributes: attributeMap, delaySeconds: delay?.seconds, groupID: group, deduplicationID: dedup)
        }
        Terminal.out(sent.messageID)
    }
}

/// `herald queue receive --queue Q [--wait 20] [--max 10] [--visibility 30] [--delete]`: one JSON
/// line per message `{"id","receiptHandle","receiveCount","attributes","messageAttributes","body"}`.
struct QueueReceiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "receive", abstract: "Receive messages from a queue and print them as JSON lines.")

    @OptionGroup var connection: ConnectionArguments

    @Option(help: "Queue name.")
    var queue: String

    @Option(help: "Long-poll up to this many seconds for a message (0-20).")
    var wait: Int = 20

    @Option(help: "At most this many messages (1-10).")
    var max: Int = 10

    @Option(help: "Hide the received messages from other consumers this long: seconds or 5m (default: the queue's).")
    var visibility: DurationArgument?

    @Flag(help: "Delete each message after printing it.")
    var delete = false

    func validate() throws {
        guard (0...20).contains(wait) else { throw ValidationError("--wait must be 0-20 seconds, got \(wait)") }
        guard (1...10).contains(max) else { throw ValidationError("--max must be 1-10, got \(max)") }
        if let visibility, !(0...43_200).contains(visibility.seconds) {
            throw ValidationError("--visibility must be 0-43200 seconds, got \(visibility.seconds)")
        }
    }

    func run() throws {
        try QueueCLI.run(connection, name: "herald-queue") { client throws(ClientError) in
            let messages = try client.receive(queue: queue, max: max, wait: wait, visibility: visibility?.seconds)
            for message in messages {
                Terminal.out(Self.line(message))
                if delete { try client.deleteMessage(queue: queue, receiptHandle: message.receiptHandle) }
            }
        }
    }

    static func line(_ message: ReceivedMessage) -> String {
        let system = JSONValue.object(message.attributes.keys.sorted().map { .init(key: $0, value: .string(message.attributes[$0] ?? "")) })
        return "{\"id\":\(JSONText.string(message.messageID)),\"receiptHandle\":\(JSONText.string(message.receiptHandle))"
            + ",\"receiveCount\":\(message.receiveCount),\"attributes\":\(system.text)"
            + ",\"messageAttributes\":\(JSONText.attributes(message.messageAttributes)),\"body\":\(JSONText.string(message.bodyText))}"
    }
}

struct QueueDeleteMessageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete-message", abstract: "Delete a received message by its receipt handle.")

    @OptionGroup var connection: ConnectionArguments

    @Option(help: "Queue name.")
    var queue: String

    @Argument(help: "The receipt handle from `herald queue receive`.")
    var receiptHandle: String

    func run() throws {
        try QueueCLI.run(connection, name: "herald-queue") { client throws(ClientError) in
            try client.deleteMessage(queue: queue, receiptHandle: receiptHandle)
        }
    }
}
