import Foundation
import SeekKernels

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
    /// The unordered draw's weights, one per vocabulary entry (kept: a fresh 49k-float array
    /// per token was an mmap and munmap each time).
    private var weights: [Float] = []

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
        sample(logits, logprobs: nil).token
    }

    /// Samples a token and, when `logprobs` is given, reports its log-probability and the
    /// `logprobs` most likely alternatives: the log-softmax over the whole vocabulary of the
    /// logits the draw starts from (after the penalties, before truncation and temperature,
    /// as OpenAI reports them: they do not depend on top-k/top-p/temperature or the seed).
    public mutating func sample(_ logits: [Float], logprobs: Int?) -> (token: Int32, logprobs: TokenLogprobs?) {
        var l = logits
        applyPenalties(&l)
        let token = draw(l, original: logits)
        guard let k = logprobs else { return (token, nil) }
        return (token, TokenLogprobs(logits: l, chosen: token, top: k))
    }

    private mutating func draw(_ l: [Float], original logits: [Float]) -> Int32 {
        if params.temperature == 0 { return argmax(l) }
        if params.topK == 0 && params.topP >= 1 { return drawUnordered(l, original: logits) }

        // Logits more than 40·max(1, T) below the best have probability under e^-40 relative
        // to it after the temperature: 49,152 of them add less than 2e-13 to a sum of at
        // least 1, below float resolution, so leaving them out changes no probability (and
        // spares sorting the whole vocabulary for every token when top-k is off).
        var candidates = Self.topCandidates(l, k: params.topK, within: 40 * max(1, params.temperature))
        guard !candidates.isEmpty else { return argmax(logits) }

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

    /// Without top-k and top-p (OpenAI's defaults) no order is needed: min-p is a threshold on
    /// the logit (p ≥ minP·p_max ⟺ logit ≥ max + ln minP), so the draw runs over the
    /// candidates in vocabulary order, with no sort (a sort per token per sequence was 16% of
    /// the server's profile). Same distribution as the ordered path. The weights
    /// e^((logit - best) / T) come from `expWeights` (SIMD e^x: the draw with libm's expf and
    /// three arrays per token was ~7% of the server's profile at four streams), and the draw
    /// compares against r times their sum instead of normalising.
    private mutating func drawUnordered(_ l: [Float], original logits: [Float]) -> Int32 {
        var best = -Float.infinity
        for v in l where v > best { best = v }  // (NaN never compares greater)
        guard best > -.infinity else { return argmax(logits) }
        let floor = params.minP > 0 ? best + logf(params.minP) : best - 40 * max(1, params.temperature)
        if weights.count != l.count { weights = [Float](repeating: 0, count: l.count) }
        let scale = 1 / params.temperature
        let total = l.withUnsafeBufferPointer { x in
            weights.withUnsafeMutableBufferPointer { y in
                expWeights(x.baseAddress!, count: x.count, shift: best, scale: scale, floor: floor, into: y.baseAddress!)
            }
        }
        let r = Float(Double(rng.next() >> 11) / Double(1 << 53)) * total
        var cum: Float = 0
        var last = 0
        for (i, w) in weights.enumerated() where w > 0 {
            cum += w
            last = i
            if r < cum { return Int32(i) }
        }
        return Int32(last)
    }

    /// The finite logits, best first (ties: lower id first), cut to top-k and, when `within`
    /// is given, to those at most `within` below the best. A small k is selected in one pass
    /// instead of sorting the whole vocabulary (this runs once per token per sequence on the
    /// scheduler's thread).
    static func topCandidates(_ l: [Float], k: Int, within: Float = .infinity) -> [(id: Int32, logit: Float)] {
        func better(_ a: (id: Int32, logit: Float), _ b: (id: Int32, logit: Float)) -> Bool {
            a.logit > b.logit || (a.logit == b.logit && a.id < b.id)
        }
        if k > 0 && k <= 256 {
            var top: [(id: Int32, logit: Float)] = []
            top.reserveCapacity(k + 1)
            for (i, v) in l.enumerated() where !v.isNaN && v != -.infinity {
                let c = (id: Int32(i), logit: v)
                if top.count == k, !better(c, top[k - 1]) { continue }
                var j = top.count
                while j > 0 && better(c, top[j - 1]) { j -= 1 }
                top.insert(c, at: j)
                if top.count > k { top.removeLast() }
            }
            return top
        }
        let best = l.reduce(-Float.infinity) { $1.isNaN ? $0 : max($0, $1) }
        let floor = within.isFinite ? best - within : -Float.infinity
        var candidates: [(id: Int32, logit: Float)] = []
        for (i, v) in l.enumerated() where !v.isNaN && v != -.infinity && v >= floor { candidates.append((Int32(i), v)) }
        candidates.sort(by: better)
        if k > 0 && k < candidates.count { candidates.removeSubrange(k...) }
        return candidates
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

/// One token and its log-probability.
public struct TokenLogprob: Sendable, Equatable {
    public var token: Int32
    public var logprob: Float
    public init(token: Int32, logprob: Float) {
        self.token = token
        self.logprob = logprob
    }
}

/// The sampled token's log-probability and the most likely alternatives (most likely first;
/// the chosen token appears among them when it is one of the top).
public struct TokenLogprobs: Sendable, Equatable {
    public var chosen: TokenLogprob
    public var top: [TokenLogprob]

    public init(chosen: TokenLogprob, top: [TokenLogprob]) {
        self.chosen = chosen
        self.top = top
    }

    /// Log-softmax of `logits` (NaN counts as -inf) for `chosen` and the `top` largest.
    public init(logits: [Float], chosen: Int32, top k: Int) {
        var m = -Float.infinity
        for v in logits where v > m { m = v }
        var sum: Double = 0
        if m.isFinite { for v in logits where v > -.infinity { sum += Double(expf(v - m)) } }
        let lse = m.isFinite ? m + Float(Foundation.log(sum)) : 0
        func lp(_ i: Int) -> Float {
            let v = logits[i]
            return v.isNaN || !m.isFinite ? -.infinity : v - lse
        }
        self.chosen = TokenLogprob(token: chosen, logprob: Int(chosen) < logits.count ? lp(Int(chosen)) : -.infinity)
        // The k largest by a bounded insertion (k is small: OpenAI allows at most 20).
        var best: [Int] = []
        let n = min(max(k, 0), logits.count)
        if n > 0 {
            best.reserveCapacity(n + 1)
            func better(_ a: Int, _ b: Int) -> Bool {
                let x = logits[a].isNaN ? -Float.infinity : logits[a], y = logits[b].isNaN ? -Float.infinity : logits[b]
                return x > y || (x == y && a < b)
            }
            for i in logits.indices {
                if best.count == n, !better(i, best[n - 1]) { continue }
                var j = best.count
                while j > 0 && better(i, best[j - 1]) { j -= 1 }
                best.insert(i, at: j)
                if best.count > n { best.removeLast() }
            }
        }
        self.top = best.map { TokenLogprob(token: Int32($0), logprob: lp($0)) }
    }
}
