// libFuzzer target for HTTPRequestParser. Built by scripts/fuzz-http through Fuzz/Package.swift,
// on the HTTP module (testable: it may use the parser's internals).
//
// Besides "does not crash" (ASan + Swift runtime traps), every input checks invariants:
// - the events do not depend on how the input is split (whole, byte by byte, a split pattern
//   derived from the input itself);
// - every .request follows exactly one .head of the same request; an .error is last and has a
//   known status;
// - a .request's body length equals its Content-Length, a chunked one carries no Content-Length,
//   no body exceeds maxBodyBytes, HTTP/1.1 requests carry exactly one Host;
// - bufferedByteCount never exceeds what was appended;
// - a request has one reading (OneReadingMiddleware): it is refused with a 400 exactly when a
//   singleton header field or a non-list query parameter appears twice, counted here apart.

@testable import HTTP
import API

struct Digest: Equatable {
    var lines: [String] = []
}

func describe(_ head: HTTPRequestHead) -> String {
    var s = "\(head.method) \(head.target) \(head.version) ka=\(head.keepAlive) c=\(head.expectsContinue)"
    for field in head.headers { s += "|\(field.name)=\(field.value)" }
    return s
}

func fail(_ message: String) -> Never {
    fatalError("fuzz invariant violated: \(message)")
}

/// Feeds `data` in pieces whose sizes cycle through `pattern`, checking per-event invariants.
func run(_ data: [UInt8], pattern: [Int], limits: HTTPParserLimits) -> [String] {
    var parser = HTTPRequestParser(limits: limits)
    var out: [String] = []
    var offset = 0
    var step = 0
    var appended = 0
    var pendingHead: String?
    var sawError = false
    repeat {
        let size = max(1, pattern[step % pattern.count])
        step += 1
        let end = min(data.count, offset + size)
        parser.append(data[offset..<end])
        if !sawError { appended += end - offset }
        offset = end
        if parser.bufferedByteCount < 0 || parser.bufferedByteCount > appended {
            fail("bufferedByteCount \(parser.bufferedByteCount) vs appended \(appended)")
        }
        while let event = parser.next() {
            if sawError { fail("event after error") }
            switch event {
            case .head(let head):
                if pendingHead != nil { fail("two heads without a request") }
                let d = describe(head)
                pendingHead = d
                out.append("H " + d)
                if head.method.isEmpty { fail("empty method") }
                if !(head.target.hasPrefix("/") || (head.target == "*" && head.method == "OPTIONS")) {
                    fail("bad target \(head.target)")
                }
                if head.version == .http1_1 && head.headers.values("Host").count != 1 { fail("Host count") }
                let cl = head.headers.values("Content-Length")
                let te = head.headers.values("Transfer-Encoding")
                if cl.count > 1 || te.count > 1 || (!cl.isEmpty && !te.isEmpty) { fail("framing headers") }
                if let value = cl.first, let n = Int(value), n > limits.maxBodyBytes { fail("CL over limit") }
            case .request(let request):
                let d = describe(request.head)
                guard pendingHead == d else { fail("request without matching head") }
                pendingHead = nil
                out.append("R " + d + " body=\(request.body)")
                if let value = request.head.headers["Content-Length"] {
                    guard let n = Int(value), n == request.body.count else { fail("body length != Content-Length") }
                }
                if request.body.count > limits.maxBodyBytes { fail("body over limit") }
                checkOneReading(request.head)
            case .error(let error):
                if ![400, 413, 414, 417, 431, 505].contains(error.status) { fail("status \(error.status)") }
                sawError = true
                out.append("E \(error.status)")
            }
        }
    } while offset < data.count
    if sawError && parser.bufferedByteCount != 0 { fail("buffer kept after error") }
    return out
}

/// Whether `head` repeats a singleton header or parameter, counted without the middleware's code.
func repeatsASingleton(_ head: HTTPRequestHead) -> Bool {
    for name in OneReadingMiddleware.singletonHeaders {
        let fields = head.headers.filter { $0.name.lowercased() == name.lowercased() }
        if fields.count > 1 { return true }
    }
    var counts: [String: Int] = [:]
    for item in QueryParameters(parsing: head.query).items where !OneReadingMiddleware.listParameters.contains(item.name) {
        counts[item.name, default: 0] += 1
    }
    return counts.values.contains { $0 > 1 }
}

func checkOneReading(_ head: HTTPRequestHead) {
    let problem = OneReadingMiddleware.problem(for: head)
    if (problem != nil) != repeatsASingleton(head) { fail("one reading: \(describe(head)) -> \(String(describing: problem?.type))") }
    if let problem, problem.status != 400 { fail("one reading: status \(problem.status)") }
}

public func fuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Array(UnsafeRawBufferPointer(start: start, count: count))
    // Small limits so the fuzzer reaches the 413/414/431 paths; default limits for the rest.
    let small = HTTPParserLimits(maxRequestLineBytes: 64, maxHeaderBytes: 160, maxHeaderCount: 6, maxBodyBytes: 48)
    for limits in [small, HTTPParserLimits()] {
        let whole = run(data, pattern: [Int.max / 2], limits: limits)
        let bytewise = run(data, pattern: [1], limits: limits)
        if whole != bytewise { fail("whole \(whole) != byte-by-byte \(bytewise)") }
        let pattern = data.prefix(4).map { Int($0 % 13) + 1 }
        if !pattern.isEmpty {
            let split = run(data, pattern: pattern, limits: limits)
            if whole != split { fail("whole \(whole) != split \(pattern) \(split)") }
        }
    }
    return 0
}
