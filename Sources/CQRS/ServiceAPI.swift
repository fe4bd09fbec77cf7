import Foundation
import EventStore
import JSON

/// The client-facing surface of one service, in transport-neutral terms: the commands it
/// takes, the queries and live views it serves, and the positions they reflect. The API
/// module turns it into HTTP routes and the LiveFeeds module into event streams, the same way
/// for every service, so a service declares its API and writes no transport code.
///
/// Paths follow from the declaration: `POST /commands/<name>/<command>` (creations) and
/// `POST /commands/<name>/{id}/<command>`; `GET /queries/<name>`, `/queries/<name>/{id}`,
/// `/queries/<name>/{id}/history`, `/queries/<named>`; `GET /streams/queries/...` likewise.
/// Loop-confined like the service it describes.
public struct ServiceAPI {
    /// The service's name: path segment, and the name of its store in position tokens.
    public let name: String
    /// Where every view of the service stands, and how to wait for a later position.
    public let positions: RunningService
    public var commands: [CommandRoute] = []
    public var queries: [QueryRoute] = []
    public var liveViews: [LiveView] = []
    /// Rebuilds the read models from the stores (off the loop) and compares them with the live
    /// ones; the report arrives on the loop.
    public var consistency: ((@escaping (Result<ConsistencyReport, Error>) -> Void) -> Void)?

    public init(name: String, positions: RunningService) {
        self.name = name
        self.positions = positions
    }
}

// MARK: - Commands

/// What a command request carries once the transport has read it.
public struct CommandRequest {
    /// The target entity id from the path (`/{id}/<command>`), nil for a creation.
    public var id: String?
    /// The JSON body.
    public var body: [UInt8]
    public var context: CommandContext
    public var concurrency: ConcurrencyMode
    /// A fresh id for a creation whose body names none.
    public var newID: () -> String

    public init(id: String?, body: [UInt8], context: CommandContext, concurrency: ConcurrencyMode, newID: @escaping () -> String) {
        self.id = id; self.body = body; self.context = context; self.concurrency = concurrency; self.newID = newID
    }
}

/// A successful command, as every transport renders it.
public struct CommandResult: Hashable, Sendable {
    public var stream: StreamName
    /// The entity id (the one a creation chose, also when replayed).
    public var id: String
    public var version: StreamVersion?
    public var position: LogPosition
    /// The command created the entity (HTTP 201).
    public var created: Bool
    /// Served from the idempotency index: nothing was appended by this request.
    public var replayed: Bool
}

/// One command a service takes from clients.
public struct CommandRoute {
    /// The command's name, e.g. `register`, `rename`: the last path segment.
    public let name: String
    /// A creation (`/commands/<service>/<name>`, the id from the body or generated) or a
    /// command on an existing entity (`/commands/<service>/{id}/<name>`).
    public let creates: Bool
    /// An empty body stands for `{}` (a command without parameters).
    public let acceptsEmptyBody: Bool
    /// Decodes the body (throws `JSONBodyError`) and sends the command; `completion` runs
    /// once, on the loop.
    public let run: (CommandRequest, @escaping (Result<CommandResult, CommandError>) -> Void) throws -> Void

    public init(name: String, creates: Bool, acceptsEmptyBody: Bool = false,
                run: @escaping (CommandRequest, @escaping (Result<CommandResult, CommandError>) -> Void) throws -> Void) {
        self.name = name
        self.creates = creates
        self.acceptsEmptyBody = acceptsEmptyBody
        self.run = run
    }
}

/// Builds a service's command routes over its `handle` function.
public struct CommandRoutes<Command, Event> {
    /// The service's command entry: command, entity id, context, mode, completion.
    public typealias Handle = (Command, String, CommandContext, ConcurrencyMode, @escaping CommandCompletion<Event>) -> Void

    private let handle: Handle
    private let isCreation: (CommandOutcome<Event>) -> Bool
    private let identity: StreamIdentity
    public private(set) var routes: [CommandRoute] = []

