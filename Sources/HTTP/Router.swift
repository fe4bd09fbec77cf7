/// Why routing did not find a handler; mapped to 404/405/400 by `Problem.from(_:)`.
public enum RoutingError: Error, Sendable, Equatable {
    case notFound(path: String)
    /// The path exists for other methods; `allow` lists them (for the `Allow` header).
    case methodNotAllowed(method: String, allow: [String])
    /// A path segment has a malformed escape or is not UTF-8 once decoded.
    case badPath(String)
}

/// A request handler: answer through `responder` exactly once, now or later (on the loop).
public typealias HTTPHandler = (RequestContext, Responder) -> Void

/// One registered route.
public struct Route: @unchecked Sendable {
    public let method: String
    /// The pattern as registered, e.g. "/orders/{id}"; also the metrics label.
    public let pattern: String
    /// A stable name for metrics and logs (the pattern unless given).
    public let name: String
    /// What the route's groups declared about it (e.g. the scope a token needs, the API it
    /// belongs to). The transport gives no key a meaning: middleware does.
    public let tags: [String: String]
    /// The handler behind its groups' middleware. Runs on the loop thread only.
    let handler: HTTPHandler
    /// This route's request metrics, found without hashing its name per request.
    let series = RouteSeries()
}

/// A step requests pass through before their handler: a server's (every request, matched or
/// not) or a route group's (the group's routes). It may answer instead (`responder.respond`:
/// a 401, a 503), or call `next` to go on, and may decorate or observe the response through
/// `responder.decorate` and `responder.whenAnswered`. Loop thread only.
public protocol HTTPMiddleware {
    func handle(_ context: RequestContext, _ responder: Responder, next: @escaping HTTPHandler)
}

extension Array where Element == HTTPMiddleware {
    /// `handler` behind these middleware, the first outermost.
    func wrapping(_ handler: @escaping HTTPHandler) -> HTTPHandler {
        reversed().reduce(handler) { next, middleware in { context, responder in middleware.handle(context, responder, next: next) } }
    }
}

/// Routes registered under a common path prefix, tags and middleware, declared where the
/// routes are (Hummingbird's `RouterGroup`): `router.group("/commands", tags: [...],
/// middleware: [admission]).post("/orders/place") { ... }`. Nested groups add their prefix,
/// tags (an inner value replaces an outer one) and middleware (outer first).
public struct RouteGroup {
    let router: Router
    public let prefix: String
    public let tags: [String: String]
    let middleware: [HTTPMiddleware]

    /// A group inside this one.
    public func group(_ prefix: String = "", tags: [String: String] = [:], middleware: [HTTPMiddleware] = []) -> RouteGroup {
        RouteGroup(router: router, prefix: self.prefix + prefix, tags: self.tags.merging(tags) { _, inner in inner },
                   middleware: self.middleware + middleware)
    }

    public func add(_ method: String, _ pattern: String, name: String? = nil, _ handler: @escaping HTTPHandler) {
        router.add(method, prefix + pattern, name: name, tags: tags, middleware.wrapping(handler))
    }

    public func get(_ pattern: String, name: String? = nil, _ handler: @escaping HTTPHandler) { add("GET", pattern, name: name, handler) }
    public func post(_ pattern: String, name: String? = nil, _ handler: @escaping HTTPHandler) { add("POST", pattern, name: name, handler) }
}

/// Path parameters captured from `{name}` segments, percent-decoded. A route has a few, so
/// they are kept in pattern order and looked up by a scan (no hashing per request).
public struct PathParameters: Sendable, Equatable {
    private var pairs: [(name: String, value: String)] = []
    public init(_ values: [String: String] = [:]) { pairs = values.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    init(pairs: [(name: String, value: String)]) { self.pairs = pairs }
    public subscript(name: String) -> String? {
        for pair in pairs where pair.name == name { return pair.value }
        return nil
    }
    public var values: [String: String] { Dictionary(pairs.map { ($0.name, $0.value) }) { first, _ in first } }
    public static func == (a: PathParameters, b: PathParameters) -> Bool { a.values == b.values }
}

/// Method + path-pattern routing.
///
/// Patterns are "/"-separated; a `{name}` segment matches any one non-empty segment.
/// Paths are split on "/" first and each segment is percent-decoded afterwards, so
/// `%2F` inside a segment never splits it. Literal segments win over parameters.
/// A `HEAD` request falls back to the `GET` route (the connection drops the body).
public final class Router: @unchecked Sendable {
    /// A node has a few literal children and routes: scanning them, comparing bytes, is cheaper
    /// than hashing a String per segment (routing was a quarter of a small read's instructions).
    private final class Node {
        var literals: [(segment: [UInt8], node: Node)] = []
        var parameter: (name: String, node: Node)?
        var routes: [(method: String, route: Route)] = []

        func literal(_ segment: ArraySlice<UInt8>) -> Node? {
            for literal in literals where literal.segment.count == segment.count && literal.segment.elementsEqual(segment) {
                return literal.node
            }
            return nil
        }

        func route(_ method: String) -> Route? {
            for entry in routes where entry.method == method { return entry.route }
            return nil
        }
    }

    private let root = Node()
    public private(set) var routes: [Route] = []

    public init() {}

