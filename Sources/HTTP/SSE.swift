import UV

/// One server-sent event (WHATWG HTML "server-sent events" framing).
public struct SSEEvent: Sendable, Equatable {
    public var id: String?
    public var event: String?
    public var data: String
    /// Reconnection time hint for the client, in milliseconds.
    public var retry: Int?

    public init(id: String? = nil, event: String? = nil, data: String, retry: Int? = nil) {
        self.id = id
        self.event = event
        self.data = data
        self.retry = retry
    }

    /// The frame bytes: `id:`/`event:`/`retry:` lines, one `data:` line per line of
    /// `data` (split on CRLF, CR and LF), then the blank line that dispatches it.
    /// CR/LF in `id` and `event` are removed (they would end the field early).
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.utf8.count + 32)
        if let id { SSE.appendField("id", SSE.singleLine(id), to: &out) }
        if let event { SSE.appendField("event", SSE.singleLine(event), to: &out) }
        if let retry { SSE.appendField("retry", String(retry), to: &out) }
        for line in SSE.lines(of: data) { SSE.appendField("data", line, to: &out) }
        out.append(0x0A)
        return out
    }
}

/// SSE framing helpers and the standard response head.
public enum SSE {
    /// The response head for an event stream: `text/event-stream`, no caching, no proxy buffering.
    public static func responseHead(extraHeaders: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var headers = extraHeaders
        headers.set(name: "Content-Type", value: "text/event-stream; charset=utf-8")
        headers.set(name: "Cache-Control", value: "no-cache, no-store")
        headers.set(name: "X-Accel-Buffering", value: "no")
        return HTTPResponse(status: 200, headers: headers)
    }

    /// The comment sent first, so clients and proxies see the stream open at once.
    public static let initialComment: [UInt8] = Array(":ok\n\n".utf8)

    /// A comment frame (ignored by clients; used for heartbeats). Multi-line text
    /// becomes several comment lines.
    public static func comment(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        for line in lines(of: text) {
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: line.utf8)
            out.append(0x0A)
        }
        out.append(0x0A)
        return out
    }

    static func appendField(_ name: String, _ value: Substring, to out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: ":"))
        if !value.isEmpty { out.append(0x20) }
        out.append(contentsOf: value.utf8)
        out.append(0x0A)
    }

    static func appendField(_ name: String, _ value: String, to out: inout [UInt8]) {
        appendField(name, value[...], to: &out)
    }

    static func singleLine(_ s: String) -> String {
        String(s.unicodeScalars.filter { $0 != "\r" && $0 != "\n" })
    }

    /// Splits on CRLF, CR or LF (each counts once); "" gives one empty line.
    static func lines(of text: String) -> [Substring] {
        var result: [Substring] = []
        var start = text.startIndex
        var i = text.startIndex
        // Work on unicode scalars: "\r\n" is a single Character in Swift.
        let scalars = text.unicodeScalars
        var si = scalars.startIndex
        while si != scalars.endIndex {
            let c = scalars[si]
            if c == "\r" || c == "\n" {
                i = si
                result.append(text[start..<i])
                var next = scalars.index(after: si)
                if c == "\r", next != scalars.endIndex, scalars[next] == "\n" { next = scalars.index(after: next) }
                si = next
                start = si
                continue
            }
            si = scalars.index(after: si)
        }
        result.append(text[start...])
        return result
    }
}

/// Writes SSE frames to a `ResponseStream` and sends comment heartbeats on a timer.
/// Loop-confined. Closing (either side) stops the heartbeat timer.
public final class SSEWriter {
    public let stream: ResponseStream
    private var heartbeat: LoopTimer?

    /// Starts the stream on `responder` (headers from `SSE.responseHead`), sends the
    /// initial `:ok` comment and, if `heartbeatMilliseconds > 0`, a `:` comment that often.
    /// `onClose` reports why the stream ended (client gone, shutdown, finished).
    /// Returns nil if the client is already gone.
    public init?(responder: Responder, loop: EventLoop, heartbeatMilliseconds: UInt64 = 15_000,
                 extraHeaders: HTTPHeaders = HTTPHeaders(),
                 onClose: ((ResponseStream.CloseReason) -> Void)? = nil) {
        var timer: LoopTimer?
        guard let stream = responder.startStream(SSE.responseHead(extraHeaders: extraHeaders), onClose: { reason in
            timer?.close()
            timer = nil
            onClose?(reason)
        }) else { return nil }
        self.stream = stream
        stream.write(SSE.initialComment)
        if heartbeatMilliseconds > 0 && stream.isOpen {
            let t = LoopTimer(loop: loop)
            t.start(timeout: heartbeatMilliseconds, repeat: heartbeatMilliseconds) { [weak stream] in
                stream?.write(SSE.comment(""))
            }
            timer = t
            heartbeat = t
        }
    }

    /// Sends one event (ignored once the stream is closed).
    public func send(_ event: SSEEvent) { stream.write(event.encoded) }

    /// Sends a comment frame.
    public func sendComment(_ text: String) { stream.write(SSE.comment(text)) }

    public var isOpen: Bool { stream.isOpen }

    /// Ends the stream (closes the connection after queued frames).
    public func finish() {
        heartbeat?.close()
        heartbeat = nil
        stream.finish()
    }
}
