import ArgumentParser
import Foundation
import SeekEngine
import SeekKernels

@main
struct SwiftSeek: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftseek",
        abstract: "Run DeepSeek-family and other GGUF language models locally.",
        version: "0.1.0",
        subcommands: [Chat.self, Serve.self, Generate.self, Template.self, Logits.self, Tokenize.self, Detokenize.self, Info.self, Pull.self, List.self, Bench.self, BenchTokenizer.self]
    )
}

/// Where diagnostics go: stderr, so stdout carries only the requested output.
func note(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// Turns an engine/format error into a clean one-line failure (no stack trace).
@discardableResult
func failing<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ExitCode { throw e } catch let e as ValidationError { throw e } catch {
        note("error: \(error)")
        throw ExitCode.failure
    }
}

struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "A model store name (see `swiftseek list`) or a path to a GGUF file. Default: \(Catalog.defaultModel), pulled on first use.")
    var model: String?

    @Option(help: "Threads for the forward pass (default: all cores).")
    var threads: Int?

    @Option(help: "Context size in tokens (default: the model's, at most 4096).")
    var ctx: Int?

    @Flag(help: "Float activations in every matrix product (no 16-bit quantization): slower, and within ~1e-5 of a float reference instead of ~1e-4. Also SWIFTSEEK_EXACT=1.")
    var exact = false

    @Option(help: "Bits of the quantized activations the integer kernels multiply: 16 (default: logits within ~0.002 of float activations on average) or 8 (llama.cpp's precision: faster, mostly in prefill; SmolLM2 logits ~0.14 off). Also SWIFTSEEK_ACTIVATIONS.")
    var activations: Int?

    func validate() throws {
        if let t = threads, t < 1 || t > 1024 { throw ValidationError("--threads must be between 1 and 1024") }
        if let a = activations, a != 8 && a != 16 { throw ValidationError("--activations must be 8 or 16") }
        if let e = ProcessInfo.processInfo.environment["SWIFTSEEK_ACTIVATIONS"], !e.isEmpty, e != "8", e != "16" {
            throw ValidationError("SWIFTSEEK_ACTIVATIONS must be 8 or 16 (it is \"\(e)\")")
        }
        if exact && activations != nil { throw ValidationError("--exact uses float activations: give --exact or --activations, not both") }
        if let c = ctx, c < 1 { throw ValidationError("--ctx must be at least 1") }
    }

    func load() throws -> LoadedModel {
        if exact { KernelSettings.exactActivations = true }
        if let activations { KernelSettings.activationBits = activations }
        return try failing {
            let path = try ModelStore().resolve(model, log: note)
            return try LoadedModel(path: path)
        }
    }

    var pool: ThreadPool { ThreadPool(threads: threads ?? ThreadPool.defaultThreadCount) }

    /// The KV cache size: `--ctx`, or the model's trained context up to 4096. Larger than
    /// the trained context is refused (positions beyond it need RoPE scaling the file does
    /// not ask for).
    func contextSize(for model: LoadedModel) throws -> Int {
        let trained = model.architecture.trainedContextLength
        guard let ctx else { return min(trained, 4096) }
        guard ctx <= trained else {
            throw ValidationError("--ctx \(ctx) is larger than the \(trained) tokens \(URL(fileURLWithPath: model.path).lastPathComponent) was trained for")
        }
        return ctx
    }
}

/// `--tokens 1,2,3` → ids, with a clear error for anything else.
func parseTokenList(_ s: String) throws -> [Int32] {
    let parts = s.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    var out: [Int32] = []
    for p in parts {
        guard let v = Int32(p), v >= 0 else { throw ValidationError("--tokens must be comma-separated non-negative integers; '\(p)' is not") }
        out.append(v)
    }
    guard !out.isEmpty else { throw ValidationError("--tokens is empty") }
    return out
}

func jsonString(_ s: String) -> String {
    let data = (try? JSONEncoder().encode([s])) ?? Data("[\"\"]".utf8)
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
}
