import Foundation

/// A query parameter in PostgreSQL's binary format, with its type's OID.
struct PGParam {
    let oid: UInt32
    /// nil: SQL NULL.
    let bytes: [UInt8]?

    static let null = PGParam(oid: 0, bytes: nil)
    static func text(_ s: String) -> PGParam { PGParam(oid: OID.text, bytes: Array(s.utf8)) }
    static func int64(_ v: Int64) -> PGParam { PGParam(oid: OID.int8, bytes: BigEndian.bytes(v)) }
    static func int32(_ v: Int32) -> PGParam { PGParam(oid: OID.int4, bytes: BigEndian.bytes(v)) }
    static func bytea(_ b: [UInt8]) -> PGParam { PGParam(oid: OID.bytea, bytes: b) }
    static func bool(_ b: Bool) -> PGParam { PGParam(oid: OID.bool, bytes: [b ? 1 : 0]) }
    static func textArray(_ a: [String]) -> PGParam { array(OID.textArray, OID.text, a.map { Array($0.utf8) }) }
    static func int64Array(_ a: [Int64]) -> PGParam { array(OID.int8Array, OID.int8, a.map(BigEndian.bytes)) }
    static func int32Array(_ a: [Int32]) -> PGParam { array(OID.int4Array, OID.int4, a.map(BigEndian.bytes)) }
    static func byteaArray(_ a: [[UInt8]]) -> PGParam { array(OID.byteaArray, OID.bytea, a) }
    static func uuidArray(_ a: [[UInt8]]) -> PGParam { array(OID.uuidArray, OID.uuid, a) }

    /// A one-dimensional array without NULLs: ndim, has-null flag, element OID, length, lower
    /// bound 1, then each element as a length-prefixed value.
    private static func array(_ oid: UInt32, _ element: UInt32, _ items: [[UInt8]]) -> PGParam {
        // An empty array has no dimensions.
        if items.isEmpty { return PGParam(oid: oid, bytes: BigEndian.bytes(Int32(0)) + BigEndian.bytes(Int32(0)) + BigEndian.bytes(Int32(bitPattern: element))) }
        var out: [UInt8] = []
        out.reserveCapacity(20 + items.reduce(0) { $0 + $1.count + 4 })
        out += BigEndian.bytes(Int32(1)) + BigEndian.bytes(Int32(0)) + BigEndian.bytes(Int32(bitPattern: element))
        out += BigEndian.bytes(Int32(items.count)) + BigEndian.bytes(Int32(1))
        for item in items {
            out += BigEndian.bytes(Int32(item.count))
            out += item
        }
        return PGParam(oid: oid, bytes: out)
    }
}

/// The type OIDs this engine uses (stable across PostgreSQL versions).
enum OID {
    static let bool: UInt32 = 16, bytea: UInt32 = 17, int8: UInt32 = 20, int4: UInt32 = 23, text: UInt32 = 25, uuid: UInt32 = 2950
    static let int4Array: UInt32 = 1007, textArray: UInt32 = 1009, int8Array: UInt32 = 1016, byteaArray: UInt32 = 1001, uuidArray: UInt32 = 2951
}

enum BigEndian {
    static func bytes(_ v: Int64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * $0)) } }
    static func bytes(_ v: Int32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
    static func int64(_ b: [UInt8]) -> Int64 { b.prefix(8).reduce(0) { $0 << 8 | Int64($1) } }
    static func int32(_ b: [UInt8]) -> Int32 { Int32(truncatingIfNeeded: b.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }) }
}

/// A query: SQL with `$n` placeholders and binary parameters; results come in binary too.
struct PGQuery {
    let sql: String
    let params: [PGParam]
    init(_ sql: String, _ params: [PGParam] = []) { self.sql = sql; self.params = params }
}

/// What a query returned: rows of binary column values (nil: NULL), copied out of libpq.
struct PGRows {
    var columns: [String] = []
    var rows: [[[UInt8]?]] = []
    /// Rows affected, for commands.
    var affected = 0

    func int64(_ row: Int, _ column: Int) -> Int64? { rows[row][column].map(BigEndian.int64) }
    func int32(_ row: Int, _ column: Int) -> Int32? { rows[row][column].map(BigEndian.int32) }
    func text(_ row: Int, _ column: Int) -> String? { rows[row][column].map { String(decoding: $0, as: UTF8.self) } }
    func bytes(_ row: Int, _ column: Int) -> [UInt8]? { rows[row][column] }
}

/// A failed connection or query: libpq's message, and the SQLSTATE when the server sent one.
struct PGError: Error, CustomStringConvertible {
    let message: String
    let sqlState: String?
    /// The connection is gone (the query's outcome may be unknown).
    let connectionLost: Bool

    init(_ message: String, sqlState: String? = nil, connectionLost: Bool = false) {
        // libpq's messages run over several lines (a hint on the next, tab-indented): one line.
        self.message = message.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        self.sqlState = sqlState
        self.connectionLost = connectionLost
    }

    var description: String { sqlState.map { "\(message) (SQLSTATE \($0))" } ?? message }
}
