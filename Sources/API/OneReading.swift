import HTTP

/// Server middleware that refuses a request two parsers could read two ways: a header field
/// that takes one value sent twice (which `Idempotency-Key` guards the retry? which token
/// authorizes?) and a query parameter that takes one value given twice (`?limit=1&limit=500`).
/// A gateway in front may keep the last where Tributary would keep the first; a 400 leaves no
/// choice to make. (The HTTP parser already refuses two `Host`, `Content-Length` or
/// `Transfer-Encoding` fields.)
public struct OneReadingMiddleware: HTTPMiddleware {
    /// Fields defined as one value. `If-Match` is a list in RFC 9110, but a command takes one
    /// entity tag, so a second field is as malformed as a list in one field.
    public static let singletonHeaders = ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "Last-Event-ID",
                                          "X-Correlation-ID", "X-Request-ID", "Origin"]
    /// Query parameters documented as lists (`ids=a&ids=b`, `minPosition` once per store,
    /// `types`); every other parameter takes one value.
    public static let listParameters: Set<String> = ["ids", "minPosition", "types"]

    public init() {}

    public func handle(_ context: RequestContext, _ responder: Responder, next: @escaping HTTPHandler) {
        if let problem = Self.problem(for: context.head) { return responder.respond(problem.response) }
        next(context, responder)
    }

    /// The 400 for a request head that repeats a singleton header or parameter, nil if it
    /// has one reading.
    public static func problem(for head: HTTPRequestHead) -> Problem? {
        // One pass, no allocation: this runs for every request.
        var seenHeaders: UInt32 = 0
        for field in head.headers {
            for (k, name) in singletonHeaders.enumerated()
            where field.name.caseInsensitiveEquals(name) {
                guard seenHeaders & (1 << k) == 0 else {
                    return Problem(status: 400, type: ProblemType.uri("repeated-header"), title: "Repeated header",
                                   detail: "\(name) takes one value, but the request has more than one \(name) field.",
                                   extensions: ["errors": [["field": .string(name), "message": "must appear once"]]])
                }
                seenHeaders |= 1 << k
            }
        }
        guard head.query != nil else { return nil }
        var seen = Set<String>()
        for item in QueryParameters(parsing: head.query).items where !listParameters.contains(item.name) {
            guard seen.insert(item.name).inserted else {
                return badParameter(item.name, "must be given once")
            }
        }
        return nil
    }
}
