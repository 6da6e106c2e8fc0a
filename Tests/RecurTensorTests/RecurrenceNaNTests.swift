import Testing
@testable import RecurTensor

/// A NaN in a fused recurrence's input reaches that sample's outputs from its step on, as Keras's tanh and
/// sigmoid keep it, on every path of the gate activations: the LSTM step kernel (more than 4 rows), the
/// gate kernels (a few rows, split by units or not), inference and training; other samples stay finite.
@Suite("NaN through fused recurrences")
struct RecurrenceNaNTests {
    @Test(arguments: [RecurrenceKind.lstm, .gru(resetAfter: true), .gru(resetAfter: false), .simpleRNN], [1, 3, 8])
    func aNaNInputReachesItsSampleOnly(kind: RecurrenceKind, rows: Int) throws {
        let (time, features, units, gates) = (6, 5, 64, kind.gatesPerUnit)
        var generator = SeededGenerator(seed: UInt64(rows * 10 + gates))
        var scalars = (0..<rows * time * features).map { _ in Float.random(in: -1...1, using: &generator) }
        let (nanRow, nanStep) = (rows - 1, 2)
        scalars[(nanRow * time + nanStep) * features + 1] = .nan
        let x = try Tensor(shape: [rows, time, features], scalars: scalars)
        let kernel = Tensor.randomUniform([features, gates * units], low: -0.3, high: 0.3, generator: &generator)
        let recurrent = Tensor.randomUniform([units, gates * units], low: -0.3, high: 0.3, generator: &generator)
        let bias = Tensor.randomUniform(kind.biasShape(gateWidth: gates * units), low: -0.3, high: 0.3, generator: &generator)
        let states = (0..<kind.carryCount).map { _ in Tensor.zeros([rows, units]) }
        for training in [false, true] {
            let outputs = try Tensor.recurrence(kind, x, kernel: kernel, recurrentKernel: training ? recurrent.requiringGradient() : recurrent,
                                                bias: bias, initialStates: states)
            let sequence = try outputs.sequence!.hostScalars()
            for b in 0..<rows {
                for t in 0..<time {
                    let step = sequence[((b * time) + t) * units..<((b * time) + t + 1) * units]
                    let label = "\(kind) rows \(rows) training \(training) row \(b) step \(t)"
                    if b == nanRow && t >= nanStep {
                        #expect(step.allSatisfy { $0.isNaN }, "\(label): not NaN")
                    } else {
                        #expect(step.allSatisfy { $0.isFinite }, "\(label): not finite")
                    }
                }
            }
        }
    }
}
