// swift-tools-version: 6.1
import PackageDescription

// Layering (see docs/ARCHITECTURE.md): pure modules (HeraldCore, FilterPolicy, HeraldWire) do no I/O;
// HeraldNet is the only place with sockets, Dispatch sources and OpenSSL; HeraldBroker routes;
// HeraldConfig loads the configuration (files only: Core, FilterPolicy, Yams); HeraldServer composes
// them. HeraldTestSupport holds the helpers test targets share and ships in no product.
let package = Package(
    name: "Herald",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "herald", targets: ["herald"]),
        .library(name: "FilterPolicy", targets: ["FilterPolicy"]),
        .library(name: "HeraldClient", targets: ["HeraldClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // `herald bench load --latency` records into an HDR histogram (issue 12).
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CHeraldOpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(name: "HeraldCore"),
        // The validating JSON skipper's SIMD scan (C: intrinsics, no I/O), used by FilterPolicy only.
        .target(name: "CFilterScan"),
        .target(name: "FilterPolicy", dependencies: ["HeraldCore", "CFilterScan"]),
        .target(name: "HeraldWire", dependencies: ["HeraldCore"]),
        .target(name: "HeraldNet", dependencies: ["HeraldCore", "CHeraldOpenSSL"]),
        .target(name: "HeraldStore", dependencies: ["HeraldCore"]),
        .target(name: "HeraldBroker", dependencies: ["HeraldCore", "FilterPolicy", "HeraldStore"]),
        .target(name: "HeraldClient", dependencies: ["HeraldCore", "HeraldWire", "HeraldNet"]),
        // HTTP/1.1 server and client on HeraldNet (HeraldNet itself stays protocol-free).
        .target(name: "HeraldHTTP", dependencies: ["HeraldCore", "HeraldWire", "HeraldNet"]),
        .target(
            name: "HeraldConfig",
            dependencies: ["HeraldCore", "FilterPolicy", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "HeraldServer",
            dependencies: [
                "HeraldCore", "FilterPolicy", "HeraldWire", "HeraldNet", "HeraldStore", "HeraldBroker", "HeraldConfig", "HeraldHTTP",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // Operator logs (Logging/): sessions report connection events here. HeraldNet stays
                // logging-free: every failure it sees reaches the session as a `CloseReason`.
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "herald",
            dependencies: [
                "HeraldCore", "FilterPolicy", "HeraldWire", "HeraldNet", "HeraldConfig", "HeraldServer", "HeraldClient", "HeraldHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // Helpers the test targets share (paths, waiting, raw sockets, BlockingConnection); no product ships it.
        .target(name: "HeraldTestSupport", dependencies: ["HeraldNet", "HeraldStore", "HeraldWire", "HeraldHTTP"]),
        .testTarget(name: "HeraldCoreTests", dependencies: ["HeraldCore"]),
        .testTarget(
            name: "FilterPolicyTests",
            dependencies: ["FilterPolicy", "HeraldCore"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "HeraldWireTests", dependencies: ["HeraldWire", "HeraldCore"]),
        .testTarget(name: "HeraldClientTests", dependencies: ["HeraldClient", "HeraldWire", "HeraldNet", "HeraldCore", "HeraldTestSupport"]),
        .testTarget(name: "HeraldHTTPTests", dependencies: ["HeraldHTTP", "HeraldNet", "HeraldWire", "HeraldCore", "HeraldTestSupport"]),
        .testTarget(name: "HeraldNetTests", dependencies: ["HeraldNet", "HeraldCore", "HeraldTestSupport"]),
        .testTarget(name: "HeraldStoreTests", dependencies: ["HeraldStore", "HeraldCore", "HeraldTestSupport"]),
        .testTarget(name: "HeraldBrokerTests", dependencies: ["HeraldBroker", "HeraldStore", "FilterPolicy", "HeraldCore"]),
        .testTarget(name: "HeraldConfigTests", dependencies: ["HeraldConfig", "FilterPolicy", "HeraldCore", "HeraldTestSupport"]),
        .testTarget(
            name: "HeraldServerTests",
            dependencies: [
                "HeraldServer", "HeraldConfig", "HeraldBroker", "HeraldClient", "HeraldNet", "HeraldWire", "FilterPolicy", "HeraldCore",
                "HeraldStore", "HeraldTestSupport", "HeraldHTTP", .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
