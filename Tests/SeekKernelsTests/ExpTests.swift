import Foundation
import Testing
import SeekKernels
import SeekTestSupport

/// The SIMD e^x (`seek_exp8`) behind attention's softmax, SwiGLU and the sampler: against its
/// Swift reference bit for bit, and against Foundation's double-precision exp.
@Suite struct ExpTests {
    /// Values across the whole range, the clamps' edges and the special values, in a count that
    /// leaves a tail after the eight-wide loop.
    static let inputs: [Float] = {
        var rng = SplitMix(seed: 42)
        var x: [Float] = [0, -0.0, 1, -1, 0.5, -0.5, 1e-8, -1e-8, 88, 88.5, 100, .infinity, -.infinity, .nan,
                          -87.33654, -87.33653, -87.34, -87.3, -103, -1000, 0.34657359, -0.34657359, 0.3465736, 10, -10]
        for _ in 0..<2000 { x.append(rng.nextFloat() * 180 - 92) }
        for _ in 0..<500 { x.append(rng.nextFloat() * 2 - 1) }
        return x
    }()

    @Test func simdEqualsReferenceBitForBit() {
        let x = Self.inputs
        var y = [Float](repeating: -1, count: x.count)
        expFast(x, &y, count: x.count)
        for (i, v) in x.enumerated() {
            let r = expReference(v)
            #expect(y[i].bitPattern == r.bitPattern || (y[i].isNaN && r.isNaN), "e^\(v): \(y[i]) vs \(r)")
        }
    }

    @Test func referenceIsWithinTwoUlpOfExp() {
        for v in Self.inputs {
            let r = expReference(v)
            if v.isNaN {
                #expect(r.isNaN)
            } else if v < -87.33654 {
                #expect(r == 0, "e^\(v) = \(r)")
            } else if v > 88 {
                #expect(r == expReference(88))
            } else {
                let exact = Foundation.exp(Double(v))
                let ulp = Double(Float(exact).ulp)
                #expect(abs(Double(r) - exact) <= 2 * ulp, "e^\(v): \(r) vs \(exact)")
            }
        }
        #expect(expReference(0) == 1)
    }

    /// SwiGLU: the SIMD kernel equals its reference, which is within float rounding of
    /// g / (1 + e^-g) · u in double precision; very negative gates give (nearly) zero.
    @Test func swigluMatchesReferenceAndDefinition() {
        var rng = SplitMix(seed: 7)
        let n = 1003
        let g = (0..<n).map { i in i < 8 ? [Float(-200), -90, -88, 0, 90, 200, 1e-6, -1e-6][i] : rng.nextFloat() * 40 - 20 }
        let u = (0..<n).map { _ in rng.nextFloat() * 4 - 2 }
        var fast = g, slow = g
        swiglu(&fast, u, count: n)
        swigluReference(&slow, u, count: n)
        for i in 0..<n {
            #expect(fast[i].bitPattern == slow[i].bitPattern, "\(i): \(fast[i]) vs \(slow[i])")
            let gd = Double(g[i]), exact = gd / (1 + Foundation.exp(-gd)) * Double(u[i])
            #expect(abs(Double(slow[i]) - exact) <= 1e-6 * max(1, abs(exact)), "\(i): silu(\(g[i]))·\(u[i]) = \(slow[i]), want \(exact)")
        }
    }

    /// The sampler's weights: e^((x - shift)·scale) above the floor, 0 below it and for NaN, and
    /// the same sum (same order of additions) on both paths, for counts around the vector width.
    @Test(arguments: [1, 7, 8, 9, 49_152])
    func expWeightsMatchReference(count n: Int) {
        var rng = SplitMix(seed: UInt64(n))
        var x = (0..<n).map { _ in rng.nextFloat() * 30 - 20 }
        if n > 3 { x[1] = .nan; x[2] = -.infinity; x[3] = 10 }
        let shift = x.filter { !$0.isNaN }.max()!, floor = shift - 12
        var fast = [Float](repeating: -1, count: n), slow = fast
        let a = expWeights(x, count: n, shift: shift, scale: 1 / 0.7, floor: floor, into: &fast)
        let b = expWeightsReference(x, count: n, shift: shift, scale: 1 / 0.7, floor: floor, into: &slow)
        #expect(a.bitPattern == b.bitPattern, "sums \(a) vs \(b)")
        var total = 0.0
        for i in 0..<n {
            #expect(fast[i].bitPattern == slow[i].bitPattern, "\(i)")
            if x[i].isNaN || x[i] < floor {
                #expect(slow[i] == 0, "\(i): \(x[i]) below the floor gave \(slow[i])")
            } else {
                let exact = Foundation.exp((Double(x[i]) - Double(shift)) / 0.7)
                #expect(abs(Double(slow[i]) - exact) <= 1e-5 * exact, "\(i)")
            }
            total += Double(slow[i])
        }
        #expect(abs(Double(a) - total) <= 1e-5 * total)
    }
}