    /// - Parameters:
    ///   - identity: maps outcome streams back to entity ids.
    ///   - isCreation: whether a successful outcome created the entity (201).
    public init(identity: StreamIdentity, isCreation: @escaping (CommandOutcome<Event>) -> Bool, handle: @escaping Handle) {
        self.identity = identity
        self.isCreation = isCreation
        self.handle = handle
    }

    /// A creation: `id` reads the entity id from the body (nil: a fresh one), `make` builds
    /// the command for that id.
    public mutating func create<Body: Decodable>(_ name: String, _: Body.Type, id: @escaping (Body) -> String?,
                                                 _ make: @escaping (String, Body) -> Command) {
        append(name, creates: true, acceptsEmptyBody: false) { request in
            let body = try JSONBody.decode(Body.self, from: request.body)
            let target = id(body) ?? request.newID()
            return (target, make(target, body))
        }
    }

    /// A command on an existing entity. With `emptyBody`, an empty body stands for `{}`
    /// (`NoMembersBody` is the body type of a command that takes nothing).
    public mutating func update<Body: Decodable>(_ name: String, _: Body.Type, emptyBody: Bool = false,
                                                 _ make: @escaping (Body) -> Command) {
        append(name, creates: false, acceptsEmptyBody: emptyBody) { request in
            let bytes = emptyBody && request.body.isEmpty ? Array("{}".utf8) : request.body
            return (request.id ?? "", make(try JSONBody.decode(Body.self, from: bytes)))
        }
    }

    private mutating func append(_ name: String, creates: Bool, acceptsEmptyBody: Bool,
                                 decode: @escaping (CommandRequest) throws -> (String, Command)) {
        let handle = self.handle, isCreation = self.isCreation, identity = self.identity
        routes.append(CommandRoute(name: name, creates: creates, acceptsEmptyBody: acceptsEmptyBody) { request, completion in
            let (target, command) = try decode(request)
            handle(command, target, request.context, request.concurrency) { result in
                completion(result.map { outcome in
                    // The id comes from the outcome's stream: a replayed creation whose id the server
                    // generated answers the first request's id, not this request's fresh one.
                    CommandResult(stream: outcome.stream, id: identity.id(of: outcome.stream) ?? target, version: outcome.version,
                                  position: outcome.position, created: isCreation(outcome), replayed: outcome.replayed)
                })
            }
        })
    }
}

// MARK: - Queries

/// Query-string arguments, neutral of the transport: name → values in order.
public struct QueryArguments {
    public let pairs: [(name: String, value: String)]
    public init(_ pairs: [(name: String, value: String)]) { self.pairs = pairs }

    public func first(_ name: String) -> String? { pairs.first { $0.name == name }?.value }
    public func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map { $0.value } }
    public subscript(_ name: String) -> String? { first(name) }

    /// An integer argument; a malformed one is a `QueryError`.
    public func integer(_ name: String) throws -> Int64? {
        guard let text = first(name) else { return nil }
        guard let value = Int64(text) else { throw QueryError(parameter: name, message: "must be an integer") }
        return value
    }

    /// One of an enum's raw values; another value is a `QueryError` listing them.
    public func choice<E: RawRepresentable & CaseIterable>(_ name: String, _: E.Type) throws -> E? where E.RawValue == String {
        guard let text = first(name) else { return nil }
        guard let value = E(rawValue: text) else {
            throw QueryError(parameter: name, message: "must be one of \(E.allCases.map { $0.rawValue }.joined(separator: ", "))")
        }
        return value
    }

    /// An RFC 3339 timestamp (`2026-11-26T16:00:00Z`, fractional seconds allowed), as an
    /// inclusive upper bound: event times are shown with millisecond precision, so the bound is
    /// the end of the given millisecond — `asOf` set to an event's displayed time includes it.
    public func timestamp(_ name: String) throws -> Date? {
        guard let text = first(name) else { return nil }
        guard let date = RFC3339.parse(text) else {
            throw QueryError(parameter: name, message: "must be an RFC 3339 timestamp, e.g. 2026-11-26T16:00:00Z")
        }
        let millis = (date.timeIntervalSince1970 * 1000).rounded(.down)
        return Date(timeIntervalSince1970: (millis + 0.999_999) / 1000)
    }
}

