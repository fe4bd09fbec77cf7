import EventStore
import Foundation

/// What a runtime component (read model, saga consumer) does when it cannot handle an event:
/// try again with a growing pause, up to `retries` times (a cause that goes away: a conflict
/// storm, a store that briefly could not read), then `stop` or `park`.
///
/// - `stop` (the default, and the only sound choice for a read model, whose answers are
///   correct only if every event reached it): the component halts at the event and says so in
///   `/health` until an operator resumes or rebuilds it.
/// - `park`: the event is recorded in the service's operations journal with its error, and the
///   component goes on with the next one. Later events may then overtake it; a saga consumer
///   that can live with that (each public event is an independent reaction) declares it, so one
///   bad event does not hold up every later one. An operator retries or skips parked events.
public struct FailurePolicy: Hashable, Sendable {
    public enum Exhausted: String, Hashable, Sendable {
        case stop
        case park
    }

    /// Attempts after the first failure, before `then` applies.
    public var retries: Int
    /// The pause before the first retry; each further one doubles it, up to `maxBackoff`.
    public var backoff: Duration
    public var maxBackoff: Duration
    public var then: Exhausted

    public init(retries: Int = 3, backoff: Duration = .milliseconds(200), maxBackoff: Duration = .seconds(5),
                then: Exhausted = .stop) {
        self.retries = max(0, retries)
        self.backoff = backoff
        self.maxBackoff = maxBackoff
        self.then = then
    }

    /// Retries, then stop: the default for read models.
    public static let stop = FailurePolicy()
    /// Retries, then park the event and go on.
    public static let park = FailurePolicy(then: .park)

    /// The pause before retry number `attempt` (1 for the first retry).
    public func delay(beforeRetry attempt: Int) -> Duration {
        var d = backoff
        var n = 1
        while n < attempt && d < maxBackoff { d = d * 2; n += 1 }
        return min(d, maxBackoff)
    }
}

/// Why an operator's resume was refused.
public enum ResumeError: Error, Hashable, Sendable, CustomStringConvertible {
    case notFailed(String)
    case nothingToSkip
    public var description: String {
        switch self {
        case .notFailed(let status): return "the component is \(status), not failed"
        case .nothingToSkip: return "the component stopped because its subscription failed, not on an event: resume it from where it stopped"
        }
    }
}


/// A test hook that makes a component fail on chosen events, as a bug or a bad payload would:
/// `scripts/test` and the e2e suite use it to inject a poison event into a running server
/// (`TRIBUTARY_INJECT_FAULT`, see `docs/operations.md`). Thread-safe: read models may replay
/// off the loop.
public final class ComponentFaults: @unchecked Sendable {
    /// One rule: `component` fails on events whose stream or data contains `match`, `times`
    /// times in all (nil: every time).
    public struct Rule: Hashable, Sendable {
        public var component: String
        public var match: String
        public var times: Int?
        public init(component: String, match: String, times: Int? = nil) {
            self.component = component; self.match = match; self.times = times
        }
    }

    public struct Injected: Error, CustomStringConvertible {
        public var component: String
        public var match: String
        public var description: String { "injected fault: '\(component)' cannot handle events containing '\(match)'" }
    }

    private let lock = NSLock()
    private var rules: [Rule]
    private var fired: [Int: Int] = [:]

    public init(_ rules: [Rule]) { self.rules = rules }

    /// The environment variable the server reads its rules from (a test hook: unset in
    /// production, where it costs nothing).
    public static let variable = "TRIBUTARY_INJECT_FAULT"

    /// The rules of `TRIBUTARY_INJECT_FAULT`, nil when it is unset or empty.
    /// - Throws: `SpecError` for a malformed rule (the server refuses to start).
    public static func fromEnvironment() throws -> ComponentFaults? {
        guard let spec = ProcessInfo.processInfo.environment[variable], !spec.isEmpty else { return nil }
        return try ComponentFaults(parsing: spec)
    }

    /// Parses `component=NAME,match=TEXT[,times=N]` rules separated by `;`.
    public convenience init(parsing spec: String) throws {
        var rules: [Rule] = []
        for part in spec.split(separator: ";") where !part.allSatisfy({ $0 == " " }) {
            var fields: [String: String] = [:]
            for kv in part.split(separator: ",") {
                let pair = kv.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces }
                guard pair.count == 2 else { throw SpecError(spec: String(part)) }
                fields[pair[0]] = pair[1]
            }
            guard let component = fields["component"], let match = fields["match"], !component.isEmpty, !match.isEmpty else {
                throw SpecError(spec: String(part))
            }
            var times: Int?
            if let t = fields["times"] {
                guard let n = Int(t), n > 0 else { throw SpecError(spec: String(part)) }
                times = n
            }
            rules.append(Rule(component: component, match: match, times: times))
        }
        self.init(rules)
    }

    public struct SpecError: Error, CustomStringConvertible {
        public var spec: String
        public var description: String { "fault rule '\(spec)': expected component=NAME,match=TEXT[,times=N]" }
    }

    /// Throws `Injected` when a rule for `component` matches `event` and has not used up its times.
    public func check(_ component: String, stream: String, data: [UInt8]) throws {
        lock.lock()
        defer { lock.unlock() }
        for (i, rule) in rules.enumerated() where rule.component == component {
            guard stream.contains(rule.match) || String(decoding: data, as: UTF8.self).contains(rule.match) else { continue }
            if let times = rule.times {
                guard fired[i, default: 0] < times else { continue }
                fired[i, default: 0] += 1
            }
            throw Injected(component: component, match: rule.match)
        }
    }

    /// Whether any rule names `component`.
    public func covers(_ component: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return rules.contains { $0.component == component }
    }
}

private extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
