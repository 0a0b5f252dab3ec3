// swift-tools-version: 6.1
// Benchmarks for Herald, kept out of the main package so it never pulls in the benchmark
// dependency. Run: `cd Benchmarks && swift package benchmark` (release build; not part of CI).
// ordo-one/benchmark needs tools 6.1 and the MallocInterposer trait here (the default trait pulls a
// package that is not mirrored).
import PackageDescription

let package = Package(
    name: "HeraldBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Herald", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "FilterEngineBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "FilterPolicy", package: "Herald"),
            ],
            path: "Benchmarks/FilterEngineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
