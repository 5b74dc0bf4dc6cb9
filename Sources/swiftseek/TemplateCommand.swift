import ArgumentParser
import Foundation
import SeekEngine
import SeekFormats
import SeekTemplates
import SeekTokenizers

struct Template: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Render a conversation with a chat template; prints the prompt only.")

    @Option(name: .shortAndLong, help: "Use this model's chat template (a store name or a .gguf path).")
    var model: String?

    @Option(help: "A Jinja chat template file instead of a model's.")
    var template: String?

    @Option(help: "A JSON file with the messages array.")
    var messages: String

    @Option(help: "A JSON file with an array of tool definitions.")
    var tools: String?

    @Option(help: "bos_token text (with --template).")
    var bosToken: String = ""

    @Option(help: "eos_token text (with --template).")
    var eosToken: String = ""

    @Flag(help: "End with the assistant turn opener.")
    var addGenerationPrompt = false

    func validate() throws {
        guard (model == nil) != (template == nil) else { throw ValidationError("give exactly one of --model or --template") }
    }

    func run() throws {
        try failing {
            let chat: ChatTemplate
            if let template {
                guard let data = FileManager.default.contents(atPath: template) else { throw ValidationError("cannot read \(template)") }
                chat = try ChatTemplate(String(decoding: data, as: UTF8.self), bosToken: bosToken, eosToken: eosToken)
            } else {
                let gguf = try GGUFFile(path: try ModelStore().resolve(model, log: note))
                guard let template = try ggufChatTemplate(gguf, try loadTokenizer(from: gguf)) else {
                    throw ValidationError("\(gguf.path) has no chat template")
                }
                chat = template
            }
            func json(_ path: String) throws -> Value {
                guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
                return try Value.json(String(decoding: data, as: UTF8.self))
            }
            let rendered = try chat.render(messages: try json(messages), tools: try tools.map(json), addGenerationPrompt: addGenerationPrompt)
            FileHandle.standardOutput.write(Data(rendered.utf8))
        }
    }
}
