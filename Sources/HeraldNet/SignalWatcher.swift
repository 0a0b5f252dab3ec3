// Turns a Unix signal into a callback on a Dispatch queue (SIGHUP reload, SIGTERM/SIGINT stop).
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Watches one signal. The signal's default action is disabled first (Dispatch signal sources only
/// observe), and the source lives until `cancel()`.
public final class SignalWatcher: @unchecked Sendable {
    private let source: DispatchSourceSignal

    public init(signal number: Int32, queue: DispatchQueue = DispatchQueue(label: "herald.signal"), handler: @escaping @Sendable () -> Void) {
        signal(number, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: number, queue: queue)
        source.setEventHandler(handler: handler)
        source.activate()
    }

    public func cancel() { source.cancel() }
}
