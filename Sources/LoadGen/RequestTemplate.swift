/// One kind of request the generator sends, with its share of the load: `WEIGHT METHOD PATH
/// [BODY]`. The path and body may hold placeholders, filled per request:
///
/// - `{n}`: the request's sequence number in this run (unique: ids that must be new);
/// - `{run}`: the run's id (`--run`), so that runs against one server do not collide;
/// - `{r:K}`: a random integer in `0..<K` (one of K seeded entities).
struct RequestTemplate {
    enum Piece {
        case text([UInt8])
        case sequence
        case run
        case random(UInt64)
    }

    let weight: Int
    let method: String
    let path: [Piece]
    let body: [Piece]?

    /// Parses `WEIGHT METHOD PATH [BODY]` (the body is the rest of the line, spaces included).
    init(parsing spec: String) throws {
        let parts = spec.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
        guard parts.count >= 3, let weight = Int(parts[0]), weight > 0 else {
            throw LoadError("--request '\(spec)': expected 'WEIGHT METHOD PATH [BODY]' with WEIGHT a positive integer")
        }
        let method = String(parts[1])
        guard !method.isEmpty, method.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
            throw LoadError("--request '\(spec)': the method must be upper-case letters, e.g. POST")
        }
        guard parts[2].hasPrefix("/") else { throw LoadError("--request '\(spec)': the path must start with /") }
        self.weight = weight
        self.method = method
        path = try Self.pieces(String(parts[2]))
        body = parts.count == 4 ? try Self.pieces(String(parts[3])) : nil
    }

    static func pieces(_ text: String) throws -> [Piece] {
        var out: [Piece] = []
        var literal: [UInt8] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            literal += Array(rest[..<open].utf8)
            guard let close = rest[open...].firstIndex(of: "}") else {
                literal += Array(rest[open...].utf8)
                rest = ""
                break
            }
            let name = rest[rest.index(after: open)..<close]
            let piece: Piece?
            switch name {
            case "n": piece = .sequence
            case "run": piece = .run
            default:
                if name.hasPrefix("r:"), let k = UInt64(name.dropFirst(2)), k > 0 { piece = .random(k) } else { piece = nil }
            }
            if let piece {
                if !literal.isEmpty { out.append(.text(literal)); literal = [] }
                out.append(piece)
                rest = rest[rest.index(after: close)...]
            } else {
                // Not a placeholder (a JSON object's brace): kept, and the scan goes on after it.
                literal.append(0x7B)
                rest = rest[rest.index(after: open)...]
            }
        }
        literal += Array(rest.utf8)
        if !literal.isEmpty { out.append(.text(literal)) }
        return out
    }

    /// The request's bytes: request line, headers, body.
    func render(sequence: UInt64, run: [UInt8], host: [UInt8], random: inout SplitMix) -> [UInt8] {
        func fill(_ pieces: [Piece], into out: inout [UInt8]) {
            for p in pieces {
                switch p {
                case .text(let t): out += t
                case .sequence: out += Array(String(sequence).utf8)
                case .run: out += run
                case .random(let k): out += Array(String(random.next() % k).utf8)
                }
            }
        }
        var body: [UInt8] = []
        if let b = self.body { fill(b, into: &body) }
        var out: [UInt8] = []
        out.reserveCapacity(160 + body.count)
        out += Array(method.utf8)
        out.append(0x20)
        fill(path, into: &out)
        out += Array(" HTTP/1.1\r\nHost: ".utf8)
        out += host
        if self.body != nil {
            out += Array("\r\nContent-Type: application/json\r\nContent-Length: \(body.count)".utf8)
        }
        out += Array("\r\n\r\n".utf8)
        out += body
        return out
    }
}

/// A small, fast, seedable generator (SplitMix64): the same seed gives the same requests.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct LoadError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
