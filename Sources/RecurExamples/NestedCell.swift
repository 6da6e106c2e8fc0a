import Recur

/// The guide's `NestedCell`: a user-written cell whose input and state are nested — a vector and a
/// matrix per timestep. Inputs [(batch, i1), (batch, i2, i3)], states and outputs
/// [(batch, unit1), (batch, unit2, unit3)]:
///   o₁ = x₁·K₁,  o₂ = einsum("bij,ijkl->bkl", x₂, K₂₃),  s₁ ← s₁ + o₁,  s₂ ← s₂ + o₂.
/// It shows what a custom cell needs, all public API: state and output shapes, weights made with
/// `addWeight` from the input shapes, one step.
public final class NestedCell: RecurrentCell {
    public let unit1: Int, unit2: Int, unit3: Int
    private var kernel1: Variable?
    private var kernel23: Variable?

    public init(unit1: Int, unit2: Int, unit3: Int, name: String? = nil) {
        (self.unit1, self.unit2, self.unit3) = (unit1, unit2, unit3)
        super.init(name: name)
    }

    public override var stateShapes: [[Int]] { [[unit1], [unit2, unit3]] }
    public override var outputShapes: [[Int]] { [[unit1], [unit2, unit3]] }

    public override func build(inputShapes: [[Int?]]) throws {
        guard inputShapes.count == 2, let i1 = inputShapes[0][1], inputShapes[1].count == 3,
              let i2 = inputShapes[1][1], let i3 = inputShapes[1][2] else {
            throw RecurError.shapeMismatch(op: name, expected: "inputs [(batch, i1), (batch, i2, i3)]",
                                           actual: inputShapes.map { describeShape($0) }.joined(separator: ", "))
        }
        kernel1 = try addWeight(name: "kernel_1", shape: [i1, unit1], initializer: .uniform())
        kernel23 = try addWeight(name: "kernel_2_3", shape: [i2, i3, unit2, unit3], initializer: .uniform())
    }

    public override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
        let (x1, x2) = (inputs[0], inputs[1])
        let batch = x1.shape[0]
        let k23 = kernel23!.value
        let output1 = try x1.matmul(kernel1!.value)
        let flat = try x2.reshaped(to: [batch, -1]).matmul(k23.reshaped(to: [k23.shape[0] * k23.shape[1], -1]))
        let output23 = try flat.reshaped(to: [batch, unit2, unit3])
        return ([output1, output23], [try states[0] + output1, try states[1] + output23])
    }
}
