/// Splits a reasoning model's output into thinking and answer, as DeepSeek's API does with
/// `reasoning_content` and `content`: text between `<think>` and `</think>` is reasoning.
/// R1 templates open `<think>` in the prompt itself, so the parser can start inside it.
public struct ReasoningParser: Sendable {
    public enum Part: Sendable, Equatable {
        case reasoning(String)
        case content(String)
    }

    static let open = "<think>"
    static let close = "</think>"
    private var inReasoning: Bool
    private var sawAnything = false
    private var held = ""

    /// `prompt` is the rendered prompt; ending in an open `<think>` starts in reasoning.
    public init(prompt: String) {
        let trimmed = prompt.trimmingSuffixWhitespace()
        inReasoning = trimmed.hasSuffix(Self.open)
    }

    /// Feeds streamed text; returns the parts that are certain (tag prefixes are held).
    public mutating func push(_ text: String) -> [Part] {
        held += text
        var out: [Part] = []
        while !held.isEmpty {
            if !inReasoning && !sawAnything {
                // Leading whitespace, then maybe "<think>".
                let stripped = held.drop { $0.isWhitespace }
                if stripped.isEmpty { return out }
                if stripped.hasPrefix(Self.open) {
                    held = String(stripped.dropFirst(Self.open.count))
                    inReasoning = true
                    sawAnything = true
                    continue
                }
                if Self.open.hasPrefix(stripped) { return out }
                sawAnything = true
            }
            sawAnything = true
            let tag = inReasoning ? Self.close : Self.open
            if inReasoning, let r = held.range(of: tag) {
                let before = String(held[..<r.lowerBound])
                if !before.isEmpty { out.append(.reasoning(before)) }
                held = String(held[r.upperBound...])
                inReasoning = false
                // The answer usually starts after blank lines.
                held = String(held.drop { $0 == "\n" })
                continue
            }
            // Emit all but a suffix that could start the tag.
            var keep = 0
            if inReasoning {
                for k in stride(from: min(tag.count - 1, held.count), to: 0, by: -1) where held.hasSuffix(String(tag.prefix(k))) {
                    keep = k
                    break
                }
            }
            let cut = held.index(held.endIndex, offsetBy: -keep)
            let emit = String(held[..<cut])
            if !emit.isEmpty { out.append(inReasoning ? .reasoning(emit) : .content(emit)) }
            held = String(held[cut...])
            return out
        }
        return out
    }

    public mutating func flush() -> [Part] {
        defer { held = "" }
        guard !held.isEmpty else { return [] }
        return [inReasoning ? .reasoning(held) : .content(held)]
    }
}

extension String {
    func trimmingSuffixWhitespace() -> String {
        var s = self
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return s
    }
}
