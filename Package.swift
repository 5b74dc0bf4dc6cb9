// swift-tools-version: 6.0
import PackageDescription

// Everything is compiled for baseline x86-64; the AVX2 kernels (CSeekSIMD) carry their own
// target attributes and are chosen at run time.
let package = Package(
    name: "swiftseek",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "swiftseek", targets: ["swiftseek"]),
        .library(name: "SeekEngine", targets: ["SeekEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // Parsing of model files only: GGUF (and later safetensors, config.json). No math.
        .target(name: "SeekFormats"),
        // The only hot loops: tensor types, dequantization, dot/matmul, norms, RoPE, thread pool.
        .target(name: "SeekKernels", dependencies: ["SeekFormats", "CSeekSIMD"]),
        // The few innermost loops Swift's SIMD types cannot express well (int8 dot products
        // with vpmaddubsw/vpmaddwd): header-only AVX2 intrinsics, dispatched at run time.
        .target(name: "CSeekSIMD"),
        // Tokenizers built from GGUF metadata (byte-level BPE for now).
        .target(name: "SeekTokenizers", dependencies: ["SeekFormats"]),
        // Jinja chat templates (our own engine, jinja2 semantics as transformers renders them).
        .target(name: "SeekTemplates"),
        // Architectures, layers, KV cache and the registry.
        .target(name: "SeekModels", dependencies: ["SeekFormats", "SeekKernels"]),
        // Sampling, stop detection, generation loop, model store.
        .target(name: "SeekEngine", dependencies: ["SeekFormats", "SeekKernels", "SeekTokenizers", "SeekTemplates", "SeekModels"]),
        // The web chat's conversations in SQLite (GRDB, WAL, migrations).
        .target(name: "SeekChatStore", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        // The DeepSeek/OpenAI-compatible HTTP API on Hummingbird, and the web chat (Web/ is its page).
        .target(
            name: "SeekServer",
            dependencies: [
                "SeekEngine", "SeekTemplates", "SeekTokenizers", "SeekChatStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Web")]
        ),
        .executableTarget(
            name: "swiftseek",
            dependencies: [
                "SeekServer", "SeekChatStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "SeekEngine", "SeekKernels", "SeekFormats", "SeekTokenizers", "SeekTemplates",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fixture paths and real-model lookup shared by the test targets.
        .target(name: "SeekTestSupport", path: "Tests/SeekTestSupport"),
        .testTarget(name: "SeekFormatsTests", dependencies: ["SeekFormats", "SeekTestSupport"]),
        .testTarget(name: "SeekKernelsTests", dependencies: ["SeekKernels", "SeekFormats", "SeekTestSupport"]),
        .testTarget(name: "SeekTokenizersTests", dependencies: ["SeekTokenizers", "SeekFormats", "SeekTestSupport"]),
        .testTarget(name: "SeekTemplatesTests", dependencies: ["SeekTemplates", "SeekTestSupport"]),
        .testTarget(name: "SeekModelsTests", dependencies: ["SeekModels", "SeekFormats", "SeekKernels", "SeekTestSupport"]),
        .testTarget(name: "SeekEngineTests", dependencies: ["SeekEngine", "SeekModels", "SeekKernels", "SeekTestSupport"]),
        .testTarget(
            name: "SeekServerTests",
            dependencies: ["SeekServer", "SeekEngine", "SeekChatStore", "SeekTestSupport", .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle")]
        ),
        .testTarget(name: "SeekChatStoreTests", dependencies: ["SeekChatStore"]),
        // Runs the built `swiftseek` binary on real models (see scripts/test.sh).
        .testTarget(name: "EndToEndTests", dependencies: ["SeekTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
