import Foundation
import SeekFormats

/// Rotary position embedding as a model file describes it.
public struct RoPE: Sendable {
    public enum Style: String, Sendable {
        /// Rotates adjacent pairs (x[2i], x[2i+1]): llama.cpp's "normal" layout, used by GGUF
        /// llama files (whose converter permuted Q/K rows to match).
        case normal
        /// Rotates (x[i], x[i + d/2]): the NeoX / Hugging Face layout (qwen2).
        case neox
    }

    public enum Scaling: Sendable, Equatable {
        case none
        /// Positions divided by `factor`.
        case linear(factor: Double)
        /// YaRN: interpolate low frequencies, keep high ones; cos/sin are multiplied by
        /// `magnitude` (ggml: attn_factor·(1 + 0.1·ln factor); transformers' DeepSeek: its
        /// attention_factor, usually 1).
        case yarn(factor: Double, originalContext: Int, betaFast: Double, betaSlow: Double, magnitude: Double)
    }

    public let style: Style
    public let dimensions: Int
    public let base: Double
    public let scaling: Scaling
    /// Per-pair frequency divisors (llama 3's `rope_freqs.weight`), if the file has them.
    public let frequencyFactors: [Float]?

    public init(style: Style, dimensions: Int, base: Double, scaling: Scaling = .none, frequencyFactors: [Float]? = nil) {
        self.style = style
        self.dimensions = dimensions
        self.base = base
        self.scaling = scaling
        self.frequencyFactors = frequencyFactors
    }

    /// Reads `{arch}.rope.*` keys. Unknown scaling types are an error, not a silent default.
    public init(gguf: GGUFFile, prefix: String, style: Style, headDim: Int, frequencyFactors: [Float]?) throws {
        let dims = try gguf.int("\(prefix).rope.dimension_count", default: headDim)
        guard dims > 0, dims <= headDim, dims % 2 == 0 else {
            throw gguf.modelError("\(prefix).rope.dimension_count \(dims) must be even and at most the head size \(headDim)")
        }
        let base = try gguf.double("\(prefix).rope.freq_base", default: 10000)
        let type = gguf.metadata["\(prefix).rope.scaling.type"]?.string ?? "none"
        var scaling = Scaling.none
        switch type {
        case "none", "":
            break
        case "linear":
            let f = try gguf.double("\(prefix).rope.scaling.factor", default: 1)
            if f != 1 && f > 0 { scaling = .linear(factor: f) }
        case "yarn":
            let f = try gguf.double("\(prefix).rope.scaling.factor")
            let orig = try gguf.int("\(prefix).rope.scaling.original_context_length")
            let attn = try gguf.double("\(prefix).rope.scaling.attn_factor", default: 1)
            scaling = .yarn(factor: f, originalContext: orig,
                            betaFast: try gguf.double("\(prefix).rope.scaling.yarn_beta_fast", default: 32),
                            betaSlow: try gguf.double("\(prefix).rope.scaling.yarn_beta_slow", default: 1),
                            magnitude: f > 1 ? attn * (1 + 0.1 * Foundation.log(f)) : attn)
        default:
            throw gguf.modelError("rope scaling type '\(type)' is not supported (none, linear, yarn)")
        }
        if let ff = frequencyFactors, ff.count != dims / 2 {
            throw gguf.modelError("rope_freqs.weight has \(ff.count) values, expected \(dims / 2)")
        }
        self.init(style: style, dimensions: dims, base: base, scaling: scaling, frequencyFactors: frequencyFactors)
    }

    /// cos/sin for each of the `dimensions / 2` pairs at `position`, into `cs` as
    /// [cos0, sin0, cos1, sin1, ...]. Angles are computed in Double.
    public func table(position: Int, into cs: UnsafeMutablePointer<Float>) {
        let half = dimensions / 2
        var freqScale = 1.0
        var mscale = 1.0
        var corrLow = 0.0, corrHigh = 0.0
        var yarn = false
        switch scaling {
        case .none: break
        case .linear(let f): freqScale = 1 / f
        case .yarn(let f, let orig, let betaFast, let betaSlow, let magnitude):
            freqScale = 1 / f
            yarn = true
            mscale = magnitude
            func corrDim(_ rotations: Double) -> Double {
                Double(dimensions) * Foundation.log(Double(orig) / (rotations * 2 * Double.pi)) / (2 * Foundation.log(base))
            }
            corrLow = max(0, floor(corrDim(betaFast)))
            corrHigh = min(Double(dimensions - 1), ceil(corrDim(betaSlow)))
        }
        for i in 0..<half {
            var theta = Double(position) * Foundation.pow(base, -2 * Double(i) / Double(dimensions))
            if let ff = frequencyFactors { theta /= Double(ff[i]) }
            let interp = theta * freqScale
            if yarn {
                let y = (Double(i) - corrLow) / max(0.001, corrHigh - corrLow)
                let mix = 1 - min(1, max(0, y))
                theta = interp * (1 - mix) + theta * mix
            } else {
                theta = interp
            }
            cs[2 * i] = Float(Foundation.cos(theta) * mscale)
            cs[2 * i + 1] = Float(Foundation.sin(theta) * mscale)
        }
    }

    /// Rotates the first `dimensions` values of one head vector in place.
    @inline(__always)
    public func apply(_ x: UnsafeMutablePointer<Float>, table cs: UnsafePointer<Float>) {
        let half = dimensions / 2
        switch style {
        case .normal:
            for i in 0..<half {
                let c = cs[2 * i], s = cs[2 * i + 1]
                let a = x[2 * i], b = x[2 * i + 1]
                x[2 * i] = a * c - b * s
                x[2 * i + 1] = a * s + b * c
            }
        case .neox:
            for i in 0..<half {
                let c = cs[2 * i], s = cs[2 * i + 1]
                let a = x[i], b = x[i + half]
                x[i] = a * c - b * s
                x[i + half] = a * s + b * c
            }
        }
    }
}
