import Foundation
import SeekKernels
import SeekModels
import SeekTokenizers

/// One generation as an iterator: prefill the prompt on the first `next()`, then one token
/// per call, until a stop token, a stop string, `maxTokens` or a full context.
///
/// The loop is the algorithm: forward → sample → detokenize and check stops → feed back.
public struct Generation {
    public let model: LoadedModel
    public let request: GenerationRequest
    let pool: ThreadPool
    let cache: KVCache
    /// When the generation belongs to a session, the session learns what is in the cache.
    let session: Session?
    var sampler: Sampler
    var text: TextStream
    var pending: [Int32]
    public private(set) var generated: [Int32] = []
    public private(set) var stats = GenerationStats()
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
        try request.sampling.validate()
        guard request.maxTokens >= 0 else { throw EngineError.invalidParameter("max tokens must be >= 0, got \(request.maxTokens)") }
        guard !request.prompt.isEmpty else { throw EngineError.invalidParameter("the prompt is empty") }
        guard request.prompt.count < contextSize else {
            throw EngineError.promptTooLong(tokens: request.prompt.count, limit: contextSize)
        }
        for t in request.prompt where t < 0 || Int(t) >= model.architecture.vocabularySize {
            throw EngineError.invalidParameter("token id \(t) is outside the vocabulary (0..<\(model.architecture.vocabularySize))")
        }
        self.model = model
        self.request = request
        self.pool = pool
        self.cache = cache
        self.session = session
        sampler = Sampler(request.sampling)
        sampler.accept(request.prompt)
        text = TextStream(stops: request.stopStrings)
        pending = Array(request.prompt[reused...])
        stats.promptTokens = request.prompt.count
        stats.cachedPromptTokens = reused
    }

    var finishReason: FinishReason?

    public mutating func next() throws -> GenerationEvent? {
        if finished { return nil }
        if finishReason == nil {
            if generated.count >= request.maxTokens { finishReason = .length }
            else if cache.count + pending.count > cache.capacity { finishReason = .contextFull }
        }
        if let reason = finishReason {
            finished = true
            return .finished(reason, text: text.flush(), stats)
        }

        let start = DispatchTime.now().uptimeNanoseconds
        let logits = try model.architecture.forward(pending, cache: cache, allPositions: false, pool: pool)
        session?.cachedTokens += pending
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if generated.isEmpty { stats.prefillSeconds += seconds } else { stats.decodeSeconds += seconds }

        let token = sampler.sample(logits)
        sampler.accept([token])
        generated.append(token)
        stats.generatedTokens = generated.count
        pending = [token]
        if request.stopAtEndOfGeneration && model.tokenizer.endOfGenerationTokens.contains(token) {
            finishReason = .stop
            return .token(token, text: "")
        }
        let (piece, stopped) = text.push(model.tokenizer.bytes(of: token, renderSpecial: false))
        if stopped { finishReason = .stop }
        return .token(token, text: piece)
    }
}
