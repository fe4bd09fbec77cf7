import Foundation
import HTTP

/// `GET /openapi/api.yaml` and `GET /openapi/public-events.yaml`: the specs in `openapi/`,
/// read once at start from the first directory that has them: `$TRIBUTARY_OPENAPI_DIR`,
/// `openapi/` next to the build products' repository (`<exe>/../../../openapi`), `./openapi`.
public enum SpecRoutes {
    static let files = ["api.yaml", "public-events.yaml"]

    static func install(on group: RouteGroup, executablePath: String = CommandLine.arguments.first ?? "") {
        var specs: [String: [UInt8]] = [:]
        if let dir = locate(executablePath: executablePath) {
            for name in files {
                if let data = FileManager.default.contents(atPath: dir + "/" + name) { specs[name] = Array(data) }
            }
        }
        group.get("/openapi/{file}") { context, responder in
            let name = context.parameters["file"] ?? ""
            guard let body = specs[name] else {
                return responder.respond(Problem(status: 404, type: ProblemType.uri("not-found"), title: "Not Found",
                                                 detail: "Specs served here: \(files.joined(separator: ", ")).").response)
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/yaml; charset=utf-8")
            headers.add(name: "Cache-Control", value: "no-cache")
            responder.respond(HTTPResponse(status: 200, headers: headers, body: body))
        }
    }

    public static func locate(executablePath: String) -> String? {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["TRIBUTARY_OPENAPI_DIR"] { candidates.append(env) }
        let exe = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath()
        // <repo>/.build/<triple>/<config>/tributary, or <repo>/.build/<config>/tributary
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            dir = dir.deletingLastPathComponent()
            candidates.append(dir.appendingPathComponent("openapi").path)
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/openapi")
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/api.yaml") }
    }
}
