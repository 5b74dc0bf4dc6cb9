import Foundation
import Metrics
import Prometheus
import SeekEngine

/// The server's Prometheus metrics (`GET /metrics`). Each server has its own registry and
/// passes its factory explicitly to the swift-metrics types, so tests can build many servers
/// in one process without touching the global `MetricsSystem`.
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    let generatedTokens: Metrics.Counter
    let promptTokens: Metrics.Counter
    let cacheHitTokens: Metrics.Counter
    let timeToFirstToken: Metrics.Timer
    private let queueDepth: Metrics.Gauge
    private let activeSlots: Metrics.Gauge
    private let inFlight: Metrics.Gauge
    private let tokensPerSecond: Metrics.Gauge
    private let slots: Metrics.Gauge
    private let cachedSequences: Metrics.Gauge
    private let cachedTokens: Metrics.Gauge
    private let cachedBytes: Metrics.Gauge
    private let engineCompleted: Metrics.Gauge
    private let engineCancelled: Metrics.Gauge
    private let engineGenerated: Metrics.Gauge
    private let rate = TokenRate()
    private let requestsInFlight = Locked(0)

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["swiftseek_time_to_first_token_seconds"] = [
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        self.factory = factory
        generatedTokens = Metrics.Counter(label: "swiftseek_generated_tokens_total", factory: factory)
        promptTokens = Metrics.Counter(label: "swiftseek_prompt_tokens_total", factory: factory)
        cacheHitTokens = Metrics.Counter(label: "swiftseek_prompt_cache_hit_tokens_total", factory: factory)
        timeToFirstToken = Metrics.Timer(label: "swiftseek_time_to_first_token_seconds", factory: factory)
        queueDepth = Metrics.Gauge(label: "swiftseek_queue_depth", factory: factory)
        activeSlots = Metrics.Gauge(label: "swiftseek_active_slots", factory: factory)
        inFlight = Metrics.Gauge(label: "swiftseek_requests_in_flight", factory: factory)
        tokensPerSecond = Metrics.Gauge(label: "swiftseek_generated_tokens_per_second", factory: factory)
        slots = Metrics.Gauge(label: "swiftseek_slots", factory: factory)
        cachedSequences = Metrics.Gauge(label: "swiftseek_context_cache_sequences", factory: factory)
        cachedTokens = Metrics.Gauge(label: "swiftseek_context_cache_tokens", factory: factory)
        cachedBytes = Metrics.Gauge(label: "swiftseek_context_cache_bytes", factory: factory)
        // The engine's own totals (as of its last step): sequences finished, cancelled, tokens generated.
        engineCompleted = Metrics.Gauge(label: "swiftseek_engine_completed", factory: factory)
        engineCancelled = Metrics.Gauge(label: "swiftseek_engine_cancelled", factory: factory)
        engineGenerated = Metrics.Gauge(label: "swiftseek_engine_generated_tokens", factory: factory)
        // Present from the start, so a scrape before the first request shows zeros.
        generatedTokens.increment(by: 0)
        promptTokens.increment(by: 0)
        cacheHitTokens.increment(by: 0)
    }

    /// A request reached a route (`endpoint` is the route's path, e.g. "/v1/chat/completions").
    func request(_ endpoint: String) {
        Metrics.Counter(label: "swiftseek_requests_total", dimensions: [("endpoint", endpoint)], factory: factory).increment()
    }

    /// An error response (or an error sent inside a stream) with its HTTP status.
    func error(_ status: Int) {
        Metrics.Counter(label: "swiftseek_errors_total", dimensions: [("status", String(status))], factory: factory).increment()
    }

    /// A client closed its stream before the end (its generation was stopped).
    func clientGone() {
        Metrics.Counter(label: "swiftseek_client_disconnects_total", factory: factory).increment()
    }

    /// A generation started / ended in a handler (however it ended).
    func generationStarted() { requestsInFlight.withLock { $0 += 1 } }
    func generationEnded() { requestsInFlight.withLock { $0 -= 1 } }

    func token() {
        generatedTokens.increment()
        rate.add()
    }

    func finished(_ stats: GenerationStats) {
        promptTokens.increment(by: stats.promptTokens)
        cacheHitTokens.increment(by: stats.cachedPromptTokens)
    }

    /// The text exposition, with the gauges read from the engine at scrape time.
    func render(engine: InferenceStats?) -> String {
        let e = engine ?? InferenceStats()
        queueDepth.record(e.queueDepth)
        activeSlots.record(e.activeSlots)
        slots.record(e.slots)
        cachedSequences.record(e.cachedSequences)
        cachedTokens.record(e.cachedTokens)
        cachedBytes.record(e.cachedBytes)
        engineCompleted.record(e.completed)
        engineCancelled.record(e.cancelled)
        engineGenerated.record(e.generatedTokens)
        inFlight.record(requestsInFlight.withLock { $0 })
        tokensPerSecond.record(rate.perSecond())
        return registry.emitToString()
    }
}

/// Generated tokens over the last `window` seconds, in one-second buckets.
final class TokenRate: Sendable {
    private let window = 10
    private let buckets: Locked<[(second: Int, count: Int)]>

    init() { buckets = Locked(Array(repeating: (second: -1, count: 0), count: 10)) }

    private static func now() -> Int { Int(DispatchTime.now().uptimeNanoseconds / 1_000_000_000) }

    func add() {
        let s = Self.now()
        buckets.withLock { b in
            let i = s % b.count
            if b[i].second != s { b[i] = (s, 0) }
            b[i].count += 1
        }
    }

    func perSecond() -> Double {
        let s = Self.now()
        let total = buckets.withLock { b in b.filter { $0.second > s - window && $0.second <= s }.reduce(0) { $0 + $1.count } }
        return Double(total) / Double(window)
    }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
