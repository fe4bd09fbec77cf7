import CQRS
import HTTP

extension RequestContext {
    /// The query string as the runtime's neutral `QueryArguments`.
    var arguments: QueryArguments { QueryArguments(query.items) }
}

/// A 400 naming the parameter; `message` may already start with the name (service messages do).
func badParameter(_ name: String, _ message: String) -> Problem {
    let sentence = message.hasPrefix(name) ? message : "\(name) \(message)"
    return Problem(status: 400, type: ProblemType.uri("bad-query-parameter"), title: "Bad query parameter",
                   detail: sentence.hasSuffix(".") ? sentence : sentence + ".",
                   extensions: ["errors": [["field": .string(name), "message": .string(message)]]])
}
