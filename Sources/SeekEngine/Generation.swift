import Foundation
import SeekKernels
import SeekModels
import SeekTokenizers

/// What one sequence needs besides its KV cache: the request, the sampler, the text stream
/// with its stop strings, and the counts. The single-sequence `Generation` and the batching
/// `Scheduler` drive it the same way: `consume(logits)` after each forward pass that ends the
/// sequence's pending tokens, `finish` when a limit is reached.
struct SequenceState {
    let request: GenerationRequest
    let tokenizer: any Tokenizer
    var sampler: Sampler
    var text: TextStream
    private(set) var generated: [Int32] = []
    var stats = GenerationStats()
    /// Set once the sequence must end (the `.finished` event is still to be sent).
    var finishReason: FinishReason?

    /// Checks the request against the model and context; `reused` prompt tokens are cached.
    init(request: GenerationRequest, model: LoadedModel, contextSize: Int, reused: Int) throws {
        try Self.validate(request, model: model, contextSize: contextSize)
        self.request = request
        tokenizer = model.tokenizer
        sampler = Sampler(request.sampling)
        sampler.accept(request.prompt)
        text = TextStream(stops: request.stopStrings)
        stats.promptTokens = request.prompt.count
        stats.cachedPromptTokens = reused
        if request.maxTokens == 0 { finishReason = .length }
    }

    static func validate(_ request: GenerationRequest, model: LoadedModel, contextSize: Int) throws {
        try request.sampling.validate()
        guard request.maxTokens >= 0 else { throw EngineError.invalidParameter("max tokens must be >= 0, got \(request.maxTokens)") }
        if let k = request.logprobs, !(0...20).contains(k) {
            throw EngineError.invalidParameter("logprobs must be between 0 and 20, got \(k)")
        }
        guard !request.prompt.isEmpty else { throw EngineError.invalidParameter("the prompt is empty") }
        guard request.prompt.count < contextSize else {
            throw EngineError.promptTooLong(tokens: request.prompt.count, limit: contextSize)
        }
        for t in request.prompt where t < 0 || Int(t) >= model.architecture.vocabularySize {
            throw EngineError.invalidParameter("token id \(t) is outside the vocabulary (0..<\(model.architecture.vocabularySize))")
        }
    }

    /// Samples from the logits of the last pending position: the token event, and
    /// `finishReason` set if this token ends the sequence (a stop, or `maxTokens`).
    mutating func consume(_ logits: [Float]) -> GenerationEvent {
        let (token, logprobs) = sampler.sample(logits, logprobs: request.logprobs)
        sampler.accept([token])
        generated.append(token)
        stats.generatedTokens = generated.count
        if request.stopAtEndOfGeneration && tokenizer.endOfGenerationTokens.contains(token) {
            finishReason = .stop
            return .token(token, text: "", logprobs: logprobs)
        }
        let (piece, stopped) = text.push(tokenizer.bytes(of: token, renderSpecial: false))
        if stopped { finishReason = .stop }
        else if generated.count >= request.maxTokens { finishReason = .length }
        return .token(token, text: piece, logprobs: logprobs)
    }

    /// The last event: whatever text was held back, and the stats.
    mutating func finish(_ reason: FinishReason) -> GenerationEvent {
        finishReason = reason
        return .finished(reason, text: text.flush(), stats)
    }
}

/// One generation as an iterator: prefill the prompt on the first `next()`, then one token
/// per call, until a stop token, a stop string, `maxTokens` or a full context.
///
/// The loop is the algorithm: forward → sample → detokenize and check stops → feed back.
public struct Generation {
    public let model: LoadedModel
    public var request: GenerationRequest { state.request }
    let pool: ThreadPool
    let cache: KVCache
    /// When the generation belongs to a session, the session learns what is in the cache.
    let session: Session?
    var state: SequenceState
    var pending: [Int32]
    public var generated: [Int32] { state.generated }
    public var stats: GenerationStats { state.stats }
    var finished = false

    /// A one-off generation with its own cache.
    public init(model: LoadedModel, request: GenerationRequest, contextSize: Int, pool: ThreadPool) throws {
        try self.init(model: model, request: request, contextSize: contextSize, pool: pool,
                      cache: model.architecture.makeCache(capacity: contextSize), session: nil, reused: 0)
    }

    init(session: Session, request: GenerationRequest, reused: Int) throws {
        try self.init(model: session.model, request: request, contextSize: session.contextSize, pool: session.pool,
                      cache: session.cache, session: session, reused: reused)
    }

    private init(model: LoadedModel, request: GenerationRequest, contextSize: Int, pool: ThreadPool,
                 cache: KVCache, session: Session?, reused: Int) throws {
        state = try SequenceState(request: request, model: model, contextSize: contextSize, reused: reused)
        self.model = model
        self.pool = pool
        self.cache = cache
        self.session = session
        pending = Array(request.prompt[reused...])
    }

    public mutating func next() throws -> GenerationEvent? {
        if finished { return nil }
        if state.finishReason == nil, cache.count + pending.count > cache.capacity { state.finishReason = .contextFull }
        if let reason = state.finishReason {
            finished = true
            return state.finish(reason)
        }

        let start = DispatchTime.now().uptimeNanoseconds
        let logits = try model.architecture.forward(pending, cache: cache, allPositions: false, pool: pool)
        session?.cachedTokens += pending
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if state.generated.isEmpty { state.stats.prefillSeconds += seconds } else { state.stats.decodeSeconds += seconds }

        let event = state.consume(logits)
        if case .token(let token, _, _) = event { pending = [token] }
        return event
    }
}