/// What a query needs: the entity id from the path (if any) and the arguments.
public struct QueryRequest {
    public let id: String?
    public let arguments: QueryArguments
    public init(id: String?, arguments: QueryArguments) { self.id = id; self.arguments = arguments }
}

/// A rendered read-model document: its bytes, the stream version it reflects (nil for lists),
/// and a hash of the bytes for its entity tag.
public struct QueryDocument: Hashable, Sendable {
    public let body: [UInt8]
    public let version: Int64?
    public let contentHash: UInt64

    public init(body: [UInt8], version: Int64?) {
        self.body = body
        self.version = version
        contentHash = Self.fnv1a(body)
    }

    /// A document whose hash is already known (a page: a hash of its items' hashes).
    public init(body: [UInt8], version: Int64?, contentHash: UInt64) {
        self.body = body
        self.version = version
        self.contentHash = contentHash
    }

    /// `value` encoded as JSON (sorted keys).
    public static func json<T: Encodable>(_ value: T, version: Int64? = nil) throws -> QueryDocument {
        QueryDocument(body: try JSONCoding.encode(value), version: version)
    }

    static func fnv1a<Bytes: Sequence<UInt8>>(_ bytes: Bytes, from seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        var h = seed
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// FNV-1a over the 8 bytes of `value`, continuing from `seed`.
    static func fnv1a(word value: UInt64, from seed: UInt64) -> UInt64 {
        var h = seed
        for shift in stride(from: 0, to: 64, by: 8) { h = (h ^ ((value >> UInt64(shift)) & 0xFF)) &* 0x100_0000_01b3 }
        return h
    }
}

/// Where a query is served, relative to its service.
public enum QueryPath: Hashable, Sendable {
    /// `/queries/<service>`
    case list
    /// `/queries/<service>/{id}`
    case item
    /// `/queries/<service>/{id}/history` (audit: scoped `admin`).
    case history
    /// `/queries/<name>`, e.g. `stats`.
    case named(String)
}

/// The answer to a query: the document, nil for "no such entity" (404), or an error
/// (`QueryError` for bad arguments).
public typealias QueryCompletion = (Result<QueryDocument?, Error>) -> Void

/// One query a service serves: from its read models at once, or (history, temporal views) from
/// its store, read off the loop.
public struct QueryRoute {
    public let path: QueryPath
    /// The stores the view reflects (its position header and `minPosition` tokens).
    public let feeds: [Feed]
    /// Answers through the completion, once, on the loop.
    public let run: (QueryRequest, @escaping QueryCompletion) -> Void

    /// A query answered at once from memory (read models).
    public init(_ path: QueryPath, feeds: [Feed] = Feed.allCases, run: @escaping (QueryRequest) throws -> QueryDocument?) {
        self.path = path
        self.feeds = feeds
        self.run = { request, completion in completion(Result { try run(request) }) }
    }

    /// A query that may have to read its store first: `run` answers through the completion.
    public init(_ path: QueryPath, feeds: [Feed] = Feed.allCases, reading run: @escaping (QueryRequest, @escaping QueryCompletion) -> Void) {
        self.path = path
        self.feeds = feeds
        self.run = run
    }
}

/// Keeps the encoded JSON of recently served documents, so a read of an unchanged document
/// costs an equality check instead of an encoding and a hash.
///
/// Keyed by document id; an entry is reused only while the view it was encoded from is equal
/// to the current one, so it can never serve stale bytes. Bounded: when full, one arbitrary
/// entry is dropped per insert. Loop-confined.
public final class DocumentCache<View: Encodable & Equatable> {
    private struct Entry {
        var view: View
        var document: QueryDocument
    }

    private var entries: [String: Entry] = [:]
    public let capacity: Int

    public init(capacity: Int = 20_000) { self.capacity = capacity }

