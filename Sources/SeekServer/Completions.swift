import Foundation
import Hummingbird
import SeekEngine
import SeekTemplates
import SeekTokenizers

/// A validated `POST /v1/completions` body: raw text completion, or fill-in-the-middle when
/// `suffix` is given.
struct CompletionRequest {
    enum Prompt {
        case text(String)
        case tokens([Int32])
    }
    var prompt: Prompt
    var suffix: String?
    var echo = false
    var parameters: GenerationParameters

    static let known: Set<String> = ["prompt", "suffix", "echo", "logprobs", "best_of"]
    static let unsupported: Set<String> = ["response_format"]

    init(body: String) throws {
        let o = try GenerationParameters.object(body)
        parameters = try GenerationParameters(o, known: Self.known, unsupported: Self.unsupported)
        func tokens(_ a: [Value]) throws -> [Int32] {
            try a.map { v in
                guard case .int(let i) = v, let t = Int32(exactly: i) else {
                    throw APIError.invalid("prompt", "a token list must hold integers")
                }
                return t
            }
        }
        switch o["prompt"] {
        case .string(let s)?: prompt = .text(s)
        case .array(let a)? where a.count == 1:
            switch a[0] {
            case .string(let s): prompt = .text(s)
            case .array(let t): prompt = .tokens(try tokens(t))
            default: prompt = .tokens(try tokens(a))
            }
        case .array(let a)? where !a.isEmpty:
            if case .int = a[0] { prompt = .tokens(try tokens(a)) } else {
                throw APIError.invalid("prompt", "only one prompt per request is supported")
            }
        default:
            throw APIError.invalid("prompt", "'prompt' must be a string or a list of token ids")
        }
        switch o["suffix"] {
        case .string(let s)?: suffix = s
        case nil, .none?: break
        default: throw APIError.invalid("suffix", "'suffix' must be a string")
        }
        switch o["echo"] {
        case .bool(let b)?: echo = b
        case nil, .none?: break
        default: throw APIError.invalid("echo", "'echo' must be true or false")
        }
        switch o["logprobs"] {
        case .int(let n)?:
            guard (0...5).contains(n) else { throw APIError.invalid("logprobs", "'logprobs' must be between 0 and 5") }
            parameters.logprobs = true
            parameters.topLogprobs = n
        case nil, .none?: break
        default: throw APIError.invalid("logprobs", "'logprobs' must be an integer (how many alternatives per token)")
        }
        if case .int(let n)? = o["best_of"], n != 1 { throw APIError.invalid("best_of", "only best_of = 1 is supported") }
        if suffix != nil, case .tokens = prompt {
            throw APIError.invalid("suffix", "'suffix' needs a text prompt")
        }
    }
}

/// The fill-in-the-middle tokens of a model, from GGUF metadata (`tokenizer.ggml.fim_pre_token_id`
/// and friends) or from the special tokens of the known FIM families.
struct FIMTokens {
    let prefix: Int32
    let suffix: Int32
    let middle: Int32

