import Foundation

/// The BPE model: initial symbols (bytes in the byte-level alphabet, or characters with
/// `<0xXX>` byte fallback) merged by rank. Merging takes the lowest-rank adjacent pair,
/// leftmost on ties, as the reference does; long pieces use a heap so a long input is not
/// quadratic, and results for repeated pieces are cached.
final class BPEModel: @unchecked Sendable {
    let vocabulary: Vocabulary
    /// (left id << 32 | right id) → (rank, merged id)
    let merges: [UInt64: (rank: Int32, id: Int32)]
    let byteLevel: Bool
    /// Token id of each byte's symbol (byte-level) or of `<0xXX>` (byte fallback); -1 if none.
    let byteIds: [Int32]
    let byteFallback: Bool
    let ignoreMerges: Bool
    let unknown: Int32?
    let fuseUnknown: Bool
    private var cache: [[UInt8]: [Int32]] = [:]
    private let lock = NSLock()

    init(vocabulary: Vocabulary, merges: [(String, String)], byteLevel: Bool, byteFallback: Bool,
         ignoreMerges: Bool, unknown: Int32?, fuseUnknown: Bool) {
        self.vocabulary = vocabulary
        var m: [UInt64: (rank: Int32, id: Int32)] = [:]
        m.reserveCapacity(merges.count)
        for (rank, (l, r)) in merges.enumerated() {
            guard let a = vocabulary.id(l), let b = vocabulary.id(r), let c = vocabulary.id(l + r) else { continue }
            let key = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
            if m[key] == nil { m[key] = (Int32(rank), c) }
        }
        self.merges = m
        self.byteLevel = byteLevel
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        self.unknown = unknown
        self.fuseUnknown = fuseUnknown
        byteIds = (0..<256).map { b in
            let key = byteLevel ? String(Character(ByteLevel.byteToScalar[b])) : String(format: "<0x%02X>", b)
            return vocabulary.id(key) ?? -1
        }
    }

    /// Token ids of one pre-tokenized piece.
    func tokenize(_ piece: [Unicode.Scalar], into out: inout [Int32]) {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(piece.count * 2)
        for s in piece { utf8.append(contentsOf: String(s).utf8) }
        lock.lock()
        let cached = cache[utf8]
        lock.unlock()
        if let cached {
            out += cached
            return
        }
        let ids = compute(piece, utf8)
        lock.lock()
        if cache.count > 100_000 { cache.removeAll(keepingCapacity: true) }
        cache[utf8] = ids
        lock.unlock()
        out += ids
    }

    private func compute(_ piece: [Unicode.Scalar], _ utf8: [UInt8]) -> [Int32] {
        if ignoreMerges {
            let word = byteLevel ? String(String.UnicodeScalarView(utf8.map { ByteLevel.byteToScalar[Int($0)] })) : String(String.UnicodeScalarView(piece))
            if let id = vocabulary.id(word) { return [id] }
        }
        var symbols: [Int32] = []
        symbols.reserveCapacity(utf8.count)
        if byteLevel {
            for b in utf8 {
                let id = byteIds[Int(b)]
                if id >= 0 { symbols.append(id) } else if let u = unknown { appendUnknown(u, &symbols) }
            }
        } else {
            for s in piece {
                if let id = vocabulary.id(String(s)) {
                    symbols.append(id)
                } else if byteFallback, String(s).utf8.allSatisfy({ byteIds[Int($0)] >= 0 }) {
                    for b in String(s).utf8 { symbols.append(byteIds[Int(b)]) }
                } else if let u = unknown {
                    appendUnknown(u, &symbols)
                }
            }
        }
        return symbols.count > 24 ? mergeWithHeap(symbols) : mergeSimple(symbols)
    }

    private func appendUnknown(_ u: Int32, _ symbols: inout [Int32]) {
        if fuseUnknown, symbols.last == u { return }
        symbols.append(u)
    }

    @inline(__always)
    private func merge(_ a: Int32, _ b: Int32) -> (rank: Int32, id: Int32)? {
        merges[UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))]
    }

    private func mergeSimple(_ input: [Int32]) -> [Int32] {
        var symbols = input
        while symbols.count > 1 {
            var best: (rank: Int32, at: Int, id: Int32) = (Int32.max, -1, -1)
            for k in 0..<(symbols.count - 1) {
                if let m = merge(symbols[k], symbols[k + 1]), m.rank < best.rank { best = (m.rank, k, m.id) }
            }
            if best.at < 0 { break }
            symbols[best.at] = best.id
            symbols.remove(at: best.at + 1)
        }
        return symbols
    }

    /// The same merge order with a binary heap of (rank, position) candidates and lazy
    /// deletion: a popped candidate whose symbols changed since it was pushed is skipped.
    private func mergeWithHeap(_ input: [Int32]) -> [Int32] {
        var symbols = input
        let n = symbols.count
        var next = Array(1...n)  // n means end
        var prev = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        struct Candidate { let rank: Int32; let pos: Int; let left: Int32; let right: Int32 }
        var heap = MinHeap<Candidate> { a, b in a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos) }
        func consider(_ i: Int) {
            let j = next[i]
            guard i >= 0, j < n, let m = merge(symbols[i], symbols[j]) else { return }
            heap.push(Candidate(rank: m.rank, pos: i, left: symbols[i], right: symbols[j]))
        }
        for i in 0..<(n - 1) { consider(i) }
        while let c = heap.pop() {
            let i = c.pos
            let j = next[i]
            guard alive[i], j < n, symbols[i] == c.left, symbols[j] == c.right, let m = merge(c.left, c.right) else { continue }
            symbols[i] = m.id
            alive[j] = false
            next[i] = next[j]
            if next[j] < n { prev[next[j]] = i }
            if prev[i] >= 0 { consider(prev[i]) }
            consider(i)
        }
        var out: [Int32] = []
        var i = 0
        while i < n {
            out.append(symbols[i])
            i = next[i]
        }
        return out
    }
}

/// Token strings and ids. Lookups go by exact UTF-8 bytes: Swift `String` equality is
/// canonical equivalence, and vocabularies hold canonically equivalent but distinct tokens
/// (Gemma 3 has 434 such pairs, e.g. a precomposed and a decomposed "à").
struct Vocabulary: Sendable {
    let tokens: [String]
    private let ids: [[UInt8]: Int32]

    init(tokens: [String]) {
        self.tokens = tokens
        var ids: [[UInt8]: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() {
            let key = Array(t.utf8)
            if ids[key] == nil { ids[key] = Int32(i) }
        }
        self.ids = ids
    }

    /// From (token, id) pairs whose ids may have gaps (filled with "").
    init(pairs: [(String, Int)]) throws {
        let size = (pairs.map(\.1).max() ?? -1) + 1
        guard size > 0, size < 10_000_000 else { throw TokenizerError("vocabulary ids out of range") }
        var tokens = [String](repeating: "", count: size)
        var ids: [[UInt8]: Int32] = [:]
        for (t, i) in pairs {
            guard i >= 0 else { throw TokenizerError("negative token id for \(t.debugDescription)") }
            tokens[i] = t
            ids[Array(t.utf8)] = Int32(i)
        }
        self.tokens = tokens
        self.ids = ids
    }

    func id(_ s: String) -> Int32? { ids[Array(s.utf8)] }
    func id(bytes: [UInt8]) -> Int32? { ids[bytes] }
}
