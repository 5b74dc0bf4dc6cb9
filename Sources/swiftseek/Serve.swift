import ArgumentParser
import Foundation
import Hummingbird
import SeekEngine
import SeekServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the DeepSeek/OpenAI-compatible API (POST /v1/chat/completions, GET /v1/models, /health).")

    @OptionGroup var options: ModelOptions

    @Option(help: "Address to bind (default loopback only).")
    var host = "127.0.0.1"

    @Option(help: "Port.")
    var port = 8080

    @Option(help: "Require `Authorization: Bearer KEY` (default: $SWIFTSEEK_API_KEY, if set).")
    var apiKey: String?

    @Option(help: "Requests that may wait before the server answers 429.")
    var maxQueue = 64

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        guard maxQueue >= 1 else { throw ValidationError("--max-queue must be at least 1") }
    }

    func run() async throws {
        let model = try options.load()
        let ctx = try options.contextSize(for: model)
        let service = InferenceService(model: model, contextSize: ctx, pool: ThreadPoolHandle(threads: options.threads ?? ThreadPoolHandle.defaultThreads), maxQueue: maxQueue)
        var server = ServerOptions()
        server.host = host
        server.port = port
        server.apiKey = apiKey ?? ProcessInfo.processInfo.environment["SWIFTSEEK_API_KEY"]
        server.modelName = options.model ?? Catalog.defaultModel
        note("serving \(URL(fileURLWithPath: model.path).lastPathComponent) on http://\(host):\(port) (context \(ctx)\(server.apiKey == nil ? "" : ", API key required"))")
        let app = buildApplication(service: service, options: server)
        try await app.runService()
    }
}
