import ArgumentParser
import Foundation
import SeekEngine

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate text from a prompt (streams to stdout).")

    @OptionGroup var options: ModelOptions

    @Option(help: "The prompt text.")
    var prompt: String?

    @Option(help: "The prompt as comma-separated token ids.")
    var tokens: String?

    @Option(help: "Maximum tokens to generate.")
    var maxTokens: Int = 256

    @Option(help: "Temperature; 0 is greedy.")
    var temperature: Float = 0.8

    @Option(help: "Top-k (0 disables).")
    var topK: Int = 40

    @Option(help: "Top-p nucleus (1 disables).")
    var topP: Float = 0.95

    @Option(help: "Min-p (0 disables).")
    var minP: Float = 0.05

    @Option(help: "Repetition penalty (1 disables).")
    var repeatPenalty: Float = 1.0

    @Option(help: "Frequency penalty.")
    var frequencyPenalty: Float = 0

    @Option(help: "Presence penalty.")
    var presencePenalty: Float = 0

    @Option(help: "Random seed (for reproducible sampling).")
    var seed: UInt64?

    @Option(name: .customLong("stop"), help: "Stop when this text is generated (repeatable).")
    var stops: [String] = []

    @Flag(help: "Keep going past end-of-generation tokens.")
    var ignoreEos = false

    @Flag(help: "Print one JSON object {\"tokens\":[...],\"text\":\"...\"} for the generated part.")
    var json = false

    @Flag(help: "Print timing to stderr.")
    var verbose = false

    func validate() throws {
        guard (prompt == nil) != (tokens == nil) else { throw ValidationError("give exactly one of --prompt or --tokens") }
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be >= 0") }
    }

    func run() throws {
        let model = try options.load()
        let ids: [Int32]
        if let tokens {
            ids = try parseTokenList(tokens)
        } else {
            ids = model.tokenizer.encode(prompt ?? "", addSpecial: true, parseSpecial: true)
        }
        var request = GenerationRequest(prompt: ids)
        request.maxTokens = maxTokens
        request.stopStrings = stops
        request.stopAtEndOfGeneration = !ignoreEos
        request.sampling.temperature = temperature
        request.sampling.topK = topK
        request.sampling.topP = topP
        request.sampling.minP = minP
        request.sampling.repetitionPenalty = repeatPenalty
        request.sampling.frequencyPenalty = frequencyPenalty
        request.sampling.presencePenalty = presencePenalty
        request.sampling.seed = seed

        try failing {
            var generation = try Generation(model: model, request: request, contextSize: try options.contextSize(for: model), pool: options.pool)
            var text = ""
            var stats = GenerationStats()
            var reason = FinishReason.stop
            let out = FileHandle.standardOutput
            while let event = try generation.next() {
                switch event {
                case .token(_, let piece, _):
                    text += piece
                    if !json && !piece.isEmpty { out.write(Data(piece.utf8)) }
                case .finished(let r, let rest, let s):
                    text += rest
                    if !json && !rest.isEmpty { out.write(Data(rest.utf8)) }
                    stats = s
                    reason = r
                }
            }
            if json {
                let ids = generation.generated.map(String.init).joined(separator: ",")
                print("{\"tokens\":[\(ids)],\"text\":\(jsonString(text))}")
            } else {
                print()
            }
            if verbose {
                note(String(format: "finish: %@; prompt %d tokens, %.1f tok/s; generated %d tokens, %.1f tok/s",
                            reason.rawValue, stats.promptTokens, stats.prefillTokensPerSecond,
                            stats.generatedTokens, stats.decodeTokensPerSecond))
            }
        }
    }
}
