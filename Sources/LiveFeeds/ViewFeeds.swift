import API
import CQRS
import Foundation
import HTTP
import JSON
import UV

/// The live views of one service as event streams, whatever the service: documents by id
/// (`/streams/queries/<service>/{id}`, several with `a,b` in the path or `?ids=a,b`), a
/// filtered list (`/streams/queries/<service>?<filters>`) and single documents
/// (`/streams/queries/<name>`), as the service's `ServiceAPI.liveViews` declare them.
///
/// Change notifications come from the read models (called after each applied event); they only
/// mark ids dirty. One flush per batch (queued with `loop.execute`, so it runs after the
/// projection has finished the batch and its position is updated) renders each changed document
/// once and writes it to every subscriber of that id. Several changes of one document in one
/// batch become one message (the latest state).
///
/// Event ids are consistency tokens (`orders:12,public:40`): usable as `?minPosition=` on the
/// query API. Resuming a view stream (any `Last-Event-ID`) sends the current document(s) or
/// list snapshot again first: documents are state, not a log, so "current state, then changes"
/// never loses anything.
final class ViewFeeds {
    /// One open view stream; for lists, the filter it was opened with.
    private final class Member {
        let subscriber: Subscriber
        let filter: [String: String]
        init(_ s: Subscriber, filter: [String: String] = [:]) { subscriber = s; self.filter = filter }
    }

    /// One declared view and its subscribers.
    private final class Feed {
        let view: LiveView
        let token: () -> String
        var documentMembers: [String: [ObjectIdentifier: Member]] = [:]
        var members: [ObjectIdentifier: Member] = [:]
        /// Changed ids with their attributes before the first change of this batch.
        var dirty: [String: [String: String]?] = [:]
        /// The last bytes a single-document feed sent (unchanged documents are not sent again).
        var lastSingle: [UInt8] = []
        init(view: LiveView, token: @escaping () -> String) { self.view = view; self.token = token }

        var hasSubscribers: Bool { !documentMembers.isEmpty || !members.isEmpty }
    }

    let service: ServiceAPI
    private let loop: EventLoop
    private let registry: SubscriberRegistry
    private var feeds: [Feed] = []
    private var flushQueued = false
    private var closed = false

    init(service: ServiceAPI, loop: EventLoop, registry: SubscriberRegistry) {
        self.service = service
        self.loop = loop
        self.registry = registry
        let running = service.positions
        for view in service.liveViews {
            let feedsOfView = view.feeds
            let feed = Feed(view: view) {
                feedsOfView.map { "\(running.tokenName($0)):\(running.position($0).value)" }.joined(separator: ",")
            }
            feeds.append(feed)
            view.observe { [weak self, unowned feed] change in self?.changed(change, in: feed) }
        }
    }

    func close() {
        closed = true
        for f in feeds { f.documentMembers = [:]; f.members = [:]; f.dirty = [:] }
    }

    // MARK: Change notifications (cheap: called for every event, also during replay)

    private func changed(_ change: LiveChange, in feed: Feed) {
        guard feed.hasSubscribers else { return }
        if case .documents = feed.view.kind, feed.documentMembers[change.id] == nil { return }
        if feed.dirty.index(forKey: change.id) == nil { feed.dirty[change.id] = change.previousAttributes }
        guard !flushQueued, !closed else { return }
        flushQueued = true
        loop.execute { [weak self] in self?.flush() }
    }

    private func flush() {
        flushQueued = false
        guard !closed else { return }
        for feed in feeds where !feed.dirty.isEmpty {
            let changed = feed.dirty
            feed.dirty = [:]
            let id = feed.token()
            switch feed.view.kind {
            case .documents(let event, let render):
                for (docID, _) in changed {
                    guard let members = feed.documentMembers[docID], let json = render(docID) else { continue }
                    let frame = Self.frame(id: id, event: event, json: json)
                    for m in members.values { m.subscriber.send(frame, events: 1) }
                }
            case .list(_, _, let document):
                flushList(feed, changed, id: id, document: document)
            case .single(_, let event, let render):
                guard let json = render(), json != feed.lastSingle else { continue }
                feed.lastSingle = json
                let frame = Self.frame(id: id, event: event, json: json)
                for m in feed.members.values { m.subscriber.send(frame, events: 1) }
            }
        }
    }

