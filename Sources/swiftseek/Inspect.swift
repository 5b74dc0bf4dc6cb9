import ArgumentParser
import Foundation
import SeekEngine
import SeekFormats
import SeekTokenizers

struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write the logits of a token sequence as little-endian float32 [positions × vocab].")

    @OptionGroup var options: ModelOptions

    @Option(help: "Comma-separated token ids.")
    var tokens: String

    @Option(help: "Output file.")
    var output: String

    @Flag(help: "Write every position, not just the last.")
    var allPositions = false

    func run() throws {
        let ids = try parseTokenList(tokens)
        let model = try options.load()
        try failing {
            let trained = model.architecture.trainedContextLength
            guard ids.count <= trained else {
                throw ValidationError("\(ids.count) tokens are more than the \(trained) the model was trained for")
            }
            let ctx = max(try options.contextSize(for: model), ids.count)
            let cache = model.architecture.makeCache(capacity: ctx)
            let logits = try model.architecture.forward(ids, cache: cache, allPositions: allPositions, pool: options.pool)
            let data = logits.withUnsafeBufferPointer { Data(buffer: $0) }
            guard FileManager.default.createFile(atPath: output, contents: data) else {
                throw ValidationError("cannot write \(output)")
            }
        }
    }
}

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the token ids of a text as a JSON array.")

    @OptionGroup var options: ModelOptions

    @Option(help: "Use a Hugging Face tokenizer (tokenizer.json or a folder with one) instead of a model's.")
    var tokenizer: String?

    @Option(help: "The text.")
    var text: String?

    @Option(help: "Read the text from this file.")
    var file: String?

    @Flag(help: "Treat special-token strings in the text as plain text.")
    var noSpecial = false

    @Flag(help: "Do not add the BOS/EOS tokens the tokenizer adds around a text.")
    var noAdd = false

    func validate() throws {
        guard (text == nil) != (file == nil) else { throw ValidationError("give exactly one of --text or --file") }
    }

    func run() throws {
        let tok = try loadTokenizerOption(tokenizer, options)
        let input: String
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            guard let s = String(data: data, encoding: .utf8) else { throw ValidationError("\(file) is not UTF-8 text") }
            input = s
        } else {
            input = text ?? ""
        }
        let ids = tok.encode(input, addSpecial: !noAdd, parseSpecial: !noSpecial)
        print("[" + ids.map(String.init).joined(separator: ",") + "]")
    }
}

struct Detokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the text of comma-separated token ids.")

    @OptionGroup var options: ModelOptions

    @Option(help: "Use a Hugging Face tokenizer (tokenizer.json or a folder with one) instead of a model's.")
    var tokenizer: String?

    @Option(help: "Comma-separated token ids.")
    var tokens: String

    func run() throws {
        let ids = try parseTokenList(tokens)
        let tok = try loadTokenizerOption(tokenizer, options)
        if let bad = ids.first(where: { Int($0) >= tok.vocabularySize }) {
            throw ValidationError("token id \(bad) is outside the vocabulary (0..<\(tok.vocabularySize))")
        }
        print(tok.decode(ids, renderSpecial: true))
    }
}

/// `--tokenizer PATH` (a Hugging Face tokenizer) or the model's own tokenizer.
func loadTokenizerOption(_ path: String?, _ options: ModelOptions) throws -> any Tokenizer {
    try failing {
        if let path { return try loadTokenizer(huggingFace: try ModelStore().resolveTokenizer(path, log: note)) }
        // Only the tokenizer: works for models whose architecture cannot run yet.
        return try loadTokenizer(from: GGUFFile(path: try ModelStore().resolve(options.model, log: note)))
    }
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Describe a model: architecture, size, tensor types, context, template.")

    @OptionGroup var options: ModelOptions

    @Flag(help: "Also list every metadata key.")
    var metadata = false

    func run() throws {
        let path = try failing { try ModelStore().resolve(options.model, log: note) }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            return try describeFolder(path)
        }
        // Works for any valid GGUF, even one whose architecture SwiftSeek cannot run yet.
        let g = try failing { try GGUFFile(path: path) }
        var types: [String: (count: Int, bytes: Int)] = [:]
        var params = 0
        for t in g.tensors {
            types[t.type.description, default: (0, 0)].count += 1
            types[t.type.description, default: (0, 0)].bytes += t.byteCount
            params += t.elementCount
        }
        func row(_ k: String, _ v: String) { print(k.count < 16 ? k.padding(toLength: 16, withPad: " ", startingAt: 0) + v : k + "  " + v) }
        row("file", g.path)
        row("name", g.metadata["general.name"]?.string ?? "-")
        row("architecture", (try? g.architecture()) ?? "-")
        row("gguf version", "\(g.version)")
        row("parameters", String(format: "%.1fM", Double(params) / 1e6))
        row("size", String(format: "%.1f MiB", Double(g.file.count) / 1048576))
        do {
            let model = try LoadedModel(gguf: g)
            row("context", "\(model.architecture.trainedContextLength) (trained)")
            for (k, v) in model.architecture.summary { row(k, v) }
            row("kv cache", kvCacheSummary(model))
            row("tokenizer", "\(g.metadata["tokenizer.ggml.model"]?.string ?? "-") / \(g.metadata["tokenizer.ggml.pre"]?.string ?? "-"), \(model.tokenizer.vocabularySize) tokens")
        } catch {
            row("runnable", "no: \(error)")
        }
        row("tensor types", types.sorted { $0.value.bytes > $1.value.bytes }
            .map { "\($0.key) ×\($0.value.count) (\(String(format: "%.1f", Double($0.value.bytes) / 1048576)) MiB)" }
            .joined(separator: ", "))
        row("chat template", g.metadata["tokenizer.chat_template"] != nil ? "yes" : "no")
        if metadata {
            for k in g.metadataKeys { row("  " + k, g.metadata[k]?.summary ?? "") }
        }
    }
}

