import CoreMetrics
import HeraldNet
import Prometheus

/// Counters of rare events — configuration reloads and TLS handshake failures by reason — kept
/// with swift-metrics on this server's own Prometheus registry (not the process-wide
/// `MetricsSystem`, so servers in one test process stay apart). Busy paths never come here: the
/// per-message counts are read from the broker's atomics at scrape time (Server+Metrics.swift).
///
/// Contract: any thread. `count…` are called when the event happens (a reload, a connection's
/// close); `exposition` at scrape time.
public final class ServerEventMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let reloadsApplied: CoreMetrics.Counter
    private let reloadsRejected: CoreMetrics.Counter

    static let reloadsName = "herald_config_reloads_total"
    static let handshakeFailuresName = "herald_tls_handshake_failures_total"

    public init() {
        factory = PrometheusMetricsFactory(registry: registry)
        reloadsApplied = CoreMetrics.Counter(label: Self.reloadsName, dimensions: [("result", "applied")], factory: factory)
        reloadsRejected = CoreMetrics.Counter(label: Self.reloadsName, dimensions: [("result", "rejected")], factory: factory)
        // Present from the start (at 0), so a rate() over them works before the first failure.
        for reason in HandshakeFailureReason.allCases { _ = handshakeCounter(reason) }
    }

    /// A reload was applied, or rejected with the running configuration kept.
    public func countReload(applied: Bool) {
        (applied ? reloadsApplied : reloadsRejected).increment()
    }

    /// Counts `reason` when it is a TLS handshake failure; other close reasons are ignored.
    func countHandshakeFailure(_ reason: CloseReason) {
        let classified: HandshakeFailureReason
        switch reason {
        case .handshakeTimeout: classified = .timeout
        case .handshakeFailed(let text): classified = HandshakeFailureReason(openSSLText: text)
        default: return
        }
        handshakeCounter(classified).increment()
    }

    private func handshakeCounter(_ reason: HandshakeFailureReason) -> CoreMetrics.Counter {
        // The factory hands back the registry's existing counter for the same name and labels.
        CoreMetrics.Counter(label: Self.handshakeFailuresName, dimensions: [("reason", reason.rawValue)], factory: factory)
    }

    /// The registry's families in the text format.
    var exposition: String { registry.emitToString() }
}

/// Why a TLS handshake failed, in a fixed set of label values (OpenSSL's texts are many and a
/// scanner must not be able to mint label values).
enum HandshakeFailureReason: String, CaseIterable, Sendable {
    /// The peer spoke something other than TLS (plain HTTP, a port scanner).
    case notTLS = "not_tls"
    /// The client's certificate did not verify against the configured CA.
    case certificateVerifyFailed = "certificate_verify_failed"
    /// Mutual TLS is required and the client sent no certificate.
    case clientCertificateMissing = "client_certificate_missing"
    /// The client refused the server's certificate (it sent an alert: unknown CA, bad certificate).
    case peerRejectedCertificate = "peer_rejected_certificate"
    /// No TLS version or cipher in common.
    case protocolMismatch = "protocol_mismatch"
    /// The peer closed or reset the connection mid-handshake.
    case connectionClosed = "connection_closed"
    /// The handshake did not finish in `timeouts.handshake`.
    case timeout
    case other

    init(openSSLText text: String) {
        let lower = text.lowercased()
        func has(_ parts: String...) -> Bool { parts.contains { lower.contains($0) } }
        if has("wrong version number", "http request", "packet length too long", "unknown protocol", "record layer failure") {
            self = .notTLS
        } else if has("peer did not return a certificate", "certificate required") {
            self = .clientCertificateMissing
        } else if has("alert unknown ca", "alert bad certificate", "alert certificate", "alert decrypt") {
            self = .peerRejectedCertificate
        } else if has("certificate verify failed", "certificate:") {
            self = .certificateVerifyFailed
        } else if has("unsupported protocol", "no protocols available", "version too low", "no shared cipher", "inappropriate fallback") {
            self = .protocolMismatch
        } else if has("eof", "peer closed", "reset", "broken pipe") {
            self = .connectionClosed
        } else {
            self = .other
        }
    }
}
