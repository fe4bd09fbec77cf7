import Foundation

/// Hand-written decoding of the hottest payloads over the strict decoder's tape, without the
/// `Codable` machinery (a container box and a generic call per field).
///
/// The contract is the strict decoder's: the value a synthesized `Decodable` conformance would
/// give, or nil. A reader gives up (the `read` closure's error) on a missing key or a type
/// mismatch; unknown keys are ignored, as synthesized conformances do. The caller then decodes
/// the same bytes through `JSONCoding.decode`, which gives the value or Foundation's error.
/// Each hand-written reader needs a test that it agrees with its type's `Decodable`.
public struct JSONObjectReader {
    let tape: StrictJSONDecoder.Tape
    let object: Int

    /// Reads the JSON object in `bytes` with `read`; nil when the strict decoder does not accept
    /// the document, the root is no object, or `read` throws.
    public static func read<T>(_ bytes: [UInt8], _ read: (JSONObjectReader) throws -> T) -> T? {
        guard let tape = StrictJSONDecoder.tape(bytes), tape.tokens[0].kind == .object else { return nil }
        return try? read(JSONObjectReader(tape: tape, object: 0))
    }

    private func member(_ key: String) throws -> Int {
        guard let at = tape.member(key, of: object) else { throw StrictJSONDecoder.GaveUp() }
        return at
    }

    public func string(_ key: String) throws -> String { try StrictJSONDecoder.string(tape, try member(key)) }
    public func int(_ key: String) throws -> Int { try StrictJSONDecoder.integer(Int.self, tape, try member(key)) }
    public func int64(_ key: String) throws -> Int64 { try StrictJSONDecoder.integer(Int64.self, tape, try member(key)) }

    /// The string under `key` as a `String`-backed enum (what its synthesized `Decodable` reads).
    public func value<E: RawRepresentable>(_: E.Type, _ key: String) throws -> E where E.RawValue == String {
        guard let value = E(rawValue: try string(key)) else { throw StrictJSONDecoder.GaveUp() }
        return value
    }

    /// The object under `key`.
    public func object(_ key: String) throws -> JSONObjectReader {
        let at = try member(key)
        guard tape.tokens[at].kind == .object else { throw StrictJSONDecoder.GaveUp() }
        return JSONObjectReader(tape: tape, object: at)
    }

    /// The array of objects under `key`, each read with `element`.
    public func objects<T>(_ key: String, _ element: (JSONObjectReader) throws -> T) throws -> [T] {
        let at = try member(key)
        let array = tape.tokens[at]
        guard array.kind == .array else { throw StrictJSONDecoder.GaveUp() }
        var result: [T] = []
        result.reserveCapacity(Int(array.payload))
        var i = at + 1
        for _ in 0..<array.payload {
            guard tape.tokens[i].kind == .object else { throw StrictJSONDecoder.GaveUp() }
            result.append(try element(JSONObjectReader(tape: tape, object: i)))
            i = tape.tokens[i].next
        }
        return result
    }
}

extension JSONCoding {
    /// `read` over the strict decoder's tape when it accepts the document, else `Codable`
    /// through `decode(_:from:)`, which gives the same value or Foundation's error.
    public static func decode<T: Decodable>(_: T.Type, from bytes: [UInt8], reader read: (JSONObjectReader) throws -> T) throws -> T {
        if let value = JSONObjectReader.read(bytes, read) { return value }
        return try decode(T.self, from: bytes)
    }
}

extension EncodedEvent {
    /// The payload through a hand-written reader (see `JSONCoding.decode(_:from:reader:)`).
    public func decodeJSON<T: Decodable>(reader read: (JSONObjectReader) throws -> T) throws -> T {
        try JSONCoding.decode(T.self, from: data, reader: read)
    }
}

/// Test support for hand-written readers, as `DeciderScenario` is for deciders: a reader must
/// give what its type's `Decodable` conformance gives through Foundation, or nothing. The same
/// check serves any decoder with that contract (the strict decoder's own tests use it).
public enum JSONReaderCheck {
    public struct Report {
        /// Disagreements as readable lines (none: they agree).
        public var problems: [String]
        /// Edited documents the decoder accepted (each then agreed with Foundation or is a problem).
        public var editsAccepted: Int
    }

    /// How `read` disagrees with Foundation's `JSONDecoder` for `T` (see `check`).
    public static func disagreements<T: Codable & Equatable>(_ read: (JSONObjectReader) throws -> T, samples: [T],
                                                             edits: Int = 2_000, seed: UInt64 = 1) -> [String] {
        check(decode: { JSONObjectReader.read($0, read) }, samples: samples, edits: edits, seed: seed).problems
    }

    /// Checks `decode` against Foundation's `JSONDecoder`: on the encoding of every sample (it
    /// must return the sample) and on `edits` documents made from those encodings by up to
    /// `editsPerDocument` random byte edits each (whatever it returns, Foundation must return
    /// too; most edits break the document and both refuse it).
    public static func check<T: Codable & Equatable>(decode: ([UInt8]) -> T?, samples: [T], edits: Int = 2_000,
                                                     seed: UInt64 = 1, editsPerDocument: Int = 2) -> Report {
        var report = Report(problems: [], editsAccepted: 0)
        var encodings: [[UInt8]] = []
        for sample in samples {
            guard let bytes = try? JSONCoding.encode(sample) else { report.problems.append("cannot encode \(sample)"); continue }
            encodings.append(bytes)
            let got = decode(bytes)
            if got != sample { report.problems.append("\(text(bytes)): decoder gave \(got.map { "\($0)" } ?? "nothing"), expected \(sample)") }
        }
        guard !encodings.isEmpty else { return report }
        let alphabet = Array(#"{}[]":,\"-0123456789eE.+ tfnul\u00e9\ud83d "#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xA9, 0xFF]
        var state = seed
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        for round in 0..<edits {
            var bytes = encodings[round % encodings.count]
            for _ in 0...next(max(1, editsPerDocument)) where !bytes.isEmpty {
                let at = next(bytes.count)
                switch next(3) {
                case 0: bytes[at] = alphabet[next(alphabet.count)]
                case 1: bytes.insert(alphabet[next(alphabet.count)], at: at)
                default: bytes.remove(at: at)
                }
            }
            guard let fast = decode(bytes) else { continue }
            report.editsAccepted += 1
            let slow = try? JSONDecoder().decode(T.self, from: Data(bytes))
            if slow != fast { report.problems.append("\(text(bytes)): decoder gave \(fast), Foundation \(slow.map { "\($0)" } ?? "an error")") }
        }
        return report
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
