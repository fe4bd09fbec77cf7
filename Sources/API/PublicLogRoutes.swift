import CQRS
import EventStore
import HTTP

/// `GET /public/events?after=&limit=&types=`: pages through the public log, each event in the
/// envelope of the public-event spec plus its `position` (the cursor for the next page).
enum PublicLogRoutes {
    static let defaultLimit = 100
    static let maxLimit = 1000

    static func install(on group: RouteGroup, publicLog: EventStore) {
        group.get("/public/events") { context, responder in
            let q = context.arguments
            let after: Int64, limit: Int64, filter: EventFilter?
            do {
                after = try q.integer("after") ?? 0
                guard after >= 0 else { throw badParameter("after", "must be ≥ 0") }
                limit = try q.integer("limit") ?? Int64(defaultLimit)
                guard (1...Int64(maxLimit)).contains(limit) else { throw badParameter("limit", "must be between 1 and \(maxLimit)") }
                let types = q.all("types").flatMap { $0.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
                filter = types.isEmpty ? nil : EventFilter(eventTypes: Set(types))
            } catch {
                return responder.respond(error: error)
            }
            // Read off the loop; the page is rendered when the events are back.
            publicLog.readAll(from: LogPosition(UInt64(after)), maxCount: Int(limit), filter: filter) { read in
                switch read {
                case .success(let recorded): responder.respond(page(recorded, after: UInt64(after), head: publicLog.lastPosition.value))
                case .failure(let error): responder.respond(error: error)
                }
            }
        }
    }

    static func page(_ recorded: [RecordedEvent], after: UInt64, head: UInt64) -> HTTPResponse {
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
        body += Array(#"],"nextAfter":\#(last),"lastPosition":\#(head)}"#.utf8)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: QueryEndpoint.positionHeader, value: "public=\(head)")
        return HTTPResponse(status: 200, headers: headers, body: body)
    }
}