    /// For each list member: `upsert` for a changed document in its view, `remove` for one that left it.
    private func flushList(_ feed: Feed, _ changed: [String: [String: String]?], id: String,
                           document: (String) -> (json: [UInt8], attributes: [String: String])?) {
        var documents: [String: (json: [UInt8], attributes: [String: String])] = [:]
        for (docID, _) in changed { if let d = document(docID) { documents[docID] = d } }
        for m in feed.members.values {
            var out: [UInt8] = []
            var n = 0
            for (docID, previous) in changed {
                guard let d = documents[docID] else { continue }
                if Self.matches(m.filter, d.attributes) {
                    out += Self.frame(id: id, event: "upsert", json: d.json)
                } else if let previous, Self.matches(m.filter, previous) {
                    out += Self.frame(id: id, event: "remove", json: d.json)
                } else { continue }
                n += 1
            }
            if n > 0 { m.subscriber.send(out, events: n) }
        }
    }

    private static func matches(_ filter: [String: String], _ attributes: [String: String]) -> Bool {
        filter.allSatisfy { attributes[$0.key] == $0.value }
    }

    static func frame(id: String, event: String, json: [UInt8]) -> [UInt8] {
        SSEEvent(id: id, event: event, data: String(decoding: json, as: UTF8.self)).encoded
    }

    private static func notFound(_ id: String, token: String) -> [UInt8] {
        frame(id: token, event: "not-found", json: JSONValue.object(["id": .string(id)]).bytes)
    }

    // MARK: Requests

    /// The documents feed, the list feed and the single feed called `name`, as declared.
    private var documentsFeed: Feed? { feeds.first { if case .documents = $0.view.kind { return true } else { return false } } }
    private var listFeed: Feed? { feeds.first { if case .list = $0.view.kind { return true } else { return false } } }
    private func singleFeed(_ name: String) -> Feed? {
        feeds.first { if case .single(let n, _, _) = $0.view.kind { return n == name } else { return false } }
    }
    /// The names of the single-document feeds (`/streams/queries/<name>`).
    var singleNames: [String] {
        feeds.compactMap { if case .single(let n, _, _) = $0.view.kind { return n } else { return nil } }
    }
    var servesDocuments: Bool { documentsFeed != nil }
    var servesCollection: Bool { documentsFeed != nil || listFeed != nil }

    /// Ids from the path (`a,b`) and `?ids=` (repeatable, comma-separated), validated.
    private func ids(_ context: RequestContext) throws -> [String] {
        var list: [String] = []
        let sources = (context.parameters["id"].map { [$0] } ?? []) + context.query.all("ids")
        for text in sources {
            for part in text.split(separator: ",") {
                let id = part.trimmingCharacters(in: .whitespaces)
                guard StreamIdentity.isValidID(id) else {
                    throw QueryError(parameter: "ids", message: "contains an invalid id '\(id.prefix(80))' (1…64 of A-Z a-z 0-9 _ -)")
                }
                if !list.contains(id) { list.append(id) }
            }
        }
        guard !list.isEmpty else { throw QueryError(parameter: "ids", message: "must name at least one id") }
        guard list.count <= registry.settings.maxSelections else {
            throw QueryError(parameter: "ids", message: "may name at most \(registry.settings.maxSelections) ids")
        }
        return list
    }

