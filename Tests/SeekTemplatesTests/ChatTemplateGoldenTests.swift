import Foundation
import Testing
@testable import SeekTemplates
import SeekTestSupport

/// Every (template, conversation, add_generation_prompt) rendered by transformers'
/// `apply_chat_template` (scripts/gen_template_fixtures.py) must render byte-identically here,
/// or fail where it failed there.
@Suite struct ChatTemplateGoldenTests {
    struct TemplateInfo: Decodable {
        let file: String
        let bos_token: String
        let eos_token: String
    }

    struct Case: Decodable {
        let template: String
        let conversation: String
        let add_generation_prompt: Bool
        let output: String?
        let error: String?
        let error_kind: String?
    }

    struct Expected: Decodable {
        let templates: [String: TemplateInfo]
        let cases: [Case]
    }

    /// transformers' pinned `strftime_now` date: 2025-03-14 15:09:26.
    static let pinnedDate: Date = {
        var c = DateComponents()
        c.year = 2025; c.month = 3; c.day = 14; c.hour = 15; c.minute = 9; c.second = 26
        c.timeZone = TimeZone(identifier: "UTC")
        return Calendar(identifier: .gregorian).date(from: c)!
    }()

    @Test func everyGoldenRenderMatches() throws {
        let expected = try Fixtures.json(Expected.self, "templates/expected.json")
        // Conversations keep key order and int/float distinctions, so parse them as Values.
        guard case .array(let conversations) = try Value.json(String(decoding: try Fixtures.data("templates/conversations.json"), as: UTF8.self)) else {
            Issue.record("conversations.json is not an array")
            return
        }
        var byName: [String: (messages: Value, tools: Value?)] = [:]
        for c in conversations {
            guard case .object(let o) = c, case .string(let name)? = o["name"], let messages = o["messages"] else { continue }
            let tools = o["tools"].flatMap { $0.isNone ? nil : $0 }
            byName[name] = (messages, tools)
        }
        var templates: [String: ChatTemplate] = [:]
        for (name, info) in expected.templates {
            let source = String(decoding: try Fixtures.data("templates/\(info.file)"), as: UTF8.self)
            templates[name] = try ChatTemplate(source, bosToken: info.bos_token, eosToken: info.eos_token)
        }
        #expect(expected.cases.count >= 200)
        var failures = 0
        for c in expected.cases {
            let label = "\(c.template) / \(c.conversation) / gen=\(c.add_generation_prompt)"
            guard let template = templates[c.template], let conv = byName[c.conversation] else {
                Issue.record("\(label): missing template or conversation")
                failures += 1
                continue
            }
            do {
                let out = try template.render(messages: conv.messages, tools: conv.tools, addGenerationPrompt: c.add_generation_prompt, now: Self.pinnedDate)
                if let want = c.output {
                    if out != want {
                        failures += 1
                        if failures <= 8 { Issue.record("\(label): output differs\n--- got\n\(out)\n--- want\n\(want)") }
                    }
                } else {
                    failures += 1
                    if failures <= 8 { Issue.record("\(label): rendered, but transformers failed with \(c.error ?? "?")") }
                }
            } catch {
                if c.output != nil {
                    failures += 1
                    if failures <= 8 { Issue.record("\(label): \(error)") }
                } else if c.error_kind == "raise_exception", case TemplateError.raised(let m) = error, m != c.error {
                    failures += 1
                    Issue.record("\(label): raised '\(m)', expected '\(c.error ?? "")'")
                }
            }
        }
        #expect(failures == 0, "\(failures) of \(expected.cases.count) cases differ")
    }
}
