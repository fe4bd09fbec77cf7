import CLibUV

/// A libuv error code (always negative, e.g. `UV_ECONNRESET`) with its symbolic name.
public struct UVError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The raw negative libuv error code.
    public let code: Int32

    public init(_ code: Int32) { self.code = code }

    /// The symbolic name, e.g. "ECONNRESET".
    public var name: String { String(cString: uv_err_name(code)) }

    public var description: String { "\(name): \(String(cString: uv_strerror(code)))" }

    /// End of stream: the peer closed its write side.
    public static let eof = UVError(Int32(UV_EOF.rawValue))
    /// Address already in use.
    public static let addressInUse = UVError(Int32(UV_EADDRINUSE.rawValue))
    /// The handle was closed before the operation completed.
    public static let cancelled = UVError(Int32(UV_ECANCELED.rawValue))
    /// Invalid argument (e.g. an unparsable address).
    public static let invalidArgument = UVError(Int32(UV_EINVAL.rawValue))
    /// The handle is closed or closing.
    public static let closed = UVError(Int32(UV_EBADF.rawValue))

    /// Throws when `result` is a libuv error (negative), returns it otherwise.
    @discardableResult
    static func check(_ result: Int32) throws -> Int32 {
        if result < 0 { throw UVError(result) }
        return result
    }
}
