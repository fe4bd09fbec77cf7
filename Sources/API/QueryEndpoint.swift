import CQRS
import EventStore
import Foundation
import HTTP

/// The query side of the HTTP API, shared by every view: `minPosition` waits, the position
/// header, `ETag` / `If-None-Match`, and 404 for a missing document.
public enum QueryEndpoint {
    /// How long `?minPosition=` may hold a request before answering 503 + `Retry-After`.
    static let maxWait: Duration = .seconds(5)
    /// Response header naming the position of every store a view reflects.
    public static let positionHeader = "Tributary-Position"

    /// One store a view is fed from: its name in consistency tokens, the position the view
    /// reflects now, and how to wait for a later one.
    struct Source {
        var name: String
        var position: () -> UInt64
        var wait: (LogPosition, Duration, @escaping (PositionWaitResult) -> Void) -> Void

        /// The sources of a service's views fed by `feeds`.
        static func of(_ service: RunningService, feeds: [Feed]) -> [Source] {
            feeds.map { feed in
                Source(name: service.tokenName(feed), position: { service.position(feed).value }) { p, t, c in
                    service.wait(forPosition: p, in: feed, timeout: t, completion: c)
                }
            }
        }
    }

    /// Serves `route` of a service: waits for `minPosition`, renders (or takes the answer
    /// `memo` kept, while the service's read models have not moved since), and answers with the
    /// position header, `ETag` / `If-None-Match`, 404 for a missing document, 400 for bad input.
    static func run(_ route: QueryRoute, service: RunningService, memo: QueryMemo<Answer>, _ context: RequestContext, _ responder: Responder) {
        let request = QueryRequest(id: context.parameters["id"], arguments: context.arguments)
        let minimum = request.arguments.all("minPosition"), key = request.memoKey
        // The common case first: nothing to wait for and an answer kept at this generation.
        if minimum.isEmpty, let answer = memo.answer(for: key, generation: service.generation) {
            return responder.respond(answer.response(to: context))
        }
        let sources = Source.of(service, feeds: route.feeds)
        let tokens: [ConsistencyToken]
        do {
            tokens = try minPositions(minimum, sources: sources)
        } catch {
            return responder.respond(error: error)
        }
        waitAll(tokens[...], sources: sources) { failure in
            if let failure { return responder.respond(failure.response) }
            // Stamped before rendering: a render that reads the store may see later events, never
            // earlier ones. While the generation stands, so do the positions the headers name.
            // Without minPosition the memo was asked above, at this same generation.
            let generation = service.generation
            if !minimum.isEmpty, let answer = memo.answer(for: key, generation: generation) {
                return responder.respond(answer.response(to: context))
            }
            route.run(request) { rendered in
                switch rendered {
                case .success(let document?):
                    let answer = Answer(document, sources: sources)
                    memo.keep(answer, for: key, generation: generation)
                    responder.respond(answer.response(to: context))
                case .success(nil):
                    responder.respond(Problem(status: 404, type: ProblemType.uri("not-found"), title: "Not Found",
                                              detail: "No such resource (yet: add ?minPosition= to wait for a write).",
                                              instance: String(context.head.path)).response)
                case .failure(let error):
                    responder.respond(Problem.from(error).response)
                }
            }
        }
    }

    /// A rendered document as both its answers: 200 with the body, and 304 for a request whose
    /// `If-None-Match` names its tag; the headers (`ETag`, the position header) built once.
    struct Answer {
        let tag: String
        let ok: HTTPResponse
        let notModified: HTTPResponse

        init(_ document: QueryDocument, sources: [Source]) {
            var headers = HTTPHeaders()
            tag = EntityTag.forDocument(document)
            headers.add(name: "ETag", value: tag)
            headers.add(name: "Cache-Control", value: "no-cache")
            headers.add(name: positionHeader, value: sources.map { "\($0.name)=\($0.position())" }.joined(separator: ", "))
            notModified = HTTPResponse(status: 304, headers: headers)
            headers.add(name: "Content-Type", value: "application/json")
            ok = HTTPResponse(status: 200, headers: headers, body: document.body)
        }

        /// The body bytes kept (the memo's budget counts them).
        var size: Int { ok.body.count }

        func response(to context: RequestContext) -> HTTPResponse {
            // A list: several fields mean one comma-separated list (RFC 9110 5.3).
            if context.head.headers["If-None-Match"] != nil,
               EntityTag.matches(ifNoneMatch: context.head.headers.values("If-None-Match").joined(separator: ", "), tag: tag) {
                return notModified
            }
            return ok
        }
    }

    private static func minPositions(_ values: [String], sources: [Source]) throws -> [ConsistencyToken] {
        var tokens: [ConsistencyToken] = []
        for value in values {
            for part in value.split(separator: ",") {
                let text = part.trimmingCharacters(in: .whitespaces)
                guard let token = ConsistencyToken(parsing: Substring(text)) else {
                    throw Problem(status: 400, type: ProblemType.uri("bad-min-position"), title: "Bad minPosition",
                                  detail: "minPosition takes a position token from a command response, e.g. customers:42.")
                }
                guard sources.contains(where: { $0.name == token.store }) else {
                    throw Problem(status: 400, type: ProblemType.uri("bad-min-position"), title: "Bad minPosition",
                                  detail: "This view reflects \(sources.map { $0.name }.joined(separator: " and ")), not '\(token.store)'.")
                }
                tokens.append(token)
            }
        }
        return tokens
    }

    /// Waits for every token in turn; completes with nil once all are reflected, else a 503 problem.
    private static func waitAll(_ tokens: ArraySlice<ConsistencyToken>, sources: [Source], completion: @escaping (Problem?) -> Void) {
        guard let token = tokens.first, let source = sources.first(where: { $0.name == token.store }) else {
            return completion(nil)
        }
        source.wait(token.position, maxWait) { result in
            switch result {
            case .reached:
                waitAll(tokens.dropFirst(), sources: sources, completion: completion)
            case .timedOut(let reached):
                var headers = HTTPHeaders()
                headers.add(name: "Retry-After", value: "1")
                completion(Problem(status: 503, type: ProblemType.uri("position-not-reached"), title: "Not yet consistent",
                                   detail: "The view reflects \(token.store) up to \(reached.value), not yet \(token.position.value); retry shortly.",
                                   headers: headers))
            case .failed(let failure):
                var headers = HTTPHeaders()
                headers.add(name: "Retry-After", value: "5")
                completion(Problem(status: 503, type: ProblemType.uri("projection-failed"), title: "View unavailable",
                                   detail: "The view fed by \(token.store) has stopped\(failure.map { " at position \($0.position.value)" } ?? ""); the operator has been told.",
                                   headers: headers))
            }
        }
    }
}
