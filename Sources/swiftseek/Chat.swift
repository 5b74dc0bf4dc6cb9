import ArgumentParser
import Dispatch
import Foundation
import SeekEngine
import SeekTemplates

#if canImport(Glibc)
import Glibc
#endif

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with a model in the terminal (its own chat template, streamed replies).",
        discussion: "Commands: /clear, /system TEXT, /help, /exit. Ctrl-C stops a reply; Ctrl-C at the prompt or Ctrl-D quits.")

    @OptionGroup var options: ModelOptions

    @Option(help: "A system prompt.")
    var system: String?

    @Option(help: "Answer this one message and exit ('-' reads it from stdin).")
    var prompt: String?

    @Option(help: "Maximum tokens per reply.")
    var maxTokens: Int = 1024

    @Option(help: "Temperature; 0 is greedy.")
    var temperature: Float = 0.7

    @Option(help: "Top-p nucleus (1 disables).")
    var topP: Float = 0.95

    @Option(help: "Random seed.")
    var seed: UInt64?

    func run() throws {
        let model = try options.load()
        guard let template = model.chatTemplate else {
            throw failingError("\(model.path) has no chat template; use `swiftseek generate` for plain completion")
        }
        let session = Session(model: model, contextSize: try options.contextSize(for: model), pool: options.pool)
        var conversation = ChatConversation(system: system)
        let terminal = Terminal()

        if let prompt {
            var text = prompt
            if prompt == "-" {
                text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            }
            conversation.add(.message("user", text.trimmingCharacters(in: .whitespacesAndNewlines)))
            _ = try reply(session, template, &conversation, terminal, interactive: false)
            return
        }

        terminal.say("SwiftSeek chat — \(URL(fileURLWithPath: model.path).lastPathComponent). /help for commands, Ctrl-D to quit.")
        Interrupts.shared.install()
        while true {
            terminal.prompt()
            Interrupts.shared.atPrompt = true
            guard let line = readLine() else {
                terminal.say("")
                return
            }
            Interrupts.shared.atPrompt = false
            let input = line.trimmingCharacters(in: .whitespaces)
            if input.isEmpty { continue }
            if input.hasPrefix("/") {
                let (command, rest) = input.splitOnce()
                switch command {
                case "/exit", "/quit": return
                case "/clear":
                    conversation.clear()
                    session.reset()
                    terminal.dim("(conversation cleared)")
                case "/system":
                    conversation.system = rest.isEmpty ? nil : rest
                    conversation.clear()
                    session.reset()
                    terminal.dim(rest.isEmpty ? "(system prompt removed; conversation cleared)" : "(system prompt set; conversation cleared)")
                case "/help":
                    terminal.dim("/clear  start over\n/system TEXT  set the system prompt (and start over)\n/exit  quit\nCtrl-C stops a reply; Ctrl-C at the prompt or Ctrl-D quits.")
                default:
                    terminal.dim("unknown command \(command); /help lists them")
                }
                continue
            }
            conversation.add(.message("user", input))
            do {
                if try !reply(session, template, &conversation, terminal, interactive: true) {
                    conversation.removeLast()
                }
            } catch {
                conversation.removeLast()
                terminal.error("\(error)")
            }
        }
    }

    /// Generates one assistant turn; returns false when nothing was added.
    private func reply(_ session: Session, _ template: ChatTemplate, _ conversation: inout ChatConversation,
                       _ terminal: Terminal, interactive: Bool) throws -> Bool {
        let model = session.model
        let rendered = try template.render(messages: conversation.messages, addGenerationPrompt: true)
        let startsWithBOS = !template.bosToken.isEmpty && rendered.hasPrefix(template.bosToken)
        let ids = model.tokenizer.encode(rendered, addSpecial: !startsWithBOS, parseSpecial: true)
        guard ids.count < session.contextSize else {
            throw failingError("the conversation is \(ids.count) tokens, more than the context of \(session.contextSize); /clear to start over or raise --ctx")
        }
        var request = GenerationRequest(prompt: ids)
        request.maxTokens = min(maxTokens, session.contextSize - ids.count)
        request.sampling.temperature = temperature
        request.sampling.topP = topP
        request.sampling.seed = seed
        var generation = try session.generate(request)
        var parser = ReasoningParser(prompt: rendered)
        var answer = ""
        var thinking = false
        var stats = GenerationStats()
        Interrupts.shared.stopRequested = false
        func show(_ parts: [ReasoningParser.Part]) {
            for part in parts {
                switch part {
                case .reasoning(let t):
                    if !thinking { terminal.startDim(); thinking = true }
                    terminal.write(t)
                case .content(let t):
                    if thinking { terminal.endDim(); terminal.write("\n"); thinking = false }
                    answer += t
                    terminal.write(t)
                }
            }
        }
        var stopped = false
        while let event = try generation.next() {
            if Interrupts.shared.stopRequested {
                stopped = true
                break
            }
            switch event {
            case .token(_, let text, _):
                show(parser.push(text))
            case .finished(_, let rest, let s):
                show(parser.push(rest))
                stats = s
            }
        }
        show(parser.flush())
        if thinking { terminal.endDim() }
        terminal.write("\n")
        if stopped { stats = generation.stats }
        terminal.dim(String(format: "[%d tokens, %.1f tok/s; prompt %d tokens (%d cached), %.1f tok/s%@]",
                            stats.generatedTokens, stats.decodeTokensPerSecond, stats.promptTokens, stats.cachedPromptTokens,
                            stats.prefillTokensPerSecond, stopped ? "; stopped" : ""))
        conversation.add(.message("assistant", answer))
        return true
    }
}

