// swift-tools-version:6.0
import PackageDescription

// Module graph (docs/architecture.md, "Modules"): dependencies point inward, the transport
// knows no domain, services never import each other, only UV imports CLibUV and only
// PostgresStore imports CLibPQ. Tests/e2e/test_module_graph.py enforces it.
// Release builds specialize generics across modules: the CQRS runtime is generic over each
// service's decider and projections, and specializing them is worth a measurable share of
// command throughput (bench/REPORT.md, History).
// Release builds drop the runtime's exclusivity checks too. Swift checks at run time every
// access to a class's stored property, a global or an escaping closure's capture: ~45
// `swift_beginAccess` a request on the connection's and parser's state were 10 % of a small
// read's instructions (bench/REPORT.md, History), and on the command path, through the CQRS
// runtime, the store and the services, they were 5.6 % of a command's instructions
// (`swift_beginAccess`, `AccessSet::insert` and the thread-local lookups they make). Debug
// builds keep them, and so do the tests and the fuzzers, which build in the debug
// configuration: an overlapping access still traps wherever the code is exercised.
let releaseSettings: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"],
                                                .when(configuration: .release))]

let package = Package(
    name: "Tributary",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tributary", targets: ["tributary"]),
        // For the fuzz package (Fuzz/Package.swift), which builds its targets on these.
        .library(name: "TributaryHTTP", targets: ["HTTP"]),
        .library(name: "TributaryAPI", targets: ["API"]),
        .library(name: "TributaryDomain", targets: ["JSON", "CQRS", "Customers", "Orders"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The Swift server ecosystem's logging API: an embedding program routes our lines.
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        // A persistent hash trie (TreeDictionary) for the read models that are snapshotted
        // (CQRS's ReadModelDictionary).
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibUV",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        .target(name: "UV", dependencies: ["CLibUV"], swiftSettings: releaseSettings),
        // JSON: the strict decoder, the sorted encoder, hand-written readers, JSONValue. No dependencies.
        .target(name: "JSON", swiftSettings: releaseSettings),
        // A Prometheus registry (counters, gauges, histograms, text exposition). No dependencies.
        .target(name: "Metrics", swiftSettings: releaseSettings),
        .target(name: "HTTP", dependencies: ["UV", "JSON", "Metrics"], swiftSettings: releaseSettings),
        // CRC-32C with the CPU's instruction (record checksums are checked on every read).
        .target(name: "CCRC32C"),
        // SHA-256 with the CPU's SHA extensions (the log's hash chain hashes every record).
        .target(name: "CSHA256"),
        .target(name: "EventStore", dependencies: ["CCRC32C", "CSHA256"], swiftSettings: releaseSettings),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // The PostgreSQL engine: libpq driven from the libuv loop. The only importer of CLibPQ.
        .target(name: "PostgresStore", dependencies: ["CLibPQ", "EventStore", "UV"], swiftSettings: releaseSettings),
        .target(name: "CQRS", dependencies: ["EventStore", "JSON", .product(name: "HashTreeCollections", package: "swift-collections")],
                swiftSettings: releaseSettings),
        // The public-event contract: the only thing the services share.
        .target(name: "PublicEvents", dependencies: ["JSON"], swiftSettings: releaseSettings),
        .target(name: "Customers", dependencies: ["CQRS", "EventStore", "PublicEvents", "JSON"], swiftSettings: releaseSettings),
        .target(name: "Orders", dependencies: ["CQRS", "EventStore", "PublicEvents", "JSON"], swiftSettings: releaseSettings),
        // The HTTP API over any service's declared API: endpoints, route groups, auth, error mapping.
        .target(name: "API", dependencies: ["HTTP", "EventStore", "CQRS", "JSON", "Metrics", .product(name: "Logging", package: "swift-log")], swiftSettings: releaseSettings),
        // Server-sent events: the public log and the services' live views as event streams.
        .target(name: "LiveFeeds", dependencies: ["UV", "HTTP", "EventStore", "CQRS", "JSON", "Metrics", "API"], swiftSettings: releaseSettings),
        // The composition root: configuration, stores, services, listeners.
        .target(name: "App", dependencies: ["UV", "HTTP", "EventStore", "PostgresStore", "CQRS", "Customers", "Orders", "JSON", "Metrics", "API", "LiveFeeds",
                                           .product(name: "Logging", package: "swift-log")],
                swiftSettings: releaseSettings),
        .executableTarget(
            name: "tributary",
            dependencies: ["App", "API", "LiveFeeds", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: releaseSettings
        ),
        // Helper binary for scripts/crash-test and scripts/bench store (not shipped).
        .executableTarget(
            name: "tributary-store-tool",
            dependencies: ["EventStore", "PostgresStore", "UV", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/StoreTool"
        ),
        // The open-model load generator of scripts/bench open-model (not shipped).
        .executableTarget(
            name: "tributary-load",
            dependencies: ["UV", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/LoadGen",
            swiftSettings: releaseSettings
        ),
        // What tests share: loop stand-ins, clocks, schedulers, decider scenarios, reader checks.
        .target(name: "TributaryTesting", dependencies: ["UV", "EventStore", "CQRS", "JSON"]),
        .testTarget(name: "UVTests", dependencies: ["UV"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON", "TributaryTesting"]),
        .testTarget(name: "PublicEventsTests", dependencies: ["PublicEvents", "JSON", "TributaryTesting"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "UV", "JSON", "Metrics"]),
        .testTarget(name: "EventStoreTests", dependencies: ["EventStore", "TributaryTesting"]),
        .testTarget(name: "PostgresStoreTests", dependencies: ["PostgresStore", "EventStore", "UV", "TributaryTesting"]),
        .testTarget(name: "CQRSTests", dependencies: ["CQRS", "EventStore", "JSON", "TributaryTesting"]),
        .testTarget(name: "CustomersTests", dependencies: ["Customers", "CQRS", "EventStore", "PublicEvents", "JSON", "TributaryTesting"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "OrdersTests", dependencies: ["Orders", "CQRS", "EventStore", "PublicEvents", "JSON", "TributaryTesting"]),
        .testTarget(name: "APITests", dependencies: ["API", "HTTP", "UV", "CQRS", "EventStore", "JSON", "Metrics", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "AppTests", dependencies: ["App", "API", "LiveFeeds", "HTTP", "UV", "EventStore", "JSON", .product(name: "Logging", package: "swift-log")]),
    ],
    // Callback-driven libuv code and a dedicated writer thread do not fit Swift 6's
    // strict-sendability model without wrapping every handle; the loop-confinement
    // rules (docs/architecture.md, "Threads and loops") are enforced by design and tests instead.
    swiftLanguageModes: [.v5]
)