    /// Qwen2.5-Coder / StarCoder2 style, StarCoder/SantaCoder style, DeepSeek-Coder style.
    static let families: [(String, String, String)] = [
        ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
        ("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
        ("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
    ]

    init?(_ model: LoadedModel) {
        let tokenizer = model.tokenizer
        if let m = model.gguf?.metadata,
           let p = m["tokenizer.ggml.fim_pre_token_id"]?.int, let s = m["tokenizer.ggml.fim_suf_token_id"]?.int,
           let c = m["tokenizer.ggml.fim_mid_token_id"]?.int,
           [p, s, c].allSatisfy({ $0 >= 0 && $0 < tokenizer.vocabularySize }) {
            prefix = Int32(p)
            suffix = Int32(s)
            middle = Int32(c)
            return
        }
        /// The id of `text` when it is one special token of the vocabulary.
        func special(_ text: String) -> Int32? {
            let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
            guard ids.count == 1, tokenizer.tokenText(ids[0]) == text else { return nil }
            return ids[0]
        }
        for (p, s, c) in Self.families {
            if let p = special(p), let s = special(s), let c = special(c) {
                prefix = p
                suffix = s
                middle = c
                return
            }
        }
        return nil
    }

    /// Prefix-suffix-middle order, as the FIM models were trained: the model writes the middle.
    func prompt(prefix text: String, suffix after: String, tokenizer: any Tokenizer) -> [Int32] {
        var ids: [Int32] = []
        if tokenizer.addsBOS, let bos = tokenizer.bosToken { ids.append(bos) }
        ids.append(prefix)
        ids += tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        ids.append(suffix)
        ids += tokenizer.encode(after, addSpecial: false, parseSpecial: false)
        ids.append(middle)
        return ids
    }
}

extension API {
    func completions(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let arrived = ContinuousClock.now
        let service = try state.requireService()
        let req = try CompletionRequest(body: try await body(request))
        let model = service.model
        let ids: [Int32]
        var echoText = ""
        switch req.prompt {
        case .text(let text):
            if let suffix = req.suffix {
                guard let fim = FIMTokens(model) else {
                    throw APIError.invalid("suffix", "this model has no fill-in-the-middle tokens, so 'suffix' cannot be used")
                }
                ids = fim.prompt(prefix: text, suffix: suffix, tokenizer: model.tokenizer)
            } else {
                ids = model.tokenizer.encode(text, addSpecial: true, parseSpecial: true)
            }
            echoText = text
        case .tokens(let t):
            let vocab = model.tokenizer.vocabularySize
            if let bad = t.first(where: { $0 < 0 || Int($0) >= vocab }) {
                throw APIError.invalid("prompt", "token id \(bad) is outside the vocabulary (0..<\(vocab))")
            }
            ids = t
            echoText = model.tokenizer.decode(t, renderSpecial: true)
        }
        guard !ids.isEmpty else { throw APIError.invalid("prompt", "the prompt is empty") }
        // OpenAI's default for this endpoint is 16 tokens.
        let events = try start(service, prompt: ids, req.parameters, promptParam: "prompt", defaultMaxTokens: 16)
        let id = "cmpl-" + randomID()
        let created = Int(Date().timeIntervalSince1970)
        let name = req.parameters.model ?? options.modelName
        let echo = req.echo ? echoText : nil
        let formatter = req.parameters.logprobs ? LogprobFormatter(tokenizer: model.tokenizer) : nil
        if req.parameters.stream {
            let renderer = CompletionStream(id: id, created: created, model: name, includeUsage: req.parameters.includeUsage, echo: echo,
                                            formatter: formatter)
            return streamResponse(events, arrived: arrived, renderer: renderer)
        }
        var text = echo ?? ""
        var finish = "stop"
        var usage: Usage?
        var logprobs = CompletionLogprobs()
        try await collect(events, arrived: arrived, metrics: metricsStore) { event in
            switch event {
            case .token(_, let t, let l):
                if let formatter, let l { logprobs.append(l, offset: text.utf8.count, formatter) }
                text += t
            case .finished(let reason, let rest, let stats):
                text += rest
                finish = reason == .stop ? "stop" : "length"
                usage = Usage(stats, reasoningTokens: 0)
            }
        }
        return json(Completion(id: id, created: created, model: name,
                               choices: [.init(text: text, index: 0, logprobs: formatter == nil ? nil : logprobs, finish_reason: finish)],
                               usage: usage))
    }
}

/// Text completion chunks (`object: "text_completion"`), the last with the finish reason.
struct CompletionStream: StreamRenderer {
    let id: String
    let created: Int
    let model: String
    let includeUsage: Bool
    let echo: String?
    let formatter: LogprobFormatter?
    /// Bytes of text sent so far (the offsets of the log-probabilities).
    private var sent = 0
    private var unsent = CompletionLogprobs()

    init(id: String, created: Int, model: String, includeUsage: Bool, echo: String?, formatter: LogprobFormatter?) {
        self.id = id
        self.created = created
        self.model = model
        self.includeUsage = includeUsage
        self.echo = echo
        self.formatter = formatter
    }

    private mutating func chunk(_ text: String, finish: String? = nil) -> Completion {
        var logprobs: CompletionLogprobs?
        if formatter != nil, !unsent.isEmpty || finish != nil {
            logprobs = unsent
            unsent = CompletionLogprobs()
        }
        sent += text.utf8.count
        return Completion(id: id, created: created, model: model, choices: [.init(text: text, index: 0, logprobs: logprobs, finish_reason: finish)], usage: nil)
    }

    mutating func start() throws -> [ByteBuffer] {
        guard let echo, !echo.isEmpty else { return [] }
        return [try SSE.data(chunk(echo))]
    }

    mutating func render(_ event: GenerationEvent) throws -> [ByteBuffer] {
        switch event {
        case .token(_, let text, let l):
            if let formatter, let l { unsent.append(l, offset: sent, formatter) }
            return text.isEmpty ? [] : [try SSE.data(chunk(text))]
        case .finished(let reason, let rest, let stats):
            var out = [try SSE.data(chunk(rest, finish: reason == .stop ? "stop" : "length"))]
            if includeUsage {
                out.append(try SSE.data(Completion(id: id, created: created, model: model, choices: [], usage: Usage(stats, reasoningTokens: 0))))
            }
            return out
        }
    }
}

struct Completion: Encodable {
    struct Choice: Encodable {
        let text: String
        let index: Int
        var logprobs: CompletionLogprobs? = nil
        let finish_reason: String?

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(text, forKey: .text)
            try c.encode(index, forKey: .index)
            try c.encode(logprobs, forKey: .logprobs)
            try c.encode(finish_reason, forKey: .finish_reason)
        }
        enum CodingKeys: String, CodingKey { case text, index, logprobs, finish_reason }
    }
    let id: String
    var object = "text_completion"
    let created: Int
    let model: String
    let choices: [Choice]
    let usage: Usage?
}
