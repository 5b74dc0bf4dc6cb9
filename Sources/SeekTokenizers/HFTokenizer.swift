import Foundation

/// Loads a Hugging Face tokenizer: a `tokenizer.json` file, or a model folder holding one
/// (plus `tokenizer_config.json` for the special tokens).
public func loadTokenizer(huggingFace path: String) throws -> any Tokenizer {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        throw TokenizerError("\(path): no such file or folder")
    }
    let folder = isDir.boolValue ? URL(fileURLWithPath: path) : URL(fileURLWithPath: path).deletingLastPathComponent()
    let file = isDir.boolValue ? folder.appendingPathComponent("tokenizer.json") : URL(fileURLWithPath: path)
    let config = folder.appendingPathComponent("tokenizer_config.json")
    return try HFTokenizerBuilder(file: file.path, configFile: FileManager.default.fileExists(atPath: config.path) ? config.path : nil).build()
}

struct HFTokenizerBuilder {
    let file: String
    let configFile: String?

    private func fail(_ m: String) -> TokenizerError { TokenizerError("\(file): \(m)") }

    private func object(_ v: Any?, _ what: String) throws -> [String: Any] {
        guard let o = v as? [String: Any] else { throw fail("\(what) should be an object") }
        return o
    }

    private func type(_ o: [String: Any]) -> String { o["type"] as? String ?? "" }

    func build() throws -> any Tokenizer {
        guard let data = FileManager.default.contents(atPath: file) else { throw fail("cannot read") }
        let root: [String: Any]
        do {
            root = try object(try JSONSerialization.jsonObject(with: data), "the file")
        } catch let e as TokenizerError {
            throw e
        } catch {
            throw fail("not valid JSON (\(error.localizedDescription))")
        }
        var config: [String: Any] = [:]
        if let configFile, let d = FileManager.default.contents(atPath: configFile),
           let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any] {
            config = o
        }

        let modelJSON = try object(root["model"], "model")
        guard type(modelJSON) == "BPE" || (type(modelJSON).isEmpty && modelJSON["merges"] != nil) else {
            throw fail("model type '\(type(modelJSON))' is not supported yet (supported: BPE)")
        }
        // Keys are read as NSString-free (token, id) pairs; see Vocabulary on why strings
        // must not be compared as Swift Strings.
        guard let vocabObject = modelJSON["vocab"] as? [String: Any] else { throw fail("model.vocab should map tokens to ids") }
        var pairs: [(String, Int)] = []
        pairs.reserveCapacity(vocabObject.count)
        for (k, v) in vocabObject {
            guard let i = v as? Int else { throw fail("model.vocab[\(k.debugDescription)] is not an integer id") }
            pairs.append((k, i))
        }
        var added: [AddedToken] = []
        var specialIds = Set<Int32>()
        for item in root["added_tokens"] as? [[String: Any]] ?? [] {
            guard let id = item["id"] as? Int, let content = item["content"] as? String else { throw fail("added token without id/content") }
            pairs.append((content, id))
            let special = item["special"] as? Bool ?? false
            if special { specialIds.insert(Int32(id)) }
            added.append(AddedToken(content: Array(content.utf8), id: Int32(id), special: special,
                                    lstrip: item["lstrip"] as? Bool ?? false, rstrip: item["rstrip"] as? Bool ?? false,
                                    singleWord: item["single_word"] as? Bool ?? false))
        }
        let vocab = try Vocabulary(pairs: pairs)
        var kinds = [TokenKind](repeating: .normal, count: vocab.tokens.count)
        for t in added { kinds[Int(t.id)] = t.special ? .control : .userDefined }

