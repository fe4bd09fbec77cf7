import CLibUV
/// The libuv version linked at run time, e.g. "1.44.2".
public var libuvVersion: String { String(cString: uv_version_string()) }
