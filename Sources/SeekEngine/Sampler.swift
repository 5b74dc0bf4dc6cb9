import Foundation

/// How the next token is chosen. Defaults follow common practice (llama.cpp's CLI).
public struct SamplingParams: Sendable, Equatable {
    /// 0 means greedy (argmax).
    public var temperature: Float = 0.8
    /// 0 disables.
    public var topK: Int = 40
    /// 1 disables.
    public var topP: Float = 0.95
    /// 0 disables.
    public var minP: Float = 0.05
    /// 1 disables. Applied over the last `penaltyWindow` tokens (prompt included).
    public var repetitionPenalty: Float = 1.0
    public var frequencyPenalty: Float = 0
    public var presencePenalty: Float = 0
    public var penaltyWindow: Int = 64
    /// nil draws a random seed.
    public var seed: UInt64? = nil

    public init() {}

    public static var greedy: SamplingParams {
        var p = SamplingParams()
        p.temperature = 0
        return p
    }

    /// Checks ranges; the message names the parameter.
    public func validate() throws {
        func bad(_ m: String) -> EngineError { .invalidParameter(m) }
        guard temperature.isFinite, temperature >= 0 else { throw bad("temperature must be >= 0, got \(temperature)") }
        guard topK >= 0 else { throw bad("top-k must be >= 0, got \(topK)") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw bad("top-p must be in (0, 1], got \(topP)") }
        guard minP.isFinite, minP >= 0, minP <= 1 else { throw bad("min-p must be in [0, 1], got \(minP)") }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else { throw bad("repetition penalty must be > 0, got \(repetitionPenalty)") }
        guard frequencyPenalty.isFinite, abs(frequencyPenalty) <= 2 else { throw bad("frequency penalty must be in [-2, 2], got \(frequencyPenalty)") }
        guard presencePenalty.isFinite, abs(presencePenalty) <= 2 else { throw bad("presence penalty must be in [-2, 2], got \(presencePenalty)") }
        guard penaltyWindow >= 0 else { throw bad("penalty window must be >= 0") }
    }
}

/// SplitMix64: tiny, fast, and the same sequence on every platform for a given seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Picks tokens from logits: penalties → top-k → top-p → min-p → temperature → seeded draw
/// (llama.cpp's default chain order). One sampler per sequence; it remembers the tokens it
/// has seen for the penalties.
public struct Sampler: Sendable {
    public let params: SamplingParams
    private var rng: SeededGenerator
    private var history: [Int32] = []

    public init(_ params: SamplingParams) {
        self.params = params
        rng = SeededGenerator(seed: params.seed ?? UInt64.random(in: 0...UInt64.max))
    }

    /// Records tokens (the prompt, then each sampled token) for the penalties.
    public mutating func accept(_ tokens: [Int32]) {
        history += tokens
        let keep = max(params.penaltyWindow, 0)
        if history.count > 4 * keep + 1024 { history.removeFirst(history.count - keep) }
    }

    public mutating func sample(_ logits: [Float]) -> Int32 {
        var l = logits
        applyPenalties(&l)
        if params.temperature == 0 { return argmax(l) }

        var candidates = l.indices.map { (id: Int32($0), logit: l[$0]) }
        candidates.removeAll { $0.logit.isNaN || $0.logit == -.infinity }
        guard !candidates.isEmpty else { return argmax(logits) }
        candidates.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
        if params.topK > 0 && params.topK < candidates.count { candidates.removeSubrange(params.topK...) }

        var probs = softmaxOf(candidates.map(\.logit))
        if params.topP < 1 {
            var cum: Float = 0
            var keep = candidates.count
            for (i, p) in probs.enumerated() {
                cum += p
                if cum >= params.topP { keep = i + 1; break }
            }
            candidates.removeSubrange(keep...)
            probs = softmaxOf(candidates.map(\.logit))
        }
        if params.minP > 0 {
            let threshold = probs[0] * params.minP
            let keep = max(1, probs.firstIndex { $0 < threshold } ?? probs.count)
            candidates.removeSubrange(keep...)
        }
        probs = softmaxOf(candidates.map { $0.logit / params.temperature })
        let r = Float(Double(rng.next() >> 11) / Double(1 << 53))
        var cum: Float = 0
        for (i, p) in probs.enumerated() {
            cum += p
            if r < cum { return candidates[i].id }
        }
        return candidates[candidates.count - 1].id
    }

    private func applyPenalties(_ l: inout [Float]) {
        let p = params
        guard p.penaltyWindow > 0, p.repetitionPenalty != 1 || p.frequencyPenalty != 0 || p.presencePenalty != 0 else { return }
        var counts: [Int32: Int] = [:]
        for t in history.suffix(p.penaltyWindow) { counts[t, default: 0] += 1 }
        for (t, n) in counts where t >= 0 && Int(t) < l.count {
            var v = l[Int(t)]
            if p.repetitionPenalty != 1 { v = v > 0 ? v / p.repetitionPenalty : v * p.repetitionPenalty }
            v -= Float(n) * p.frequencyPenalty + p.presencePenalty
            l[Int(t)] = v
        }
    }
}

/// Index of the largest value; the lowest index wins ties, NaN never wins.
public func argmax(_ x: [Float]) -> Int32 {
    var best = 0
    var bestValue = -Float.infinity
    for (i, v) in x.enumerated() where v > bestValue {
        best = i
        bestValue = v
    }
    return Int32(best)
}

func softmaxOf(_ x: [Float]) -> [Float] {
    guard let m = x.max() else { return [] }
    let e = x.map { expf($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}
