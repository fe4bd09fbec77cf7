import CQRS
import EventStore
import Foundation
import HTTP
import JSON

/// The stream browser's reads (scope `admin`), the same for every store of the process:
/// `GET /admin/stores/{store}/streams?containing=&after=&limit=` pages through a store's
/// streams (filtered by a part of the name), `GET /admin/stores/{store}/streams/{stream}?from=&limit=`
/// reads one stream's events with their metadata. Both read off the loop.
enum StreamBrowserRoutes {
    static func install(on group: RouteGroup, stores: NamedStores) {
        func store(_ context: RequestContext) -> EventStore? {
            let name = context.parameters["store"]
            return stores.first { $0.name == name }?.store
        }
        func noStore(_ context: RequestContext) -> HTTPResponse {
            Problem(status: 404, detail: "No store named '\(context.parameters["store"] ?? "")' (stores: \(stores.map { $0.name }.joined(separator: ", "))).").response
        }
        group.get("/stores/{store}/streams") { context, responder in
            guard let s = store(context) else { return responder.respond(noStore(context)) }
            let args = context.arguments
            let limit: Int
            do { limit = try Int(args.integer("limit") ?? 50) } catch { return responder.respond(badParameter("limit", "must be an integer").response) }
            guard (1...500).contains(limit) else { return responder.respond(badParameter("limit", "must be between 1 and 500").response) }
            let containing = args["containing"], after = args["after"].flatMap { $0.isEmpty ? nil : $0 }   // empty: the first page
            // Lengths as the spec counts them (code points).
            guard (containing?.unicodeScalars.count ?? 0) <= 200, (after?.unicodeScalars.count ?? 0) <= 1000 else {
                return responder.respond(badParameter("containing", "and after must be at most 200 and 1000 bytes").response)
            }
            guard !(containing ?? "").contains("\0"), !(after ?? "").contains("\0") else {
                return responder.respond(badParameter("containing", "and after must not contain NUL").response)
            }
            StoreIOThreads.run(s.executor, { try s.listStreams(containing: containing, after: after, limit: limit) }) { result in
                switch result {
                case .failure(.invalidArgument):
                    responder.respond(badParameter("after", "is not a cursor this store issued: pass a page's next").response)
                case .success(let page):
                    var body: [String: JSONValue] = [
                        "streams": .array(page.streams.map { ["name": .string($0.name.value), "version": .int(Int($0.version.value))] }),
                    ]
                    if let next = page.next { body["next"] = .string(next) }
                    responder.respond(OperationalRoutes.json(.object(body), status: 200))
                case .failure(let e):
                    responder.respond(error: e)
                }
            }
        }
        group.get("/stores/{store}/streams/{stream}") { context, responder in
            guard let s = store(context) else { return responder.respond(noStore(context)) }
            let args = context.arguments
            let from: Int64, limit: Int
            do {
                from = try args.integer("from") ?? 0
                limit = Int(try args.integer("limit") ?? 100)
            } catch { return responder.respond(badParameter("from", "and limit must be integers").response) }
            guard from >= 0 else { return responder.respond(badParameter("from", "must be ≥ 0").response) }
            guard (1...1000).contains(limit) else { return responder.respond(badParameter("limit", "must be between 1 and 1000").response) }
            let name = context.parameters["stream"] ?? ""
            guard !name.contains("\0") else { return responder.respond(Problem(status: 404, detail: "No such stream.").response) }
            let stream = StreamName(name)
            s.readStream(stream, from: StreamVersion(from), direction: .forward, maxCount: limit) { result in
                switch result {
                case .success(let events):
                    guard !events.isEmpty || from > 0 else {
                        return responder.respond(Problem(status: 404, detail: "The store has no stream '\(stream.value)'.").response)
                    }
                    let version = s.streamVersion(stream).map { Int($0.value) } ?? -1
                    let list: [JSONValue] = events.map { e in
                        var meta: [String: JSONValue] = [:]
                        for (k, v) in e.metadata.properties { meta[k] = .string(v) }
                        return ["eventId": .string(e.id.description.lowercased()), "type": .string(e.type),
                                "schemaVersion": .int(e.schemaVersion), "version": .int(Int(e.streamVersion.value)),
                                "position": .int(Int(e.position.value)), "time": .string(RFC3339.format(e.timestamp)),
                                "correlationId": e.metadata.correlationId.map { .string($0) } ?? .null,
                                "causationId": e.metadata.causationId.map { .string($0) } ?? .null,
                                "properties": .object(meta), "data": JSONValue(jsonBytes: e.data)]
                    }
                    var body: [String: JSONValue] = ["stream": .string(stream.value), "version": .int(version), "events": .array(list)]
                    if let last = events.last, Int(last.streamVersion.value) < version { body["next"] = .int(Int(last.streamVersion.value) + 1) }
                    responder.respond(OperationalRoutes.json(.object(body), status: 200))
                case .failure(let e):
                    responder.respond(error: e)
                }
            }
        }
    }
}
