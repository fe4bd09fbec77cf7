import CLibUV

/// An IPv4 or IPv6 socket address (numeric host + port).
public struct SocketAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Numeric host, e.g. "127.0.0.1" or "::1" (no brackets).
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses "host:port", "[v6host]:port" (e.g. "127.0.0.1:8080", "[::1]:0").
    public init?(parsing text: String) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (0...65535).contains(port) else { return nil }
            self.init(host: host, port: port)
        } else {
            guard let colon = text.lastIndex(of: ":"),
                  let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
            let host = String(text[..<colon])
            guard !host.isEmpty, !host.contains(":") else { return nil }
            self.init(host: host, port: port)
        }
    }

    /// True when `host` is an IPv6 literal.
    public var isIPv6: Bool { host.contains(":") }

    /// "host:port", with brackets around IPv6 hosts.
    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Calls `body` with this address as a `sockaddr*`; throws `UVError` if unparsable.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>) throws -> R) throws -> R {
        var storage = sockaddr_storage()
        return try withUnsafeMutablePointer(to: &storage) { ptr in
            let raw = UnsafeMutableRawPointer(ptr)
            if isIPv6 {
                try UVError.check(uv_ip6_addr(host, Int32(port), raw.assumingMemoryBound(to: sockaddr_in6.self)))
            } else {
                try UVError.check(uv_ip4_addr(host, Int32(port), raw.assumingMemoryBound(to: sockaddr_in.self)))
            }
            return try body(raw.assumingMemoryBound(to: sockaddr.self))
        }
    }

    /// Builds an address from a filled `sockaddr_storage`.
    init?(storage: UnsafePointer<sockaddr_storage>) {
        let raw = UnsafeRawPointer(storage)
        var name = [CChar](repeating: 0, count: 64)
        let family = Int32(storage.pointee.ss_family)
        if family == AF_INET {
            let sin = raw.assumingMemoryBound(to: sockaddr_in.self)
            guard uv_ip4_name(sin, &name, name.count) == 0 else { return nil }
            self.init(host: String(cString: name), port: Int(UInt16(bigEndian: sin.pointee.sin_port)))
        } else if family == AF_INET6 {
            let sin6 = raw.assumingMemoryBound(to: sockaddr_in6.self)
            guard uv_ip6_name(sin6, &name, name.count) == 0 else { return nil }
            self.init(host: String(cString: name), port: Int(UInt16(bigEndian: sin6.pointee.sin6_port)))
        } else {
            return nil
        }
    }
}
