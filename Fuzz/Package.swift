// swift-tools-version:6.0
import PackageDescription

// The libFuzzer targets, built by scripts/fuzz-http and scripts/fuzz-commands with
//   swift build --package-path Fuzz -Xswiftc -sanitize=fuzzer,address
// Each is an ordinary executable whose `main` runs libFuzzer's driver (CFuzzerDriver) on its
// target function. A package of its own: the sanitizer flags apply to everything it builds,
// and the root package's `swift build` stays free of them. The fuzzers use internals
// (`@testable import`), which debug builds allow.
let package = Package(
    name: "TributaryFuzz",
    dependencies: [.package(name: "Tributary", path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        .executableTarget(name: "HTTPParserFuzz", dependencies: ["CFuzzerDriver", .product(name: "TributaryHTTP", package: "Tributary"),
                                                          .product(name: "TributaryAPI", package: "Tributary")]),
        .executableTarget(name: "CommandFuzz", dependencies: ["CFuzzerDriver", .product(name: "TributaryDomain", package: "Tributary")]),
    ],
    swiftLanguageModes: [.v5]
)
