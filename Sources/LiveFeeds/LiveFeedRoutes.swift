import API
import CQRS
import EventStore
import HTTP
import Metrics
import UV

/// The server-sent-event feeds (`/streams/...`): the public log and every service's live
/// views, with the subscriber registry they share (caps, heartbeats, lifetimes, metrics).
public final class LiveFeeds {
    let registry: SubscriberRegistry
    let publicFeed: PublicLogFeed
    private var viewFeeds: [ViewFeeds] = []
    private var healthFeed: HealthFeed?

    public init(settings: LiveFeedSettings, loop: EventLoop, executor: CompletionExecutor, publicLog: EventStore,
                metrics: MetricsRegistry) {
        registry = SubscriberRegistry(settings: settings, loop: loop, metrics: metrics)
        publicFeed = PublicLogFeed(store: publicLog, loop: loop, executor: executor, registry: registry)
    }

    /// Registers `/streams/public` and each service's view streams on `group` (the `/streams`
    /// group: its scope and API side are declared there).
    /// Registers `/streams/health` (the `/health` document, live) on `group`.
    public func installHealth(on group: RouteGroup, document: HealthDocument) {
        let feed = HealthFeed(document: document, registry: registry)
        healthFeed = feed
        group.get("/health") { context, responder in feed.handle(context, responder) }
    }

    public func install(on group: RouteGroup, services: [ServiceAPI]) {
        group.get("/public") { [publicFeed] context, responder in publicFeed.handle(context, responder) }
        for service in services where !service.liveViews.isEmpty {
            let feeds = ViewFeeds(service: service, loop: registry.loop, registry: registry)
            viewFeeds.append(feeds)
            if feeds.servesCollection {
                group.get("/queries/\(service.name)") { context, responder in feeds.handleCollection(context, responder) }
            }
            if feeds.servesDocuments {
                group.get("/queries/\(service.name)/{id}") { context, responder in feeds.handleDocuments(context, responder) }
            }
            for name in feeds.singleNames {
                group.get("/queries/\(name)") { context, responder in feeds.handleSingle(name, context, responder) }
            }
        }
    }

    /// Starts following the public log (its live tail).
    public func start() { publicFeed.start() }

    /// Open subscribers, all feeds together.
    public var subscriberCount: Int { registry.count }

    /// Shutdown: ends every stream cleanly and closes the feeds' handles.
    public func close() {
        healthFeed?.close()
        publicFeed.close()
        for f in viewFeeds { f.close() }
        registry.close()
    }
}
