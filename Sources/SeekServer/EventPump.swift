import Foundation
import Hummingbird
import SeekEngine
import ServiceLifecycle

/// What a handler sees while a generation runs: the engine's events, keep-alive ticks while
/// nothing else happens (a long prompt being prefilled, a wait in the queue), and the end of
/// the shutdown grace period.
enum PumpItem: Sendable {
    case event(GenerationEvent)
    case keepAlive
    /// The server is shutting down and the grace period is over: stop now.
    case shutdownDeadline
}

/// Runs `handle` for every event of `events`, interleaved with keep-alive ticks every
/// `keepAlive` (when set) and a `.shutdownDeadline` item `shutdownGrace` after a graceful
/// shutdown starts (SIGTERM/SIGINT). Returns when the events end, when `handle` returns
/// false, or throws what `handle` or the engine throws.
///
/// Whichever way it returns, the task reading the engine's stream is cancelled, which
/// terminates that stream: the engine sees the termination and stops the generation at its
/// next step, freeing its slot. A client that disconnects makes the next write throw, so its
/// generation stops the same way.
func pumpEvents(_ events: AsyncThrowingStream<GenerationEvent, Error>, keepAlive: Duration?, shutdownGrace: Duration,
                _ handle: (PumpItem) async throws -> Bool) async throws {
    enum Item: Sendable {
        case item(PumpItem)
        case failed(Error)
        case end
        case shutdownStarted
    }
    let (items, sink) = AsyncStream<Item>.makeStream()
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            do {
                for try await e in events { sink.yield(.item(.event(e))) }
                sink.yield(.end)
            } catch {
                sink.yield(.failed(error))
            }
        }
        if let keepAlive {
            group.addTask {
                while true {
                    try await Task.sleep(for: keepAlive)
                    sink.yield(.item(.keepAlive))
                }
            }
        }
        try await withGracefulShutdownHandler {
            loop: for await item in items {
                switch item {
                case .item(let i): if try await !handle(i) { break loop }
                case .failed(let error): throw error
                case .end: break loop
                case .shutdownStarted:
                    group.addTask {
                        try await Task.sleep(for: shutdownGrace)
                        sink.yield(.item(.shutdownDeadline))
                    }
                }
            }
        } onGracefulShutdown: {
            sink.yield(.shutdownStarted)
        }
        sink.finish()
        group.cancelAll()
    }
}

/// Server-sent events framing, as OpenAI and DeepSeek send them.
enum SSE {
    static func data(_ json: some Encodable) throws -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(try JSONEncoder().encode(json))
        buffer.writeString("\n\n")
        return buffer
    }

    /// A comment line: clients ignore it, proxies and sockets see traffic.
    static let keepAlive = ByteBuffer(string: ": keep-alive\n\n")
    static let done = ByteBuffer(string: "data: [DONE]\n\n")

    /// An error inside a stream (the status line has long been sent), in the error-object shape.
    static func error(_ e: APIError) -> ByteBuffer {
        (try? data(e.body)) ?? ByteBuffer(string: "data: {\"error\":{\"message\":\"error\",\"type\":\"server_error\"}}\n\n")
    }

    static let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
}
