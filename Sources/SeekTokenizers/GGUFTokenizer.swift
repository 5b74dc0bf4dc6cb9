import SeekFormats

/// Builds the tokenizer pipeline from GGUF `tokenizer.ggml.*` metadata.
struct GGUFTokenizerBuilder {
    let gguf: GGUFFile

    private func fail(_ m: String) -> TokenizerError { TokenizerError("\(gguf.path): \(m)") }

    func build() throws -> any Tokenizer {
        let model = try gguf.string("tokenizer.ggml.model")
        switch model {
        case "gpt2": return try byteLevelBPE()
        case "llama": return try sentencePiece()
        default: throw fail("tokenizer model '\(model)' is not supported yet (supported: gpt2, llama)")
        }
    }

    func tokens() throws -> (Vocabulary, [TokenKind]) {
        guard let values = gguf.metadata["tokenizer.ggml.tokens"]?.array else { throw fail("missing metadata 'tokenizer.ggml.tokens'") }
        var tokens: [String] = []
        tokens.reserveCapacity(values.count)
        for v in values {
            guard let s = v.string else { throw fail("tokenizer.ggml.tokens holds a non-string") }
            tokens.append(s)
        }
        guard !tokens.isEmpty, tokens.count < Int(Int32.max) else { throw fail("vocabulary size \(tokens.count) is invalid") }
        var kinds = [TokenKind](repeating: .normal, count: tokens.count)
        if let types = gguf.metadata["tokenizer.ggml.token_type"]?.array {
            guard types.count == tokens.count else {
                throw fail("tokenizer.ggml.token_type has \(types.count) entries for \(tokens.count) tokens")
            }
            for (i, t) in types.enumerated() { kinds[i] = t.int.flatMap { TokenKind(rawValue: Int32($0)) } ?? .normal }
        }
        return (Vocabulary(tokens: tokens), kinds)
    }

    func id(_ key: String, _ count: Int) -> Int32? {
        guard let v = gguf.metadata[key]?.int, v >= 0, v < count else { return nil }
        return Int32(v)
    }

    /// Control tokens are special; user-defined tokens are matched even without parseSpecial.
    func addedTokens(_ vocab: Vocabulary, _ kinds: [TokenKind]) -> AddedVocabulary {
        var added: [AddedToken] = []
        for (i, k) in kinds.enumerated() where k == .control || k == .userDefined {
            let text = Array(vocab.tokens[i].utf8)
            if !text.isEmpty {
                added.append(AddedToken(content: text, id: Int32(i), special: k == .control, lstrip: false, rstrip: false, singleWord: false))
            }
        }
        return AddedVocabulary(added)
    }

