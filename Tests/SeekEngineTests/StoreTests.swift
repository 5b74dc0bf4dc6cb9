import Foundation
import Testing
import SeekEngine

@Suite struct StoreTests {
    private func store() -> (ModelStore, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseek-store-\(UUID().uuidString)")
        return (ModelStore(environment: ["SWIFTSEEK_HOME": dir.path]), dir)
    }

    @Test func homeComesFromTheEnvironment() {
        let (s, dir) = store()
        #expect(s.modelsDirectory.path == dir.appendingPathComponent("models").path)
        #expect(s.path(for: "x").lastPathComponent == "x.gguf")
        #expect(s.list().isEmpty)
    }

    @Test func unknownNamesAndMissingFilesAreClearErrors() {
        let (s, _) = store()
        do { _ = try s.resolve("no-such-model", log: { _ in }); Issue.record("resolved") } catch {
            #expect("\(error)".contains("no-such-model"))
            #expect("\(error)".contains(Catalog.defaultModel))
        }
        do { _ = try s.resolve("/tmp/does/not/exist.gguf", log: { _ in }); Issue.record("resolved") } catch {
            #expect("\(error)".contains("no such file"))
        }
        #expect(throws: EngineError.self) { try s.pull("no-such-model", log: { _ in }) }
    }

    @Test func listShowsOnlyCompleteModels() throws {
        let (s, dir) = store()
        try FileManager.default.createDirectory(at: s.modelsDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data([1, 2, 3]).write(to: s.path(for: "a"))
        try Data([1]).write(to: s.modelsDirectory.appendingPathComponent(".b.gguf.partial-12"))
        #expect(s.list().map(\.name) == ["a"])
    }

    @Test func catalogHasTheIssueModels() {
        for name in ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct", "gemma-3-270m"] {
            let e = Catalog.entry(named: name)
            #expect(e != nil)
            #expect(e?.sha256.count == 64)
        }
        #expect(Catalog.entry(named: "qwen2.5-coder-0.5b-instruct")?.parts.count == 6)
        #expect(Catalog.entry(named: "gemma-3-270m")?.parts.count == 4)
    }
}
