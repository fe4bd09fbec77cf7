import Foundation
import JSON

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
