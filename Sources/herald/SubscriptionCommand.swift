import ArgumentParser
import Foundation
import HeraldClient
import HeraldCore
import HeraldWire

/// `herald subscription …`: durable SNS subscriptions (topic → queue) made at run time.
struct SubscriptionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscription", abstract: "Manage topic subscriptions that deliver to queues or HTTP/S endpoints.",
        subcommands: [SubscriptionCreateCommand.self, SubscriptionListCommand.self, SubscriptionStatsCommand.self]
    )
}

/// `herald subscription create --topic T --queue Q [--filter-policy JSON|@file] [--scope …] [--raw]`:
/// prints the subscription ARN. `--endpoint URL` subscribes an HTTP/S endpoint instead: it answers
/// "pending confirmation" until the endpoint visits the SubscribeURL Herald POSTs to it.
struct SubscriptionCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Subscribe a queue or an HTTP/S endpoint to a topic (prints the subscription ARN).")

    @OptionGroup var connection: ConnectionArguments

    @Option(help: "Topic name.")
    var topic: String

    @Option(help: "Queue that receives the topic's messages.")
    var queue: String?

    @Option(help: "HTTP/S endpoint URL that receives the topic's messages as SNS POSTs them (user:password@ becomes Basic auth).")
    var endpoint: String?

    @Option(name: .customLong("delivery-policy"), help: "SNS DeliveryPolicy for an HTTP/S endpoint: JSON text, or @FILE.")
    var deliveryPolicy: String?

    @Option(name: .customLong("redrive-policy"), help: "SNS RedrivePolicy, e.g. '{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:dlq\"}'.")
    var redrivePolicy: String?

    @Option(name: .customLong("filter-policy"), help: "SNS filter policy: JSON text, or @FILE.")
    var filterPolicy: String?

    @Option(help: "Filter policy scope: MessageAttributes or MessageBody.")
    var scope: String?

    @Flag(help: "Raw message delivery: the queue gets the body alone, not the SNS JSON envelope.")
    var raw = false

    func validate() throws {
        if let scope, FilterScope(rawValue: scope) == nil {
            throw ValidationError("FilterPolicyScope: Invalid value [\(scope)]. Please use either MessageBody or MessageAttributes")
        }
        if queue == nil && endpoint == nil { throw ValidationError("give --queue or --endpoint") }
        if queue != nil && endpoint != nil { throw ValidationError("give one of --queue and --endpoint") }
    }

    func run() throws {
        let policy = try PolicyArgument.resolve(filterPolicy)
        if let endpoint {
            let delivery = try PolicyArgument.resolve(deliveryPolicy)
            let arn = try QueueCLI.run(connection, name: "herald-subscription") { client throws(ClientError) in
                try client.subscribe(
                    topic: topic, endpoint: endpoint, filterPolicy: policy, scope: scope.flatMap(FilterScope.init(rawValue:)), raw: raw,
                    deliveryPolicy: delivery, redrivePolicy: redrivePolicy)
            }
            Terminal.out(arn)
            return
        }
        guard let queue else { throw Terminal.fail("give --queue") }
        let arn = try QueueCLI.run(connection, name: "herald-subscription") { client throws(ClientError) in
            try client.subscribe(topic: topic, queue: queue, filterPolicy: policy, scope: scope.flatMap(FilterScope.init(rawValue:)), raw: raw)
        }
        Terminal.out(arn)
    }
}

/// `herald subscription stats ARN`: SNS's subscription attributes and, for an HTTP/S subscription
/// that is delivering, Herald's counters (Delivered, Retried, Failed, DeadLettered). A subscription
/// declared in the config file is named by `arn:aws:sns:REGION:ACCOUNT:TOPIC:NAME`.
struct SubscriptionStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Print a subscription's attributes and delivery counters.")

    @OptionGroup var connection: ConnectionArguments

    @Argument(help: "Subscription ARN (as create printed it, or TOPIC-ARN:NAME for a configured one).")
    var arn: String

    @Flag(help: "Print one JSON object instead of Key: value lines.")
    var json = false

    func run() throws {
        let attributes = try QueueCLI.run(connection, name: "herald-subscription") { client throws(ClientError) in
            try client.subscriptionAttributes(arn: arn)
        }
        Terminal.printAttributes(attributes, json: json)
    }
}

/// `herald subscription list [--topic T] [--format json|table]`: run-time subscriptions and the
/// configuration's (a stream one lists its name as the endpoint).
struct SubscriptionListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List subscriptions (of one topic with --topic).")

    @OptionGroup var connection: ConnectionArguments

    @Option(help: "Only the subscriptions of this topic.")
    var topic: String?

    @Option(help: "json: one {\"SubscriptionArn\",\"TopicArn\",\"Protocol\",\"Endpoint\"} object per line (for scripts); table: aligned columns (for people).")
    var format: OutputFormat = .json

    func run() throws {
        let list = try QueueCLI.run(connection, name: "herald-subscription") { client throws(ClientError) in
            try client.listSubscriptions(topic: topic)
        }
        Listing(
            columns: [
                .init(key: "SubscriptionArn", title: "SUBSCRIPTION ARN"), .init(key: "TopicArn", title: "TOPIC ARN"),
                .init(key: "Protocol", title: "PROTOCOL"), .init(key: "Endpoint", title: "ENDPOINT"),
            ],
            rows: list.map { [$0.subscriptionArn, $0.topicArn, $0.protocolName, $0.endpoint] }
        ).print(format)
    }
}
