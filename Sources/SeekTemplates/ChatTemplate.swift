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
        // As transformers does: `tools` and `documents` are always defined (None when
        // absent), and message keys whose value is None are dropped.
        var vars: [String: Value] = [
            "messages": Self.dropNoneKeys(messages),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
            "tools": tools ?? .none,
            "documents": documents ?? .none,
        ]
        for (k, v) in extra { vars[k] = v }
        return try template.render(vars, now: now)
    }
}

extension ChatTemplate {
    static func dropNoneKeys(_ messages: Value) -> Value {
        guard case .array(let list) = messages else { return messages }
        return .array(list.map { m in
            guard case .object(let o) = m else { return m }
            return .object(OrderedDict(o.pairs.filter { !$0.value.isNone }.map { ($0.key, $0.value) }))
        })
    }
}

extension Value {
    /// A message object `{"role": role, "content": content}`.
    public static func message(_ role: String, _ content: String) -> Value {
        .object(OrderedDict([("role", .string(role)), ("content", .string(content))]))
    }
}