    public func document(for key: String, view: View, version: Int64?) throws -> QueryDocument {
        if let entry = entries[key], entry.view == view { return entry.document }
        let document = try QueryDocument.json(view, version: version)
        if entries.count >= capacity, entries[key] == nil, let victim = entries.keys.first {
            entries.removeValue(forKey: victim)
        }
        entries[key] = Entry(view: view, document: document)
        return document
    }

    public var count: Int { entries.count }
}

extension DocumentCache where View: Codable & Hashable & Sendable {
    /// `page` as the bytes `JSONCoding.encode(page)` gives, built from each item's cached
    /// bytes: an item is encoded when it changed, not for every page that shows it. The
    /// page's hash (its entity tag) is a hash of the items' hashes and the cursor, so it
    /// changes whenever a document on the page does. `key` is an item's document id.
    public func document(for page: Page<View>, key: (View) -> String, version: (View) -> Int64?) throws -> QueryDocument {
        var documents: [QueryDocument] = []
        documents.reserveCapacity(page.items.count)
        var size = 32
        for item in page.items {
            let d = try document(for: key(item), view: item, version: version(item))
            size += d.body.count + 1
            documents.append(d)
        }
        var body: [UInt8] = []
        body.reserveCapacity(size + (page.nextCursor?.utf8.count ?? 0))
        body.append(contentsOf: #"{"items":["#.utf8)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for (i, d) in documents.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: d.body)
            hash = QueryDocument.fnv1a(word: d.contentHash, from: hash)
        }
        body.append(UInt8(ascii: "]"))
        if let cursor = page.nextCursor {
            body.append(contentsOf: #","nextCursor":"#.utf8)
            JSONString.write(cursor, into: &body)
            hash = QueryDocument.fnv1a(cursor.utf8, from: QueryDocument.fnv1a(word: UInt64(documents.count), from: hash))
        }
        body.append(UInt8(ascii: "}"))
        return QueryDocument(body: body, version: nil, contentHash: hash)
    }
}

// MARK: - Live views (server-sent events)

/// A change of a read model, as live views see it: which document, and the attributes list
/// filters match on as they were before the change (nil: the change created the document).
public struct LiveChange: Hashable, Sendable {
    public let id: String
    public let previousAttributes: [String: String]?
    public init(id: String, previousAttributes: [String: String]? = nil) { self.id = id; self.previousAttributes = previousAttributes }
}

/// A view a client can follow: the current state first, then every change.
public struct LiveView {
    public enum Kind {
        /// Documents by id (`/streams/queries/<service>/{id}`, several with `ids=`): an event
        /// named `event` with the document for each change, `not-found` for an unknown id.
        case documents(event: String, render: (String) -> [UInt8]?)
        /// A filtered list (`/streams/queries/<service>?<filters>`): a `snapshot` event (the
        /// first page, as the list query answers it), then `upsert` / `remove` per change.
        /// `filters` are the arguments that select documents by equal attribute.
        case list(filters: [String], snapshot: (QueryArguments) throws -> [UInt8],
                  document: (String) -> (json: [UInt8], attributes: [String: String])?)
        /// One document (`/streams/queries/<name>`), sent again whenever it changes.
        case single(name: String, event: String, render: () -> [UInt8]?)
    }

    public let kind: Kind
    /// The stores the view reflects (event ids are position tokens of these).
    public let feeds: [Feed]
    /// Registers the listener called after each change (on the loop, also during replays).
    public let observe: (@escaping (LiveChange) -> Void) -> Void

    public init(_ kind: Kind, feeds: [Feed] = Feed.allCases, observe: @escaping (@escaping (LiveChange) -> Void) -> Void) {
        self.kind = kind
        self.feeds = feeds
        self.observe = observe
    }
}

/// The body of a command that takes no members: an object (its members are ignored) or, with
/// `emptyBody`, nothing; another JSON value (`5`, `[]`, `null`) is refused like any other
/// command's malformed body (422).
public struct NoMembersBody: Codable, Equatable, Sendable {
    public init() {}
    public init(from decoder: Decoder) throws { _ = try decoder.container(keyedBy: AnyMember.self) }

    private struct AnyMember: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