    func endOfGeneration(_ vocab: Vocabulary, _ kinds: [TokenKind]) -> Set<Int32> {
        var eog = Set<Int32>()
        for key in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = id(key, vocab.tokens.count) { eog.insert(id) }
        }
        // As llama.cpp does: chat models end turns with these control tokens even when the
        // file names only one EOS. Matched by exact text, control tokens only.
        for (i, k) in kinds.enumerated() where k == .control && endOfTurnTexts.contains(vocab.tokens[i]) { eog.insert(Int32(i)) }
        return eog
    }

    func specialAffixes(_ count: Int) -> ([Int32], [Int32], Int32?) {
        let bos = id("tokenizer.ggml.bos_token_id", count)
        let eos = id("tokenizer.ggml.eos_token_id", count)
        let addBOS = gguf.metadata["tokenizer.ggml.add_bos_token"]?.bool ?? false
        let addEOS = gguf.metadata["tokenizer.ggml.add_eos_token"]?.bool ?? false
        return (addBOS ? bos.map { [$0] } ?? [] : [], addEOS ? eos.map { [$0] } ?? [] : [], bos)
    }

    private func byteLevelBPE() throws -> any Tokenizer {
        let (vocab, kinds) = try tokens()
        var merges: [(String, String)] = []
        if let values = gguf.metadata["tokenizer.ggml.merges"]?.array {
            merges.reserveCapacity(values.count)
            for (rank, v) in values.enumerated() {
                guard let s = v.string, let space = s.firstIndex(of: " ") else {
                    throw fail("merge \(rank) is not two tokens separated by a space")
                }
                merges.append((String(s[..<space]), String(s[s.index(after: space)...])))
            }
        }
        let pre = gguf.metadata["tokenizer.ggml.pre"]?.string ?? "default"
        guard let (steps, nfc) = try PreTokenizerPattern.stepsForGGUF(pre: pre) else {
            throw fail("pre-tokenizer '\(pre)' is not supported yet")
        }
        let model = BPEModel(vocabulary: vocab, merges: merges, byteLevel: true, byteFallback: false,
                             ignoreMerges: false, unknown: nil, fuseUnknown: false)
        let (prefix, suffix, bos) = specialAffixes(vocab.tokens.count)
        return PipelineTokenizer(vocabulary: vocab, kinds: kinds, added: addedTokens(vocab, kinds),
                                 normalizer: nfc ? .nfc : nil, preTokenizer: .sequence(steps), model: model,
                                 prefix: prefix, suffix: suffix, decoder: .byteLevel, bosToken: bos,
                                 endOfGenerationTokens: endOfGeneration(vocab, kinds))
    }

    /// SentencePiece (`llama`): spaces become "▁" (with a leading one when
    /// `add_space_prefix`), the whole text is one piece, merged in vocabulary order with byte
    /// fallback. User-defined tokens made of spaces (Gemma's runs of 2–31 spaces) are stored
    /// with literal spaces; they are ordinary "▁…" vocabulary entries to the model, not
    /// tokens matched in the raw text, as the reference tokenizer treats them.
    private func sentencePiece() throws -> any Tokenizer {
        let (raw, kinds) = try tokens()
        guard let scoreValues = gguf.metadata["tokenizer.ggml.scores"]?.array, scoreValues.count == raw.tokens.count else {
            throw fail("tokenizer.ggml.scores is missing or has the wrong length")
        }
        var tokens = raw.tokens
        var addedKinds = kinds
        for (i, k) in kinds.enumerated() where k == .userDefined && tokens[i].unicodeScalars.contains(" ") {
            tokens[i] = String(String.UnicodeScalarView(tokens[i].unicodeScalars.map { $0 == " " ? "\u{2581}" : $0 }))
            addedKinds[i] = .normal
        }
        let vocab = Vocabulary(tokens: tokens)
        let addSpacePrefix = gguf.metadata["tokenizer.ggml.add_space_prefix"]?.bool ?? true
        var normalizer: [Normalizer] = []
        if addSpacePrefix { normalizer.append(.prepend(" ")) }
        normalizer.append(.replace(.literal(" "), "\u{2581}"))
        let model = SentencePieceModel(vocabulary: vocab, unknown: id("tokenizer.ggml.unknown_token_id", vocab.tokens.count))
        var decoder: [DecoderStep] = [.replace(.literal("\u{2581}"), " "), .byteFallback, .fuse]
        if addSpacePrefix { decoder.append(.strip(content: " ", start: 1, stop: 0)) }
        let (prefix, suffix, bos) = specialAffixes(vocab.tokens.count)
        return PipelineTokenizer(vocabulary: vocab, kinds: addedKinds, added: addedTokens(vocab, addedKinds),
                                 normalizer: .sequence(normalizer), preTokenizer: nil, model: model,
                                 prefix: prefix, suffix: suffix, decoder: .sequence(decoder), bosToken: bos,
                                 endOfGenerationTokens: endOfGeneration(vocab, kinds))
    }
}

/// Control tokens that end a chat turn in the model families we run (besides the file's EOS).
let endOfTurnTexts: Set<String> = ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<end_of_turn>",
                                   "<|end|>", "<｜end▁of▁sentence｜>", "<|eom_id|>", "<|EOT|>"]
