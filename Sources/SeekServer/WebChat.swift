import Foundation
import Hummingbird
import SeekChatStore

/// Adds the web chat: the page at `/` with its files under `/assets/`, open to anyone so the
/// page can load and then ask for the API key, and `/api/conversations`, behind the same key
/// as the rest of the API. Call it before the router-wide `AuthMiddleware` is added (Hummingbird
/// applies a middleware only to the routes added after it).
func addWebChat<Context: RequestContext>(to router: Router<Context>, options: ServerOptions) {
    let assets = WebAssets.shared
    router.get("/") { request, _ in assets.response(for: "index.html", request: request) }
    router.get("index.html") { request, _ in assets.response(for: "index.html", request: request) }
    router.get("favicon.ico") { request, _ in assets.response(for: "icon.svg", request: request) }
    router.head("/") { request, _ in assets.response(for: "index.html", request: request, headOnly: true) }
    router.head("assets/:file") { request, context in
        assets.response(for: try context.parameters.require("file"), request: request, headOnly: true)
    }
    router.get("assets/:file") { request, context in
        assets.response(for: try context.parameters.require("file"), request: request)
    }
    let group = router.group()
    if let key = options.apiKey, !key.isEmpty { group.add(middleware: AuthMiddleware(key: key)) }
    let api = Conversations(store: options.conversations, maxBodyBytes: options.maxBodyBytes)
    group.get("api/conversations") { request, _ in try await api.list(request) }
    group.post("api/conversations") { request, _ in try await api.create(request) }
    group.get("api/conversations/:id") { _, context in try await api.get(context.parameters.require("id")) }
    group.patch("api/conversations/:id") { request, context in try await api.patch(context.parameters.require("id"), request) }
    group.delete("api/conversations/:id") { _, context in try await api.delete(context.parameters.require("id")) }
}

/// The page's files (Sources/SeekServer/Web, a SwiftPM resource), read once. SwiftPM puts them in
/// `swiftseek_SeekServer.resources` beside the binary; the folder is looked up by hand rather than
/// through `Bundle.module`, which stops the process when the folder is missing.
struct WebAssets: Sendable {
    struct Asset: Sendable {
        let bytes: ByteBuffer
        let contentType: String
        let etag: String
    }

    let files: [String: Asset]
    /// Why there are no files, when there are none.
    let problem: String?

    static let shared = WebAssets.load()

    static let bundleName = "swiftseek_SeekServer.resources"

    static func candidateFolders() -> [URL] {
        var urls: [URL] = []
        if let exe = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent() {
            urls.append(exe.appendingPathComponent(bundleName).appendingPathComponent("Web"))
        }
        urls.append(Bundle.main.bundleURL.appendingPathComponent(bundleName).appendingPathComponent("Web"))
        // A binary run from its build folder without the bundle: the sources, if they are still there.
        urls.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Web"))
        return urls
    }

    static func load() -> WebAssets {
        let fm = FileManager.default
        for folder in candidateFolders() where fm.fileExists(atPath: folder.appendingPathComponent("index.html").path) {
            var files: [String: Asset] = [:]
            for name in (try? fm.contentsOfDirectory(atPath: folder.path)) ?? [] where !name.hasPrefix(".") {
                guard let data = fm.contents(atPath: folder.appendingPathComponent(name).path) else { continue }
                files[name] = Asset(bytes: ByteBuffer(bytes: data), contentType: contentType(name), etag: "\"\(fnv1a(data))\"")
            }
            return WebAssets(files: files, problem: nil)
        }
        return WebAssets(files: [:], problem: "the web chat's files were not found (looked in \(candidateFolders().map(\.path).joined(separator: ", "))); "
                         + "keep the \(bundleName) folder beside the swiftseek binary")
    }

    static func contentType(_ name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "json": "application/json"
        case "png": "image/png"
        case "woff2": "font/woff2"
        default: "application/octet-stream"
        }
    }

    static func fnv1a(_ data: Data) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in data {
            h ^= UInt64(b)
            h &*= 0x0000_0100_0000_01b3
        }
        return String(h, radix: 16)
    }

    /// Page scripts come only from this server and never run inline code; model output is
    /// rendered as text nodes, and this policy is a second line of defence.
    static let securityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

    func response(for name: String, request: Request, headOnly: Bool = false) -> Response {
        guard let asset = files[name] else {
            let message = problem ?? "no such file: \(name)"
            return Response(status: problem == nil ? .notFound : .internalServerError,
                            headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: message + "\n")))
        }
        var headers: HTTPFields = [.contentType: asset.contentType, .cacheControl: "no-cache", .eTag: asset.etag]
        if name.hasSuffix(".html") { headers[.contentSecurityPolicy] = Self.securityPolicy }
        if request.headers[.ifNoneMatch] == asset.etag {
            return Response(status: .notModified, headers: headers)
        }
        if headOnly {
            headers[.contentLength] = String(asset.bytes.readableBytes)
            return Response(status: .ok, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.bytes))
    }
}