/// "18.0 KiB per token (f16); 72.0 MiB at 4096 tokens" (the default context, capped by training).
func kvCacheSummary(_ model: LoadedModel) -> String {
    let cache = model.architecture.makeCache(capacity: 1)
    let perToken = cache.bytesPerToken
    let ctx = min(model.architecture.trainedContextLength, 4096)
    return String(format: "%.1f KiB per token (%@); %.1f MiB at %d tokens", Double(perToken) / 1024, cache.half ? "f16" : "f32",
                  Double(perToken * ctx) / 1048576, ctx)
}

extension Info {
    /// A Hugging Face folder: config.json, safetensors tensors and what the architecture says.
    func describeFolder(_ path: String) throws {
        let folder = try failing { try HuggingFaceFolder(path: path) }
        func row(_ k: String, _ v: String) { print(k.padding(toLength: 16, withPad: " ", startingAt: 0) + v) }
        var params = 0
        var types: [String: Int] = [:]
        for name in folder.tensorNames {
            if let t = folder.tensor(name) { params += t.elementCount }
            types[folder.dtype(of: name)?.rawValue ?? "?", default: 0] += 1
        }
        row("folder", path)
        row("model type", folder.modelType ?? "-")
        row("parameters", String(format: "%.2fM", Double(params) / 1e6))
        row("tensor types", types.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        do {
            let model = try LoadedModel(folder: folder)
            row("context", "\(model.architecture.trainedContextLength) (trained)")
            for (k, v) in model.architecture.summary { row(k, v) }
            row("kv cache", kvCacheSummary(model))
            row("tokenizer", "tokenizer.json, \(model.tokenizer.vocabularySize) tokens")
            row("chat template", model.chatTemplate != nil ? "yes" : "no")
        } catch {
            row("runnable", "no: \(error)")
        }
    }
}

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Fetch a model into the local store.")

    @Argument(help: "Model or tokenizer name (\((Catalog.entries.map(\.name) + Catalog.tokenizers.map(\.name)).joined(separator: ", "))).")
    var name: String

    @Flag(help: "Download again even if the model is already in the store.")
    var force = false

    func run() throws {
        try failing {
            if let asset = Catalog.tokenizer(named: name) {
                try ModelStore().pullTokenizer(asset, force: force, log: note)
            } else {
                try ModelStore().pull(name, force: force, log: note)
            }
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the models in the local store and those that can be pulled.")

    func run() {
        let store = ModelStore()
        let local = store.list()
        print("store: \(store.modelsDirectory.path)")
        if local.isEmpty { print("  (empty)") }
        for m in local { print(String(format: "  %@  %.1f MiB", m.name, Double(m.bytes) / 1048576)) }
        print("pullable:")
        let have = Set(local.map(\.name))
        for e in Catalog.entries {
            print("  \(e.name)\(have.contains(e.name) ? " (pulled)" : "")  \(e.summary)")
        }
        for t in Catalog.tokenizers {
            let pulled = FileManager.default.fileExists(atPath: store.tokenizersDirectory.appendingPathComponent(t.name).path)
            print("  \(t.name)\(pulled ? " (pulled)" : "")  \(t.summary)")
        }
    }
}