/// The messages of a terminal conversation (the system prompt kept apart so /clear keeps it).
struct ChatConversation {
    var system: String?
    private var turns: [Value] = []

    init(system: String?) { self.system = system }

    var messages: Value {
        .array((system.map { [Value.message("system", $0)] } ?? []) + turns)
    }

    mutating func add(_ m: Value) { turns.append(m) }
    mutating func removeLast() { if !turns.isEmpty { turns.removeLast() } }
    mutating func clear() { turns = [] }
}

/// Ctrl-C: stops the reply being generated, or quits at the prompt.
final class Interrupts: @unchecked Sendable {
    static let shared = Interrupts()
    private let lock = NSLock()
    private var _stop = false
    private var _atPrompt = false
    private var source: DispatchSourceSignal?

    var stopRequested: Bool {
        get { lock.withLock { _stop } }
        set { lock.withLock { _stop = newValue } }
    }

    var atPrompt: Bool {
        get { lock.withLock { _atPrompt } }
        set { lock.withLock { _atPrompt = newValue } }
    }

    func install() {
        signal(SIGINT, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        s.setEventHandler { [self] in
            if atPrompt {
                FileHandle.standardOutput.write(Data("\n".utf8))
                exit(0)
            }
            stopRequested = true
        }
        s.resume()
        source = s
    }
}

/// Terminal output: ANSI dim for thinking and notes when stdout is a terminal.
struct Terminal {
    let color = isatty(STDOUT_FILENO) != 0
    private let out = FileHandle.standardOutput

    func write(_ s: String) { out.write(Data(s.utf8)) }
    func say(_ s: String) { write(s + "\n") }
    func prompt() { write(color ? "\u{1B}[1m>>> \u{1B}[0m" : ">>> ") }
    func startDim() { if color { write("\u{1B}[2m") } }
    func endDim() { if color { write("\u{1B}[0m") } }
    func dim(_ s: String) {
        startDim()
        write(s)
        endDim()
        write("\n")
    }
    func error(_ s: String) { FileHandle.standardError.write(Data("error: \(s)\n".utf8)) }
}

extension String {
    /// "/system be brief" → ("/system", "be brief")
    func splitOnce() -> (String, String) {
        guard let space = firstIndex(of: " ") else { return (self, "") }
        return (String(self[..<space]), String(self[index(after: space)...]).trimmingCharacters(in: .whitespaces))
    }
}

func failingError(_ message: String) -> Error {
    note("error: \(message)")
    return ExitCode.failure
}
