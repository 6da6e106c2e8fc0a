import Testing
@testable import Recur
import RecurExamples

/// Every layer's gradients (input and weights) against central finite differences, with input size ≠ units
/// and batch > 1. L = Σ output ⊙ R for a fixed random R.
@Suite("Layer gradients against finite differences")
struct LayerGradientTests {
    func check(_ layer: Layer, input x: Tensor, training: Bool = false, inputGradient: Bool = true,
               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let firstOut = try layer.outputs(x, training: training)
        var g = SeededGenerator(seed: 17)
        let cotangents = firstOut.map { Tensor.randomUniform($0.shape, low: -1, high: 1, generator: &g) }
        let weights = layer.trainableVariables
        func loss(_ input: Tensor) throws -> Tensor {
            var total = Tensor(0)
            for (o, r) in zip(try layer.outputs(input, training: training), cotangents) { total = try total + (o * r).sum() }
            return total
        }
        let leaf = x.requiringGradient()
        for v in weights { v.value = v.value.requiringGradient() }
        let analytic = try gradients(of: loss(leaf), wrt: (inputGradient ? [leaf] : []) + weights.map(\.value))
        for v in weights { v.value = v.value.detached }
        // Numeric gradients, probing up to 12 entries of each tensor.
        let eps: Float = 1e-2
        var targets: [(Int, () -> Tensor, (Tensor) -> Void)] = []
        var current = x
        if inputGradient { targets.append((0, { current }, { current = $0 })) }
        for (k, v) in weights.enumerated() { targets.append((k + (inputGradient ? 1 : 0), { v.value }, { v.value = $0 })) }
        for (index, get, set) in targets {
            let original = get()
            let stride = max(1, original.count / 12)
            for i in Swift.stride(from: 0, to: original.count, by: stride) {
                var plus = original, minus = original
                try plus.withUnsafeMutableBufferPointer { $0[i] += eps }
                try minus.withUnsafeMutableBufferPointer { $0[i] -= eps }
                set(plus); let lp = try loss(current).scalar
                set(minus); let lm = try loss(current).scalar
                set(original)
                let numeric = (lp - lm) / (2 * eps)
                let a = analytic[index].scalars[i]
                #expect(abs(a - numeric) <= 2e-2 * max(1, abs(numeric)), "tensor \(index) entry \(i): \(a) vs \(numeric)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func userWrittenCellsHaveTheirGradients() throws {
        try withRandomSeed(12) { try withFreshLayerNames {
            try check(RNN(MinimalGatedUnitCell(units: 3), returnSequences: true), input: input([2, 4, 5]))
            try check(RNN(UserLSTMCell(units: 3), returnSequences: true), input: input([2, 4, 5]))
        } }
    }

    func input(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor.randomUniform(shape, low: -1, high: 1, generator: &g)
    }

    @Test func recurrentLayers() throws {
        let x = input([3, 4, 5])
        for fused in [FusedKernelMode.always, .never] {
            try check(LSTM(3, returnSequences: true, fused: fused), input: x)
            try check(GRU(3, returnState: true, fused: fused), input: x)
            try check(SimpleRNN(3, returnSequences: true, goBackwards: true, fused: fused), input: x)
        }
        try check(GRU(3, resetAfter: false, returnSequences: true), input: x)
        try check(RNN([LSTMCell(3), GRUCell(2)], returnSequences: true), input: x)
        try check(Bidirectional(LSTM(3, returnSequences: true), mergeMode: .mul), input: x)
    }

    @Test func otherLayers() throws {
        try check(Dense(3, activation: .tanh), input: input([4, 5]))
        try check(BatchNormalization(), input: input([6, 3]), training: true)
        try check(BatchNormalization(), input: input([6, 3]), training: false)
        let ids = try Tensor(shape: [2, 3], scalars: [1, 0, 4, 4, 2, 3])
        try check(Embedding(inputDim: 5, outputDim: 3), input: ids, inputGradient: false)
    }
}
