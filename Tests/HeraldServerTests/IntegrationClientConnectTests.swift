// HeraldClient.connect under CPU contention: CONNOK must never be lost.
import Foundation
import HeraldClient
import Synchronization
import Testing
@testable import HeraldServer

extension Integration {
    @Suite struct ClientConnect {
        /// CONNOK can arrive before `Connection.connect` returns to the caller (a preempted caller
        /// thread): the client's waiter is in place before connecting, so no connect is lost.
        @Test func connectNeverLosesCONNOKWhenTheCallerIsPreempted() throws {
            let server = try TestServer()
            defer { server.stop() }
            let stop = Atomic<Bool>(false)
            for _ in 0..<4 {
                Thread.detachNewThread {
                    var spin = 0
                    while !stop.load(ordering: .relaxed) { spin &+= 1 }
                }
            }
            defer { stop.store(true, ordering: .relaxed) }
            var connected = 0
            var lost = 0
            let until = ContinuousClock.now + .seconds(2)
            while ContinuousClock.now < until {
                var options = server.options()
                options.connectTimeout = .milliseconds(700)
                do {
                    let client = try HeraldClient.connect(options)
                    client.close()
                    connected += 1
                } catch {
                    if error.code == "Timeout" { lost += 1 }
                }
            }
            let lostCount = lost
            let attempts = connected + lost
            #expect(connected > 0)
            #expect(lostCount == 0, "\(lostCount) of \(attempts) connects timed out waiting for CONNOK")
        }
    }
}