    /// A group of routes under `prefix` with `tags` and `middleware` (see `RouteGroup`).
    public func group(_ prefix: String = "", tags: [String: String] = [:], middleware: [HTTPMiddleware] = []) -> RouteGroup {
        RouteGroup(router: self, prefix: prefix, tags: tags, middleware: middleware)
    }

    /// Registers `handler` for `method` and `pattern`. Traps on a conflicting
    /// registration (same method and shape) — a programming error.
    public func add(_ method: String, _ pattern: String, name: String? = nil, tags: [String: String] = [:],
                    _ handler: @escaping HTTPHandler) {
        var node = root
        for segment in Router.segments(of: Substring(pattern)) {
            if segment.hasPrefix("{") && segment.hasSuffix("}") && segment.count > 2 {
                let param = String(segment.dropFirst().dropLast())
                if let existing = node.parameter {
                    precondition(existing.name == param, "conflicting parameter names in \(pattern)")
                    node = existing.node
                } else {
                    let child = Node()
                    node.parameter = (param, child)
                    node = child
                }
            } else {
                let literal = Array(segment.utf8)
                if let child = node.literal(literal[...]) { node = child } else {
                    let child = Node()
                    node.literals.append((literal, child))
                    node = child
                }
            }
        }
        precondition(node.route(method) == nil, "duplicate route \(method) \(pattern)")
        let route = Route(method: method, pattern: pattern, name: name ?? pattern, tags: tags, handler: handler)
        node.routes.append((method, route))
        routes.append(route)
    }

    public func get(_ pattern: String, name: String? = nil, _ handler: @escaping HTTPHandler) { add("GET", pattern, name: name, handler) }
    public func post(_ pattern: String, name: String? = nil, _ handler: @escaping HTTPHandler) { add("POST", pattern, name: name, handler) }
    public func put(_ pattern: String, name: String? = nil, _ handler: @escaping HTTPHandler) { add("PUT", pattern, name: name, handler) }
    public func patch(_ pattern: String, name: String? = nil, _ handler: @escaping HTTPHandler) { add("PATCH", pattern, name: name, handler) }
    public func delete(_ pattern: String, name: String? = nil, _ handler: @escaping HTTPHandler) { add("DELETE", pattern, name: name, handler) }

    /// Finds the route for `method` and the raw (still percent-encoded) `path`.
    public func match(method: String, path: Substring) -> Result<(Route, PathParameters), RoutingError> {
        // Work on the bytes, copied at once (a Substring's UTF-8 view copies byte by byte).
        let bytes = path.utf8.withContiguousStorageIfAvailable { Array($0) } ?? Array(path.utf8)
        // The segments after the leading "/", percent-decoded one by one (slices of `bytes`
        // unless they had escapes).
        var segments: [ArraySlice<UInt8>] = []
        segments.reserveCapacity(8)
        for range in Router.segmentRanges(bytes) {
            let raw = bytes[range]
            if raw.contains(UInt8(ascii: "%")) {
                guard let decoded = PercentDecoding.decode(segment: raw) else {
                    return .failure(.badPath("Malformed percent-encoding in the path."))
                }
                segments.append(decoded[...])
            } else {
                segments.append(raw)
            }
        }
        var captures: [(name: String, value: ArraySlice<UInt8>)] = []
        guard let node = Router.find(root, segments[...], &captures) else {
            return .failure(.notFound(path: String(path)))
        }
        guard let route = node.route(method) ?? (method == "HEAD" ? node.route("GET") : nil) else {
            var allow = Set(node.routes.map { $0.method })
            if allow.contains("GET") { allow.insert("HEAD") }
            return .failure(.methodNotAllowed(method: method, allow: allow.sorted()))
        }
        if captures.isEmpty { return .success((route, PathParameters())) }
        return .success((route, PathParameters(pairs: captures.map { ($0.name, String(decoding: $0.value, as: UTF8.self)) })))
    }

    /// Depth-first match preferring literals; only nodes with routes count as matches.
    private static func find(_ node: Node, _ rest: ArraySlice<ArraySlice<UInt8>>,
                             _ captures: inout [(name: String, value: ArraySlice<UInt8>)]) -> Node? {
        guard let first = rest.first else { return node.routes.isEmpty ? nil : node }
        if let child = node.literal(first), let hit = find(child, rest.dropFirst(), &captures) { return hit }
        if let (name, child) = node.parameter, !first.isEmpty {
            captures.append((name, first))
            if let hit = find(child, rest.dropFirst(), &captures) { return hit }
            captures.removeLast()
        }
        return nil
    }

    /// "/a/b/" → ["a", "b", ""]; "/" → [] (the root). Empty inner segments are kept.
    static func segments(of path: Substring) -> [Substring] {
        let bytes = Array(path.utf8)
        return segmentRanges(bytes).map { Substring(String(decoding: bytes[$0], as: UTF8.self)) }
    }

    /// The byte ranges of `segments(of:)`, found by a byte scan (a `split` on Characters cost
    /// more than the rest of routing together).
    static func segmentRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        let slash = UInt8(ascii: "/")
        var start = bytes.first == slash ? 1 : 0
        guard start < bytes.count else { return [] }
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(8)   // one allocation for typical paths
        for i in start..<bytes.count where bytes[i] == slash {
            ranges.append(start..<i)
            start = i + 1
        }
        ranges.append(start..<bytes.count)
        return ranges
    }
}
