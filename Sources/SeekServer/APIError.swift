import Foundation
import Hummingbird
import ServiceLifecycle

/// An error as OpenAI and DeepSeek send them: `{"error":{"message","type","param","code"}}`.
public struct APIError: Error, Sendable {
    public let status: HTTPResponse.Status
    public let message: String
    public let type: String
    public let param: String?
    public let code: String?

    public init(_ status: HTTPResponse.Status, _ message: String, type: String = "invalid_request_error", param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    static func invalid(_ param: String, _ message: String) -> APIError {
        APIError(.badRequest, message, param: param, code: "invalid_request_error")
    }

    struct Body: Encodable {
        struct Inner: Encodable {
            let message: String
            let type: String
            let param: String?
            let code: String?

            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(message, forKey: .message)
                try c.encode(type, forKey: .type)
                try c.encode(param, forKey: .param)  // null when absent, as OpenAI sends it
                try c.encode(code, forKey: .code)
            }
            enum CodingKeys: String, CodingKey { case message, type, param, code }
        }
        let error: Inner
    }

    var body: Body { Body(error: .init(message: message, type: type, param: param, code: code)) }

    var response: Response {
        let data = (try? JSONEncoder().encode(body)) ?? Data(#"{"error":{"message":"error"}}"#.utf8)
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .serviceUnavailable || status == .tooManyRequests { headers[.retryAfter] = "1" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// 503 while the model loads or the server shuts down.
    static func unavailable(_ message: String) -> APIError {
        APIError(.serviceUnavailable, message, type: "server_error", code: "service_unavailable")
    }
}

/// Turns anything a handler throws into an OpenAI-style error response (never a stack trace).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = await respond(request, context: context, next: next)
        if response.status.code >= 400 { metrics.error(response.status.code) }
        return response
    }

    private func respond(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async -> Response {
        do {
            return try await next(request, context)
        } catch let e as APIError {
            return e.response
        } catch let e as any HTTPResponseError {
            switch e.status {
            case .contentTooLarge:
                return APIError(.contentTooLarge, "the request body is too large", code: "request_too_large").response
            case .notFound:
                return APIError(.notFound, "no route for \(request.method) \(request.uri.path)", type: "not_found_error", code: "not_found").response
            default:
                return APIError(e.status, (e as? HTTPError)?.body ?? "\(e.status)").response
            }
        } catch {
            context.logger.error("request failed: \(error)")
            return APIError(.internalServerError, "internal error: \(error)", type: "server_error").response
        }
    }
}

/// `Authorization: Bearer KEY` on every route but /health when the server has a key.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        guard header == "Bearer \(key)" else {
            throw APIError(.unauthorized, header.isEmpty ? "missing API key: send Authorization: Bearer <key>" : "incorrect API key provided",
                           type: "authentication_error", code: "invalid_api_key")
        }
        return try await next(request, context)
    }
}

/// Counts requests per route for /metrics (unknown paths count as "other", so clients cannot
/// grow the label set).
struct RequestCountMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    static var routes: Set<String> {
        ["/health", "/metrics", "/tokenize", "/detokenize", "/apply-template", "/v1/models", "/models",
         "/v1/chat/completions", "/chat/completions", "/v1/completions", "/completions"]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        metrics.request(Self.routes.contains(path) ? path : path.hasPrefix("/v1/models/") ? "/v1/models/{id}" : "other")
        return try await next(request, context)
    }
}

/// Once SIGTERM/SIGINT has started a graceful shutdown, new work gets 503 (running
/// generations get the shutdown grace period to finish).
struct ShutdownMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Task.isShuttingDownGracefully && request.method == .post {
            throw APIError.unavailable("the server is shutting down")
        }
        return try await next(request, context)
    }
}
