import Foundation
import Hummingbird

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

    var response: Response {
        struct Body: Encodable {
            struct Inner: Encodable {
                let message: String
                let type: String
                let param: String?
                let code: String?
            }
            let error: Inner
        }
        let body = Body(error: .init(message: message, type: type, param: param, code: code))
        let data = (try? JSONEncoder().encode(body)) ?? Data(#"{"error":{"message":"error"}}"#.utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns anything a handler throws into an OpenAI-style error response (never a stack trace).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
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
