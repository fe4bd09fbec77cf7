import UV

/// Reads HTTP/1.1 responses off one keep-alive connection, one at a time (the generator never
/// pipelines): the status code and whether the server will close, the body skipped by its
/// Content-Length. Anything else (no length, chunked bodies, bytes nobody asked for) is an
/// error that closes the connection: the servers measured here always send a length.
struct ResponseReader {
    enum Outcome: Equatable {
        case needMore
        case response(status: Int, closes: Bool)
        case error(String)
    }

    private var head: [UInt8] = []
    private var bodyLeft = -1
    private var status = 0
    private var closes = false
    /// Longest response head accepted.
    static let maxHead = 16 << 10

    /// Consumes bytes from `chunk`; returns when a response is complete (with the bytes after
    /// it left unread: `consumed` says how far it read) or the chunk is used up.
    mutating func feed(_ chunk: ReadChunk, consumed: inout Int) -> Outcome {
        var i = chunk.startIndex + consumed
        defer { consumed = i - chunk.startIndex }
        while i < chunk.endIndex {
            if bodyLeft < 0 {
                head.append(chunk[i])
                i += 1
                if head.count > Self.maxHead { return .error("response head over \(Self.maxHead) bytes") }
                if head.count >= 4, head[head.count - 4] == 0x0D, head[head.count - 3] == 0x0A, head[head.count - 2] == 0x0D, head[head.count - 1] == 0x0A {
                    if let problem = parseHead() { return .error(problem) }
                    if bodyLeft == 0 { return finish() }
                }
            } else {
                let take = min(bodyLeft, chunk.endIndex - i)
                bodyLeft -= take
                i += take
                if bodyLeft == 0 { return finish() }
            }
        }
        return .needMore
    }

    private mutating func finish() -> Outcome {
        let outcome = Outcome.response(status: status, closes: closes)
        head.removeAll(keepingCapacity: true)
        bodyLeft = -1
        status = 0
        closes = false
        return outcome
    }

    /// Status line and the two headers that matter; nil when fine.
    private mutating func parseHead() -> String? {
        let text = String(decoding: head, as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1."),
              let code = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }), (100...599).contains(code) else {
            return "not an HTTP/1.x status line"
        }
        status = code
        var length: Int?
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces
            switch name {
            case "content-length": length = Int(value)
            case "transfer-encoding": return "a Transfer-Encoding response (\(value)); the generator reads Content-Length bodies only"
            case "connection": closes = value.lowercased().contains("close")
            default: break
            }
        }
        guard let length, length >= 0 else {
            guard code == 204 || code == 304 else { return "a response without Content-Length" }
            bodyLeft = 0
            return nil
        }
        bodyLeft = length
        return nil
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}
