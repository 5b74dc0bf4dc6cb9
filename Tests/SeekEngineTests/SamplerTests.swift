import Foundation
import Testing
@testable import SeekEngine

@Suite struct SamplerTests {
    let logits: [Float] = [0.1, 2.0, 1.9, -1.0, 0.5, 1.0]

    @Test func greedyPicksArgmaxAndLowestIndexOnTies() {
        var s = Sampler(.greedy)
        #expect(s.sample(logits) == 1)
        #expect(argmax([1, 3, 3, 2]) == 1)
        #expect(argmax([.nan, 1, 0]) == 1)
    }

    @Test func sameSeedSameTokensDifferentSeedDifferentTokens() {
        var p = SamplingParams()
        p.temperature = 1.5
        p.topK = 0
        p.topP = 1
        p.minP = 0
        p.seed = 1234
        var a = Sampler(p), b = Sampler(p)
        let ra = (0..<200).map { _ in a.sample(logits) }
        let rb = (0..<200).map { _ in b.sample(logits) }
        #expect(ra == rb)
        p.seed = 99
        var c = Sampler(p)
        #expect((0..<200).map { _ in c.sample(logits) } != ra)
        // A high temperature with no truncation reaches every token.
        #expect(Set(ra).count == logits.count)
    }

    @Test func topKOneAndTinyTopPAreGreedy() {
        var p = SamplingParams()
        p.temperature = 2
        p.seed = 5
        p.topK = 1
        var s = Sampler(p)
        #expect((0..<50).allSatisfy { _ in s.sample(logits) == 1 })
        p.topK = 0
        p.topP = 0.01
        s = Sampler(p)
        #expect((0..<50).allSatisfy { _ in s.sample(logits) == 1 })
    }

    @Test func minPDropsUnlikelyTokens() {
        var p = SamplingParams()
        p.temperature = 1
        p.topK = 0
        p.topP = 1
        p.minP = 0.5  // keeps tokens with p >= 0.5 * p(best): ids 1 and 2 only
        p.seed = 11
        var s = Sampler(p)
        let drawn = Set((0..<300).map { _ in s.sample(logits) })
        #expect(drawn == [1, 2])
    }