    /// A `Last-Event-ID` on a view stream must look like one of its ids (it is otherwise
    /// ignored: the stream starts with the current state).
    private static func checkResumeId(_ context: RequestContext) throws {
        let text = context.head.headers["Last-Event-ID"] ?? context.query["lastEventId"] ?? ""
        guard !text.isEmpty else { return }
        let ok = text.split(separator: ",").allSatisfy { ConsistencyToken(parsing: Substring($0.trimmingCharacters(in: .whitespaces))) != nil }
        guard ok else {
            throw Problem(status: 400, type: ProblemType.uri("bad-last-event-id"), title: "Bad Last-Event-ID",
                          detail: "Last-Event-ID of a query stream is a position token such as orders:12,public:40.")
        }
    }

    /// `/streams/queries/<service>`: the list stream, or a documents stream with `ids=` (or
    /// when the service declares no list).
    func handleCollection(_ context: RequestContext, _ responder: Responder) {
        if let list = listFeed, context.query.all("ids").isEmpty { return handleList(list, context, responder) }
        handleDocuments(context, responder)
    }

    /// `/streams/queries/<service>/{id}` (and `?ids=`): each document now, then each change.
    func handleDocuments(_ context: RequestContext, _ responder: Responder) {
        guard let feed = documentsFeed, case .documents(let event, let render) = feed.view.kind else {
            return responder.respond(error: RoutingError.notFound(path: String(context.head.path)))
        }
        let list: [String]
        do { try Self.checkResumeId(context); list = try ids(context) } catch { return responder.respond(error: error) }
        guard let s = registry.open(context, responder, kind: .document) else { return }
        let token = feed.token()
        var first: [UInt8] = []
        for id in list { first += render(id).map { Self.frame(id: token, event: event, json: $0) } ?? Self.notFound(id, token: token) }
        s.send(first, events: list.count)
        guard s.isOpen else { return }
        let member = Member(s)
        let key = ObjectIdentifier(member)
        for id in list { feed.documentMembers[id, default: [:]][key] = member }
        s.onEnd = { [weak feed] in
            guard let feed else { return }
            for id in list {
                feed.documentMembers[id]?[key] = nil
                if feed.documentMembers[id]?.isEmpty == true { feed.documentMembers[id] = nil }
            }
        }
    }

    /// The list stream: first a `snapshot` (the first page, as the list query returns it),
    /// then `upsert` / `remove` per change.
    private func handleList(_ feed: Feed, _ context: RequestContext, _ responder: Responder) {
        guard case .list(let filters, let snapshot, _) = feed.view.kind else { return }
        let arguments = QueryArguments(context.query.items)
        let first: [UInt8]
        do {
            try Self.checkResumeId(context)
            first = try snapshot(arguments)
        } catch {
            return responder.respond(error: error)
        }
        var filter: [String: String] = [:]
        for name in filters { if let value = arguments[name] { filter[name] = value } }
        guard let s = registry.open(context, responder, kind: .list) else { return }
        s.send(Self.frame(id: feed.token(), event: "snapshot", json: first), events: 1)
        guard s.isOpen else { return }
        let member = Member(s, filter: filter)
        let key = ObjectIdentifier(member)
        feed.members[key] = member
        s.onEnd = { [weak feed] in feed?.members[key] = nil }
    }

    /// `/streams/queries/<name>`: the document now, then each time it changes.
    func handleSingle(_ name: String, _ context: RequestContext, _ responder: Responder) {
        guard let feed = singleFeed(name), case .single(_, let event, let render) = feed.view.kind else { return }
        do { try Self.checkResumeId(context) } catch { return responder.respond(error: error) }
        guard let s = registry.open(context, responder, kind: .stats) else { return }
        if let json = render() { s.send(Self.frame(id: feed.token(), event: event, json: json), events: 1) }
        guard s.isOpen else { return }
        let member = Member(s)
        let key = ObjectIdentifier(member)
        feed.members[key] = member
        s.onEnd = { [weak feed] in feed?.members[key] = nil }
    }
}
