/// Decoders of tokenizer.json: turn token strings back into text. Each step maps the list
/// of token pieces; pieces are bytes so byte-level and byte-fallback steps compose.
public indirect enum DecoderStep: Sendable {
    case byteLevel
    case metaspace(replacement: Unicode.Scalar, prependScheme: String)
    case byteFallback
    case fuse
    case strip(content: String, start: Int, stop: Int)
    case replace(TextPattern, String)
    case sequence([DecoderStep])

    /// The chain for streaming one token at a time: without the steps that only apply at the
    /// start of a text (stripping the prefix space), which would eat every token's space.
    var forStreaming: DecoderStep {
        switch self {
        case .sequence(let steps): return .sequence(steps.compactMap { if case .strip = $0 { return nil } else { return $0.forStreaming } })
        default: return self
        }
    }

    var hasByteFallback: Bool {
        switch self {
        case .byteFallback: return true
        case .sequence(let steps): return steps.contains { $0.hasByteFallback }
        default: return false
        }
    }

    func apply(_ pieces: [[UInt8]]) -> [[UInt8]] {
        switch self {
        case .sequence(let steps):
            return steps.reduce(pieces) { $1.apply($0) }
        case .byteLevel:
            return pieces.map { p in ByteLevel.bytes(of: String(decoding: p, as: UTF8.self)) ?? p }
        case .metaspace(let replacement, let scheme):
            let rep = Array(String(replacement).utf8)
            return pieces.enumerated().map { i, p in
                var out = replacing(p, rep, with: [0x20])
                if i == 0 && scheme != "never" && out.first == 0x20 { out.removeFirst() }
                return out
            }
        case .byteFallback:
            // Runs of <0xXX> tokens become their bytes; an invalid sequence becomes U+FFFD per byte.
            var out: [[UInt8]] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if String(validating: pending, as: UTF8.self) != nil { out.append(pending) } else {
                    out += pending.map { _ in Array("\u{FFFD}".utf8) }
                }
                pending = []
            }
            for p in pieces {
                if p.count == 6, p[0] == 0x3C, p[1] == 0x30, p[2] == 0x78, p[5] == 0x3E,
                   let b = UInt8(String(decoding: p[3..<5], as: UTF8.self), radix: 16) {
                    pending.append(b)
                } else {
                    flush()
                    out.append(p)
                }
            }
            flush()
            return out
        case .fuse:
            return [pieces.flatMap { $0 }]
        case .strip(let content, let start, let stop):
            let c = Array(content.utf8)
            return pieces.map { p in
                var q = p[...]
                for _ in 0..<start where q.starts(with: c) { q = q.dropFirst(c.count) }
                for _ in 0..<stop where q.reversed().starts(with: c.reversed()) { q = q.dropLast(c.count) }
                return Array(q)
            }
        case .replace(let pattern, let content):
            return pieces.map { Array(pattern.replaceAll(in: String(decoding: $0, as: UTF8.self), with: content).utf8) }
        }
    }
}

private func replacing(_ p: [UInt8], _ what: [UInt8], with: [UInt8]) -> [UInt8] {
    guard !what.isEmpty, p.count >= what.count else { return p }
    var out: [UInt8] = []
    var i = 0
    while i < p.count {
        if i + what.count <= p.count && p[i..<(i + what.count)].elementsEqual(what) {
            out += with
            i += what.count
        } else {
            out.append(p[i])
            i += 1
        }
    }
    return out
}
