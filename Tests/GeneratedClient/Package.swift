// swift-tools-version:6.0
import PackageDescription

// A client generated from openapi/api.yaml by swift-openapi-generator (issue 6):
// proof that the spec is usable by someone else's tooling. Kept out of the main
// package so the main build does not pay for the generator. Run it with
// scripts/check-generated-client (builds the server, starts it, runs the check).
let package = Package(
    name: "TributaryGeneratedClient",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/apple/swift-openapi-urlsession", from: "1.4.0"),
    ],
    targets: [
        // openapi.yaml here is a symlink to ../../../../openapi/api.yaml: the real spec.
        .target(
            name: "TributaryClient",
            dependencies: [
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            ],
            plugins: [
                .plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator"),
            ]
        ),
        .executableTarget(
            name: "tributary-client-check",
            dependencies: [
                "TributaryClient",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIURLSession", package: "swift-openapi-urlsession"),
            ]
        ),
    ]
)