    /// Without top-k and top-p the draw runs unordered; its frequencies are the softmax at the
    /// temperature, and min-p still cuts (here token 3, at e^-3 of the best, under 0.1).
    @Test(arguments: [(Float(1), Float(0)), (Float(0.5), Float(0)), (Float(1), Float(0.1))])
    func unorderedDrawFollowsTheSoftmax(temperature: Float, minP: Float) {
        var p = SamplingParams()
        p.temperature = temperature
        p.topK = 0
        p.topP = 1
        p.minP = minP
        p.seed = 11
        var sampler = Sampler(p)
        let logits: [Float] = [1, 2, 0, -1, -.infinity, .nan]
        var counts = [Int](repeating: 0, count: logits.count)
        let n = 40_000
        for _ in 0..<n { counts[Int(sampler.sample(logits))] += 1 }
        var kept = [0, 1, 2, 3].filter { minP == 0 || exp(Double(logits[$0] - 2)) >= Double(minP) }
        kept.sort()
        let weights = kept.map { exp(Double(logits[$0] / temperature)) }
        let total = weights.reduce(0, +)
        for (i, id) in kept.enumerated() {
            #expect(abs(Double(counts[id]) / Double(n) - weights[i] / total) < 0.01, "token \(id): \(counts[id])")
        }
        for id in 0..<logits.count where !kept.contains(id) { #expect(counts[id] == 0, "token \(id) drawn") }
    }

    @Test func penaltiesPushSeenTokensDown() {
        var p = SamplingParams.greedy
        p.repetitionPenalty = 2
        var s = Sampler(p)
        s.accept([1])
        #expect(s.sample(logits) == 2)  // 2.0 / 2 = 1.0 < 1.9
        p = .greedy
        p.presencePenalty = 1.5
        s = Sampler(p)
        s.accept([1, 2])
        #expect(s.sample(logits) == 5)  // 1.0 beats 2.0 - 1.5 and 1.9 - 1.5
        p = .greedy
        p.frequencyPenalty = 0.1
        s = Sampler(p)
        s.accept([1, 1])
        #expect(s.sample(logits) == 2)  // 2.0 - 0.2 < 1.9
    }

    @Test func invalidParametersAreRejectedWithTheirName() {
        var p = SamplingParams()
        p.topP = 0
        #expect(throws: EngineError.self) { try p.validate() }
        p = SamplingParams()
        p.temperature = -1
        do { try p.validate(); Issue.record("accepted") } catch { #expect("\(error)".contains("temperature")) }
        p = SamplingParams()
        p.minP = 2
        #expect(throws: EngineError.self) { try p.validate() }
    }
}

@Suite struct TextStreamTests {
    @Test func holdsBackPartialUTF8() {
        var s = TextStream(stops: [])
        let euro = Array("€".utf8)
        #expect(s.push([euro[0]]).text == "")
        #expect(s.push([euro[1]]).text == "")
        #expect(s.push([euro[2]]).text == "€")
        #expect(s.push(Array("ab".utf8)).text == "ab")
    }

    @Test func stopStringIsCutAndItsPrefixHeldBack() {
        var s = TextStream(stops: ["</end>"])
        var out = s.push(Array("Hello </".utf8))
        #expect(out.text == "Hello " && !out.stopped)
        out = s.push(Array("en".utf8))
        #expect(out.text == "" && !out.stopped)
        out = s.push(Array("d> trailing".utf8))
        #expect(out.text == "" && out.stopped)
    }

    @Test func heldPrefixIsReleasedWhenItDiverges() {
        var s = TextStream(stops: ["STOP"])
        #expect(s.push(Array("ST".utf8)).text == "")
        #expect(s.push(Array("ay".utf8)).text == "STay")
        #expect(s.push(Array("ST".utf8)).text == "")
        #expect(s.flush() == "ST")
    }
}

@Suite struct LogprobTests {
    @Test func logSoftmaxOfChosenAndTop() {
        let logits: [Float] = [1, 3, 2, .nan, -.infinity]
        let lp = TokenLogprobs(logits: logits, chosen: 2, top: 3)
        let lse = log(exp(1.0) + exp(3.0) + exp(2.0))
        #expect(abs(Double(lp.chosen.logprob) - (2 - lse)) < 1e-5)
        #expect(lp.top.map(\.token) == [1, 2, 0])
        #expect(abs(Double(lp.top[0].logprob) - (3 - lse)) < 1e-5)
        #expect(TokenLogprobs(logits: logits, chosen: 4, top: 0).chosen.logprob == -.infinity)
        #expect(TokenLogprobs(logits: logits, chosen: 1, top: 0).top.isEmpty)
    }

    @Test func samplerReportsLogprobsAfterPenalties() {
        var p = SamplingParams.greedy
        p.presencePenalty = 2
        var s = Sampler(p)
        s.accept([1])
        let (token, lp) = s.sample([0.1, 2.0, 1.9], logprobs: 1)
        #expect(token == 2)   // 2.0 - 2 < 1.9
        #expect(lp?.top.first?.token == 2)
        #expect(lp?.chosen.token == 2)
    }
}

@Suite struct TopKSelectionTests {
    /// The one-pass top-k selection equals sorting everything and cutting (order and ties).
    @Test func selectionEqualsFullSort() {
        var rng = SeededGenerator(seed: 5)
        for trial in 0..<20 {
            // Coarse values give many ties; a few NaN and -inf are dropped.
            var l = (0..<3000).map { _ in Float(Int(rng.next() % 50)) / 4 }
            l[Int(rng.next() % 3000)] = .nan
            l[Int(rng.next() % 3000)] = -.infinity
            let k = [1, 40, 256][trial % 3]
            var sorted = l.indices.filter { !l[$0].isNaN && l[$0] != -.infinity }.map { (id: Int32($0), logit: l[$0]) }
            sorted.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
            let fast = Sampler.topCandidates(l, k: k)
            #expect(fast.map(\.id) == sorted.prefix(k).map(\.id), "k \(k)")
        }
    }

    /// Without top-k, the candidates are those within the margin of the best, in the order a
    /// full sort gives them.
    @Test func candidatesWithinAMarginArePrefixOfTheFullSort() {
        var rng = SeededGenerator(seed: 9)
        for margin: Float in [5, 40, .infinity] {
            var l = (0..<5000).map { _ in Float(Int(rng.next() % 700)) / 10 - 60 }
            l[17] = .nan
            var sorted = l.indices.filter { !l[$0].isNaN }.map { (id: Int32($0), logit: l[$0]) }
            sorted.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
            let best = sorted[0].logit
            let expected = sorted.filter { $0.logit >= best - margin }.map(\.id)
            let got = Sampler.topCandidates(l, k: 0, within: margin)
            #expect(got.map(\.id) == expected, "margin \(margin)")
            #expect(margin.isFinite ? got.count < sorted.count : got.count == sorted.count)
        }
    }
}
