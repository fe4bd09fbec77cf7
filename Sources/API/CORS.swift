import HTTP

/// CORS for browsers: which origins may read responses, and the preflight answer.
public struct CORSPolicy: Sendable {
    public let origins: Set<String>
    public var allowsAny: Bool { origins.contains("*") }
    public var isEnabled: Bool { !origins.isEmpty }

    public init(origins: [String]) {
        self.origins = Set(origins.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 })
    }

    /// Headers for a response to a request with this `Origin` (none when not allowed).
    public func headers(origin: String?) -> HTTPHeaders {
        var headers = HTTPHeaders()
        guard isEnabled else { return headers }
        if allowsAny {
            headers.add(name: "Access-Control-Allow-Origin", value: "*")
        } else if let origin, origins.contains(origin) {
            headers.add(name: "Access-Control-Allow-Origin", value: origin)
            headers.add(name: "Vary", value: "Origin")
        }
        return headers
    }

    /// `OPTIONS` preflight: 204 with the allowed methods and headers (403 for an unknown origin).
    public func preflight(origin: String?, methods: [String], requestHeaders: String?) -> HTTPResponse {
        var headers = self.headers(origin: origin)
        guard headers["Access-Control-Allow-Origin"] != nil else {
            return Problem(status: 403, type: ProblemType.uri("cors-origin"), title: "Origin not allowed",
                           detail: "This origin may not call the API from a browser.").response
        }
        headers.add(name: "Access-Control-Allow-Methods", value: (methods + ["OPTIONS"]).joined(separator: ", "))
        headers.add(name: "Access-Control-Allow-Headers",
                    value: requestHeaders ?? "Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, Last-Event-ID, X-Correlation-ID, X-Request-ID, traceparent")
        headers.add(name: "Access-Control-Expose-Headers", value: "ETag, Location, Retry-After, \(QueryEndpoint.positionHeader)")
        headers.add(name: "Access-Control-Max-Age", value: "600")
        return HTTPResponse(status: 204, headers: headers)
    }
}

/// CORS as server middleware: the allowed origins may read every response (JSON API, problems
/// and event streams, unmatched requests included).
public struct CORSMiddleware: HTTPMiddleware {
    public let policy: CORSPolicy
    public init(policy: CORSPolicy) { self.policy = policy }

    public func handle(_ context: RequestContext, _ responder: Responder, next: @escaping HTTPHandler) {
        let origin = context.head.headers["Origin"]
        let policy = self.policy
        responder.decorate { response in
            guard response.headers["Access-Control-Allow-Origin"] == nil else { return }
            for field in policy.headers(origin: origin).fields { response.headers.add(name: field.name, value: field.value) }
            response.headers.add(name: "Access-Control-Expose-Headers",
                                 value: "ETag, Retry-After, \(QueryEndpoint.positionHeader), X-Correlation-ID, X-Request-ID, traceparent")
        }
        next(context, responder)
    }

    /// Adds an `OPTIONS` preflight route for every path pattern registered so far (open: no
    /// scope tag needed, browsers send it without credentials). Call after every other route.
    public func installPreflight(on router: Router) {
        var methods: [String: [String]] = [:]
        var tags: [String: [String: String]] = [:]
        var order: [String] = []
        for route in router.routes {
            if methods[route.pattern] == nil { order.append(route.pattern); tags[route.pattern] = route.tags }
            methods[route.pattern, default: []].append(route.method)
        }
        let policy = self.policy
        for pattern in order where !(methods[pattern] ?? []).contains("OPTIONS") {
            let allowed = methods[pattern] ?? []
            // The route's own tags (its API side), but open: no credentials in a preflight.
            let preflightTags = (tags[pattern] ?? [:]).merging([RouteTag.scope: RouteTag.open]) { _, open in open }
            router.add("OPTIONS", pattern, tags: preflightTags) { context, responder in
                responder.respond(policy.preflight(origin: context.head.headers["Origin"], methods: allowed,
                                                   requestHeaders: context.head.headers["Access-Control-Request-Headers"]))
            }
        }
    }
}
