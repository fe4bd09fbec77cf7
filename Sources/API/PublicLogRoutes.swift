import CQRS
import EventStore
import HTTP

/// `GET /public/events?after=&limit=&types=`: pages through the public log, each event in the
/// envelope of the public-event spec plus its `position` (the cursor for the next page).
enum PublicLogRoutes {
    static let defaultLimit = 100
    static let maxLimit = 1000

    static func install(on group: RouteGroup, publicLog: EventStore) {
        // Pages rendered once: a full page of the append-only log never changes; a shorter one
        // (it reached the head) stands while the head does.
        let memo = QueryMemo<[UInt8]> { $0.count }
        group.get("/public/events") { context, responder in
            let q = context.arguments
            let after: Int64, limit: Int64, types: [String]
            do {
                after = try q.integer("after") ?? 0
                guard after >= 0 else { throw badParameter("after", "must be ≥ 0") }
                limit = try q.integer("limit") ?? Int64(defaultLimit)
                guard (1...Int64(maxLimit)).contains(limit) else { throw badParameter("limit", "must be between 1 and \(maxLimit)") }
                types = q.all("types").flatMap { $0.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
            } catch {
                return responder.respond(error: error)
            }
            let key = "\(after) \(limit) \(types.joined(separator: ","))"
            // Stamped before reading: the read sees at least every event up to this head.
            let head = publicLog.lastPosition.value
            if let events = memo.answer(for: key, generation: head) {
                return responder.respond(response(events, head: publicLog.lastPosition.value))
            }
            let filter = types.isEmpty ? nil : EventFilter(eventTypes: Set(types))
            // Read off the loop; the page is rendered when the events are back.
            publicLog.readAll(from: LogPosition(UInt64(after)), maxCount: Int(limit), filter: filter) { read in
                switch read {
                case .success(let recorded):
                    let events = pageEvents(recorded, after: UInt64(after))
                    memo.keep(events, for: key, generation: head, final: recorded.count == Int(limit))
                    responder.respond(response(events, head: publicLog.lastPosition.value))
                case .failure(let error): responder.respond(error: error)
                }
            }
        }
    }

    /// `{"events":[…],"nextAfter":N,`: the part of a page its events decide.
    static func pageEvents(_ recorded: [RecordedEvent], after: UInt64) -> [UInt8] {
        var body: [UInt8] = Array(#"{"events":["#.utf8)
        var last = after
        var first = true
        for event in recorded {
            last = event.position.value
            guard let envelope = PublicEventEnvelope(event) else { continue }
            if !first { body.append(UInt8(ascii: ",")) }
            first = false
            body += Array(#"{"position":\#(event.position.value),"#.utf8)
            body += envelope.jsonBytes().dropFirst()
        }
        body += Array(#"],"nextAfter":\#(last),"#.utf8)
        return body
    }

    /// The page: its events part, then the log's head now.
    static func response(_ events: [UInt8], head: UInt64) -> HTTPResponse {
        var body = events
        body += Array(#""lastPosition":\#(head)}"#.utf8)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: QueryEndpoint.positionHeader, value: "public=\(head)")
        return HTTPResponse(status: 200, headers: headers, body: body)
    }
}
