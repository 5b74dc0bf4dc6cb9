import Foundation

/// Sub-word models the pipeline can run on one pre-tokenized piece.
protocol SubwordModel: Sendable {
    func tokenize(_ piece: [Unicode.Scalar], into out: inout [Int32])
}

extension BPEModel: SubwordModel {}

/// SentencePiece BPE as GGUF `llama` vocabularies describe it (Gemma, Llama 2): start from
/// characters, repeatedly merge the adjacent pair whose concatenation is a vocabulary token
/// that comes first in the vocabulary (leftmost on ties), then map leftover characters that
/// are not tokens to their `<0xXX>` byte tokens. A heap keeps long inputs O(n log n).
///
/// Vocabulary order is the merge order `tokenizers` uses for these models; llama.cpp uses
/// the scores, which decrease with the id for normal tokens, so the two agree except on
/// tokens whose score is a placeholder (Gemma's whitespace runs, score -1000).
final class SentencePieceModel: SubwordModel, @unchecked Sendable {
    let vocabulary: Vocabulary
    let byteIds: [Int32]
    let unknown: Int32?
    private var cache: [[Unicode.Scalar]: [Int32]] = [:]
    private let lock = NSLock()

    init(vocabulary: Vocabulary, unknown: Int32?) {
        self.vocabulary = vocabulary
        self.unknown = unknown
        byteIds = (0..<256).map { vocabulary.id(String(format: "<0x%02X>", $0)) ?? -1 }
    }

    func tokenize(_ piece: [Unicode.Scalar], into out: inout [Int32]) {
        if piece.count <= 64 {
            lock.lock()
            let hit = cache[piece]
            lock.unlock()
            if let hit {
                out += hit
                return
            }
        }
        let ids = compute(piece)
        if piece.count <= 64 {
            lock.lock()
            if cache.count > 100_000 { cache.removeAll(keepingCapacity: true) }
            cache[piece] = ids
            lock.unlock()
        }
        out += ids
    }

    private func compute(_ piece: [Unicode.Scalar]) -> [Int32] {
        let n = piece.count
        guard n > 0 else { return [] }
        var text = piece.map { Array(String($0).utf8) }
        var next = Array(1...n)
        var prev = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        struct Candidate { let rank: Int32; let pos: Int; let left: [UInt8]; let right: [UInt8]; let id: Int32 }
        var heap = MinHeap<Candidate> { a, b in a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos) }
        func consider(_ i: Int) {
            guard i >= 0 else { return }
            let j = next[i]
            guard j < n, let id = vocabulary.id(bytes: text[i] + text[j]) else { return }
            heap.push(Candidate(rank: id, pos: i, left: text[i], right: text[j], id: id))
        }
        for i in 0..<(n - 1) { consider(i) }
        while let c = heap.pop() {
            let i = c.pos, j = next[i]
            guard alive[i], j < n, text[i] == c.left, text[j] == c.right else { continue }
            text[i] = c.left + c.right
            alive[j] = false
            next[i] = next[j]
            if next[j] < n { prev[next[j]] = i }
            consider(prev[i])
            consider(i)
        }
        var out: [Int32] = []
        var i = 0
        while i < n {
            if let id = vocabulary.id(bytes: text[i]) {
                out.append(id)
            } else {
                for b in text[i] {
                    let id = byteIds[Int(b)]
                    if id >= 0 { out.append(id) } else if let u = unknown { out.append(u) }
                }
            }
            i = next[i]
        }
        return out
    }
}