        var merges: [(String, String)] = []
        for (rank, m) in (modelJSON["merges"] as? [Any] ?? []).enumerated() {
            if let s = m as? String, let space = s.firstIndex(of: " ") {
                merges.append((String(s[..<space]), String(s[s.index(after: space)...])))
            } else if let pair = m as? [String], pair.count == 2 {
                merges.append((pair[0], pair[1]))
            } else {
                throw fail("merge \(rank) is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }

        let normalizer = try (root["normalizer"] as? [String: Any]).map(parseNormalizer)
        let pre = try (root["pre_tokenizer"] as? [String: Any]).map(parsePreTokenizer)
        let decoder = try (root["decoder"] as? [String: Any]).map(parseDecoder)
        let byteLevel = containsByteLevel(root["pre_tokenizer"]) || containsByteLevel(root["decoder"])
        let unknown = (modelJSON["unk_token"] as? String).flatMap { vocab.id($0) }
        let model = BPEModel(vocabulary: vocab, merges: merges, byteLevel: byteLevel,
                             byteFallback: modelJSON["byte_fallback"] as? Bool ?? false,
                             ignoreMerges: modelJSON["ignore_merges"] as? Bool ?? false,
                             unknown: unknown, fuseUnknown: modelJSON["fuse_unk"] as? Bool ?? false)
        let (prefix, suffix) = try (root["post_processor"] as? [String: Any]).map { try affixes($0, vocab) } ?? ([], [])

        func configToken(_ key: String) -> Int32? {
            let v = config[key]
            let text = (v as? String) ?? ((v as? [String: Any])?["content"] as? String)
            return text.flatMap { vocab.id($0) }
        }
        var eog = Set<Int32>()
        if let eos = configToken("eos_token") { eog.insert(eos) }
        for id in specialIds where endOfTurnTexts.contains(vocab.tokens[Int(id)]) { eog.insert(id) }

        return PipelineTokenizer(vocabulary: vocab, kinds: kinds, added: AddedVocabulary(added), normalizer: normalizer,
                                 preTokenizer: pre, model: model, prefix: prefix, suffix: suffix, decoder: decoder,
                                 bosToken: configToken("bos_token") ?? prefix.first, endOfGenerationTokens: eog)
    }

    private func containsByteLevel(_ v: Any?) -> Bool {
        guard let o = v as? [String: Any] else { return false }
        if type(o) == "ByteLevel" { return true }
        for key in ["pretokenizers", "decoders"] {
            if let list = o[key] as? [Any], list.contains(where: containsByteLevel) { return true }
        }
        return false
    }

    private func pattern(_ v: Any?) throws -> TextPattern {
        guard let o = v as? [String: Any] else { throw fail("pattern should be {\"String\": ...} or {\"Regex\": ...}") }
        if let s = o["String"] as? String { return .literal(s) }
        if let r = o["Regex"] as? String {
            do { return .regex(try NSRegularExpression(pattern: r), source: r) } catch { throw fail("unsupported regex \(r)") }
        }
        throw fail("pattern should be {\"String\": ...} or {\"Regex\": ...}")
    }

    private func parseNormalizer(_ o: [String: Any]) throws -> Normalizer {
        switch type(o) {
        case "Sequence": return .sequence(try (o["normalizers"] as? [[String: Any]] ?? []).map(parseNormalizer))
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        case "Strip": return .strip(left: o["strip_left"] as? Bool ?? true, right: o["strip_right"] as? Bool ?? true)
        case "Prepend": return .prepend(o["prepend"] as? String ?? "")
        case "Replace": return .replace(try pattern(o["pattern"]), o["content"] as? String ?? "")
        default: throw fail("normalizer '\(type(o))' is not supported yet")
        }
    }

    private func behavior(_ o: [String: Any]) throws -> SplitBehavior {
        let name = o["behavior"] as? String ?? "Isolated"
        guard let b = SplitBehavior(rawValue: name) else { throw fail("split behavior '\(name)' is unknown") }
        return b
    }

    private func parsePreTokenizer(_ o: [String: Any]) throws -> PreTokenizerStep {
        switch type(o) {
        case "Sequence":
            return .sequence(try (o["pretokenizers"] as? [[String: Any]] ?? []).map(parsePreTokenizer))
        case "Split":
            let p = try object(o["pattern"], "Split.pattern")
            let split: SplitPattern
            if let r = p["Regex"] as? String { split = try SplitPattern.from(regex: r) } else { split = .text(try pattern(p)) }
            return .split(split, try behavior(o), invert: o["invert"] as? Bool ?? false)
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: o["add_prefix_space"] as? Bool ?? true, useRegex: o["use_regex"] as? Bool ?? true)
        case "Digits":
            return .digits(individual: o["individual_digits"] as? Bool ?? false)
        case "Metaspace":
            let rep = (o["replacement"] as? String)?.unicodeScalars.first ?? "\u{2581}"
            var scheme = o["prepend_scheme"] as? String ?? ((o["add_prefix_space"] as? Bool ?? true) ? "always" : "never")
            scheme = scheme.lowercased()
            return .metaspace(replacement: rep, prependScheme: scheme, split: o["split"] as? Bool ?? true)
        case "Whitespace": return .whitespace
        case "WhitespaceSplit": return .whitespaceSplit
        case "Punctuation": return .punctuation(try behavior(o))
        default: throw fail("pre-tokenizer '\(type(o))' is not supported yet")
        }
    }

    private func parseDecoder(_ o: [String: Any]) throws -> DecoderStep {
        switch type(o) {
        case "Sequence": return .sequence(try (o["decoders"] as? [[String: Any]] ?? []).map(parseDecoder))
        case "ByteLevel": return .byteLevel
        case "Metaspace":
            let rep = (o["replacement"] as? String)?.unicodeScalars.first ?? "\u{2581}"
            let scheme = (o["prepend_scheme"] as? String)?.lowercased() ?? ((o["add_prefix_space"] as? Bool ?? true) ? "always" : "never")
            return .metaspace(replacement: rep, prependScheme: scheme)
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Strip": return .strip(content: o["content"] as? String ?? " ", start: o["start"] as? Int ?? 0, stop: o["stop"] as? Int ?? 0)
        case "Replace": return .replace(try pattern(o["pattern"]), o["content"] as? String ?? "")
        default: throw fail("decoder '\(type(o))' is not supported yet")
        }
    }

    /// Ids a post-processor puts before and after a single sequence.
    private func affixes(_ o: [String: Any], _ vocab: Vocabulary) throws -> ([Int32], [Int32]) {
        switch type(o) {
        case "TemplateProcessing":
            var before: [Int32] = [], after: [Int32] = []
            var seenSequence = false
            let specials = o["special_tokens"] as? [String: Any] ?? [:]
            for item in o["single"] as? [[String: Any]] ?? [] {
                if item["Sequence"] != nil {
                    seenSequence = true
                } else if let s = item["SpecialToken"] as? [String: Any], let name = s["id"] as? String {
                    let ids = ((specials[name] as? [String: Any])?["ids"] as? [Int])?.map(Int32.init) ?? vocab.id(name).map { [$0] } ?? []
                    if seenSequence { after += ids } else { before += ids }
                }
            }
            return (before, after)
        case "Sequence":
            var before: [Int32] = [], after: [Int32] = []
            for p in o["processors"] as? [[String: Any]] ?? [] {
                let (b, a) = try affixes(p, vocab)
                before = b + before
                after += a
            }
            return (before, after)
        case "ByteLevel":
            return ([], [])
        case "RobertaProcessing", "BertProcessing":
            let cls = (o["cls"] as? [Any])?.last as? Int
            let sep = (o["sep"] as? [Any])?.last as? Int
            return (cls.map { [Int32($0)] } ?? [], sep.map { [Int32($0)] } ?? [])
        default:
            throw fail("post-processor '\(type(o))' is not supported yet")
        }
    }
}
