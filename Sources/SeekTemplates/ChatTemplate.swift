import Foundation

/// A model's chat template: renders a conversation into the prompt text exactly as
/// transformers' `apply_chat_template` does (jinja2 with trim_blocks and lstrip_blocks,
/// `bos_token`/`eos_token`, `add_generation_prompt`, `tools`, `raise_exception`, `strftime_now`).
public struct ChatTemplate: Sendable {
    public let source: String
    let template: Template
    public let bosToken: String
    public let eosToken: String

    public init(_ source: String, bosToken: String = "", eosToken: String = "") throws {
        self.source = source
        template = try Template(source)
        self.bosToken = bosToken
        self.eosToken = eosToken
    }

    /// `messages` is a JSON-like array of objects (`role`, `content`, optional
    /// `tool_calls`, `reasoning_content`, ...); `tools` an array of OpenAI tool schemas.
    public func render(messages: Value, tools: Value? = nil, documents: Value? = nil, addGenerationPrompt: Bool,
                       extra: [String: Value] = [:], now: Date = Date()) throws -> String {
        var vars: [String: Value] = [
            "messages": messages,
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
        ]
        if let tools, !tools.isNone { vars["tools"] = tools }
        if let documents, !documents.isNone { vars["documents"] = documents }
        for (k, v) in extra { vars[k] = v }
        return try template.render(vars, now: now)
    }
}

extension Value {
    /// A message object `{"role": role, "content": content}`.
    public static func message(_ role: String, _ content: String) -> Value {
        .object(OrderedDict([("role", .string(role)), ("content", .string(content))]))
    }
}
