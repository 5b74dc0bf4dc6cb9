import ArgumentParser
import Foundation
import Hummingbird
import SeekChatStore
import SeekEngine
import SeekServer
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the DeepSeek/OpenAI-compatible API (/v1/chat/completions, /v1/completions, /v1/models, /health, /metrics).",
        discussion: """
        The server listens at once and answers /health with 503 {"status":"loading"} until the model \
        is loaded. SIGTERM or SIGINT stops it gracefully: new requests get 503, running generations \
        get --shutdown-timeout seconds to finish and are then cancelled, and the process exits 0.
        """)

    @OptionGroup var options: ModelOptions

    @Option(help: "Address to bind (default loopback only).")
    var host = "127.0.0.1"

    @Option(help: "Port.")
    var port = 8080

    @Option(help: "Require `Authorization: Bearer KEY` (default: $SWIFTSEEK_API_KEY, if set).")
    var apiKey: String?

    @Option(help: "Requests that may wait for a slot before the server answers 429 (0: none wait).")
    var maxQueue = 64

    @Option(help: "Sequences generated together (continuous batching slots).")
    var parallel = InferenceService.defaultParallel

    @Option(name: .customLong("cache-mem"), help: "MiB for the context cache (KV of earlier requests, reused by prefix).")
    var cacheMiB = InferenceService.defaultCacheMiB

    @Option(help: "SQLite file for the web chat's conversations (default: $SWIFTSEEK_HOME/conversations.sqlite).")
    var db: String?

    @Option(help: "Largest request body in bytes (larger gets 413).")
    var maxBody = 4 << 20

    @Option(help: "Seconds between `: keep-alive` comments on a stream that is waiting (0: none).")
    var keepAlive = 5.0

    @Option(help: "Seconds running generations may go on after SIGTERM/SIGINT before they are cancelled.")
    var shutdownTimeout = 10.0

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        guard maxQueue >= 0 else { throw ValidationError("--max-queue must be at least 0") }
        guard (1...256).contains(parallel) else { throw ValidationError("--parallel must be between 1 and 256") }
        guard cacheMiB >= 0 else { throw ValidationError("--cache-mem must be >= 0 MiB") }
        guard maxBody >= 1024 else { throw ValidationError("--max-body must be at least 1024 bytes") }
        guard keepAlive >= 0, keepAlive.isFinite else { throw ValidationError("--keep-alive must be >= 0 seconds") }
        guard shutdownTimeout >= 0, shutdownTimeout.isFinite else { throw ValidationError("--shutdown-timeout must be >= 0 seconds") }
    }

    func run() async throws {
        var server = ServerOptions()
        server.host = host
        server.port = port
        server.apiKey = apiKey ?? ProcessInfo.processInfo.environment["SWIFTSEEK_API_KEY"]
        // A store name as given; a path as its file or folder name.
        let modelArgument = options.model ?? Catalog.defaultModel
        server.modelName = modelArgument.contains("/") ? URL(fileURLWithPath: modelArgument).deletingPathExtension().lastPathComponent : modelArgument
        server.maxBodyBytes = maxBody
        server.keepAlive = keepAlive > 0 ? .milliseconds(Int(keepAlive * 1000)) : nil
        server.shutdownGrace = .milliseconds(Int(shutdownTimeout * 1000))
        let dbPath = db ?? ModelStore().home.appendingPathComponent("conversations.sqlite").path
        do {
            try FileManager.default.createDirectory(at: URL(fileURLWithPath: dbPath).deletingLastPathComponent(), withIntermediateDirectories: true)
            server.conversations = try ChatStore(path: dbPath)
        } catch {
            throw ValidationError("cannot open the conversation store \(dbPath): \(error)")
        }
        let state = ServerState()
        let options = options, maxQueue = maxQueue, parallel = parallel, cacheMiB = cacheMiB, host = host, port = port, keyed = server.apiKey != nil
        let loader = ModelLoader(state: state) {
            let model = try options.load()
            let ctx = try options.contextSize(for: model)
            note("serving \(URL(fileURLWithPath: model.path).lastPathComponent) on http://\(host):\(port) (context \(ctx)\(keyed ? ", API key required" : ""))")
            return InferenceService(model: model, contextSize: ctx, pool: ThreadPoolHandle(threads: options.threads ?? ThreadPoolHandle.defaultThreads),
                                    maxQueue: maxQueue, parallel: parallel, cacheBytes: cacheMiB << 20)
        }
        note("listening on http://\(host):\(port); loading the model")
        let app = buildApplication(state: state, options: server, services: [loader])
        try await app.runService()
        note("stopped")
    }
}

/// Loads the model on a thread of its own while the server already answers (/health says
/// "loading"), then hands it to the server. A failed load stops the server with the error.
struct ModelLoader: Service {
    let state: ServerState
    let load: @Sendable () throws -> InferenceService

    func run() async throws {
        let load = load
        let service: InferenceService = try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try load() }) }
            thread.stackSize = 16 << 20
            thread.start()
        }
        state.ready(service)
        // A service that returns ends the group; this one stays until shutdown. It is shut
        // down after the HTTP server, so whatever still runs then is ended here.
        try? await gracefulShutdown()
        service.shutdown()
    }
}
