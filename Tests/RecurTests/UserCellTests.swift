import Testing
@testable import Recur
import RecurExamples

/// Cells written from public ops (RecurExamples) against the built-in ones.
@Suite("User-written cells")
struct UserCellTests {
    @Test func aUserLSTMCellIsTheBuiltInLSTM() throws {
        var g = SeededGenerator(seed: 31)
        let x = Tensor.randomUniform([3, 6, 4], low: -1, high: 1, generator: &g)
        let mask = try Tensor([[1, 1, 0, 1, 1, 1], [1, 1, 1, 1, 0, 0], [0, 1, 1, 1, 1, 1]])
        try withFreshLayerNames {
            // The user cell's weights are the built-in LSTM's (same names, shapes and order).
            let user = RNN(UserLSTMCell(units: 5), returnSequences: true, returnState: true, goBackwards: true)
            let builtIn = LSTM(5, returnSequences: true, returnState: true, goBackwards: true)
            try user.buildIfNeeded(inputShapes: [[3, 6, 4]])
            try builtIn.buildIfNeeded(inputShapes: [[3, 6, 4]])
            #expect(user.cell.variables.map(\.name) == builtIn.cell.variables.map(\.name))
            try user.setWeights(builtIn.getWeights())

            func run(_ layer: RNN) throws -> (outputs: [Tensor], grads: [Tensor]) {
                let xs = x.requiringGradient()
                for v in layer.trainableVariables { v.value = v.value.requiringGradient() }
                defer { for v in layer.trainableVariables { v.value = v.value.detached } }
                let outs = try layer.outputs(xs, mask: mask)
                var r = SeededGenerator(seed: 8)
                var loss = Tensor(0)
                for o in outs { loss = try loss + (o * Tensor.randomUniform(o.shape, low: -1, high: 1, generator: &r)).sum() }
                return (outs, try gradients(of: loss, wrt: [xs] + layer.trainableVariables.map(\.value)))
            }
            let a = try run(user), b = try run(builtIn)
            for (p, q) in zip(a.outputs, b.outputs) { #expect(p.maxAbsDifference(q) < 1e-5) }
            for (p, q) in zip(a.grads, b.grads) { #expect(p.maxAbsDifference(q) < 1e-5) }
        }
    }
}
