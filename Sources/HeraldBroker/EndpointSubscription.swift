import HeraldCore

/// A configuration-declared subscription. Immutable: a reload that changes it installs a new one.
final class EndpointSubscription: DeliveryTarget {
    let name: String
    let endpoint: any MessageEndpoint

    init(name: String, endpoint: any MessageEndpoint) {
        self.name = name
        self.endpoint = endpoint
    }

    func accept(_ slice: DeliverySlice, effects: inout DeliveryEffects) -> DeliveryReceipt {
        var messages: [Message] = []
        slice.forEach { messages.append(slice.messages[$0.message]) }
        effects.endpointDeliveries += messages.count
        return endpoint.deliver(messages)
    }
}
