// tributary-client-check BASE_URL
//
// Uses the client generated from openapi/api.yaml (swift-openapi-generator) against a
// running server: registers a customer (command), then reads it back with the command's
// position as `minPosition` (query) and checks the fields. Exits 0 when everything
// matches, 1 on any mismatch or error, 2 on bad usage. Driven by scripts/check-generated-client.
import Foundation
import OpenAPIRuntime
import OpenAPIURLSession
import TributaryClient

/// The server writes RFC 3339 timestamps with fractional seconds; accept both forms.
struct RFC3339DateTranscoder: DateTranscoder {
    func encode(_ date: Date) throws -> String {
        try ISO8601DateTranscoder.iso8601WithFractionalSeconds.encode(date)
    }

    func decode(_ string: String) throws -> Date {
        if let date = try? ISO8601DateTranscoder.iso8601WithFractionalSeconds.decode(string) { return date }
        return try ISO8601DateTranscoder.iso8601.decode(string)
    }
}

struct Mismatch: Error, CustomStringConvertible {
    var description: String
}

nonisolated(unsafe) var failures: [String] = []

func expect<T: Equatable>(_ what: String, _ actual: T, _ expected: T) {
    if actual == expected {
        print("  ok   \(what) = \(actual)")
    } else {
        print("  FAIL \(what): got \(actual), expected \(expected)")
        failures.append(what)
    }
}

func run(baseURL: URL) async throws {
    let client = Client(
        serverURL: baseURL,
        configuration: Configuration(dateTranscoder: RFC3339DateTranscoder()),
        transport: URLSessionTransport()
    )
    let customerId = "gc-" + UUID().uuidString.prefix(8).lowercased()
    let idempotencyKey = UUID().uuidString

    // Command: POST /commands/customers/register
    print("registerCustomer \(customerId)")
    let registered = try await client.registerCustomer(
        headers: .init(Idempotency_hyphen_Key: idempotencyKey),
        body: .json(.init(customerId: customerId, name: "Ada Lovelace", email: "ada@example.com",
                          creditLimit: 100_000, currency: .EUR))
    )
    guard case .created(let created) = registered else {
        throw Mismatch(description: "registerCustomer: expected 201 Created, got \(registered)")
    }
    let result = try created.body.json
    expect("command id", result.id, customerId)
    expect("command version", result.version, 0)
    if result.position.isEmpty { throw Mismatch(description: "registerCustomer: empty position") }
    print("  ok   position = \(result.position), ETag = \(created.headers.ETag ?? "<none>")")

    // Query: GET /queries/customers/{id}?minPosition=<position>  (read-your-writes)
    print("getCustomer \(customerId) minPosition=\(result.position)")
    let fetched = try await client.getCustomer(
        path: .init(id: customerId),
        query: .init(minPosition: [result.position])
    )
    guard case .ok(let ok) = fetched else {
        throw Mismatch(description: "getCustomer: expected 200 OK, got \(fetched)")
    }
    guard case .CustomerView(let view) = try ok.body.json else {
        throw Mismatch(description: "getCustomer: expected a CustomerView, got \(try ok.body.json)")
    }
    expect("customerId", view.customerId, customerId)
    expect("name", view.name, "Ada Lovelace")
    expect("givenName", view.givenName, "Ada")
    expect("familyName", view.familyName, "Lovelace")
    expect("email", view.email, "ada@example.com")
    expect("creditLimit", view.creditLimit, 100_000)
    expect("currency", view.currency, "EUR")
    expect("reservedCredit", view.reservedCredit, 0)
    expect("availableCredit", view.availableCredit, 100_000)
    expect("status", view.status, Components.Schemas.CustomerStatus.active)
    expect("openOrders", view.openOrders, 0)
    expect("version", view.version, 0)
    expect("orderCount", view.orderCount, 0)
    expect("Tributary-Position present", ok.headers.Tributary_hyphen_Position != nil, true)
    let age = Date().timeIntervalSince(view.updatedAt)
    expect("updatedAt within the last 10 minutes", age > -60 && age < 600, true)
}

let arguments = CommandLine.arguments.dropFirst()
if arguments.first == "--help" || arguments.first == "-h" {
    print("usage: tributary-client-check BASE_URL   (e.g. http://127.0.0.1:8080)")
    exit(0)
}
guard arguments.count == 1, let base = arguments.first, let baseURL = URL(string: base),
      baseURL.scheme != nil
else {
    FileHandle.standardError.write(Data("usage: tributary-client-check BASE_URL\n".utf8))
    exit(2)
}

do {
    try await run(baseURL: baseURL)
} catch {
    print("FAIL: \(error)")
    exit(1)
}
if failures.isEmpty {
    print("generated client: all checks passed")
    exit(0)
}
print("FAIL: \(failures.count) mismatch(es): \(failures.joined(separator: ", "))")
exit(1)
