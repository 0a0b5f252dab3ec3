import Dispatch

/// The broker's default clock, the only clock it knows: the system's monotonic uptime in
/// nanoseconds (the origin `HeraldServer` uses for `now` too). Injected through `Broker.init`,
/// so the logic that uses it stays testable with a fake clock.
public enum BrokerClock {
    @Sendable public static func uptimeNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
