import Recur

/// The minimal gated unit (Zhou et al., 2016), one forget gate for both roles, from public ops only:
///   f = σ(x·W_f + h₋₁·U_f + b_f), ĥ = tanh(x·W_h + (f ⊙ h₋₁)·U_h + b_h), h = (1 − f) ⊙ h₋₁ + f ⊙ ĥ
public final class MinimalGatedUnitCell: RecurrentCell {
    public let units: Int
    private var kernel: Variable?
    private var forgetKernel: Variable?
    private var candidateKernel: Variable?
    private var bias: Variable?

    public init(units: Int, name: String? = nil) {
        self.units = units
        super.init(name: name)
    }

    public override var stateShapes: [[Int]] { [[units]] }
    public override var outputShapes: [[Int]] { [[units]] }

    public override func build(inputShapes: [[Int?]]) throws {
        let features = try knownLastDimension(inputShapes[0], layer: name)
        kernel = try addWeight(name: "kernel", shape: [features, 2 * units], initializer: .glorotUniform)
        forgetKernel = try addWeight(name: "forget_kernel", shape: [units, units], initializer: .orthogonal())
        candidateKernel = try addWeight(name: "candidate_kernel", shape: [units, units], initializer: .orthogonal())
        bias = try addWeight(name: "bias", shape: [2 * units], initializer: .zeros)
    }

    public override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
        let projected = try (inputs[0].matmul(kernel!.value) + bias!.value).split(sizes: [units, units], alongAxis: 1)
        let hPrevious = states[0]
        let f = try (projected[0] + hPrevious.matmul(forgetKernel!.value)).sigmoid()
        let candidate = try (projected[1] + (f * hPrevious).matmul(candidateKernel!.value)).tanh()
        let h = try (1 - f) * hPrevious + f * candidate
        return ([h], [h])
    }
}
