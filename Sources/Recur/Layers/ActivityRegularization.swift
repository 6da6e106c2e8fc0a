/// Keras's `ActivityRegularization`: its input unchanged, with an L1/L2 penalty on it added to the
/// loss in training and evaluation (`l1·Σ|x| + l2·Σx²`, as the `activityRegularizer` of any layer).
/// Any shape → the same shape; no weights; passes the mask through.
public final class ActivityRegularization: Layer {
    public let l1: Float
    public let l2: Float

    public init(l1: Float = 0, l2: Float = 0, name: String? = nil) {
        (self.l1, self.l2) = (l1, l2)
        super.init(name: name)
        activityRegularizer = .l1l2(l1: l1, l2: l2)
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput { LayerOutput([input.tensors[0]], mask: input.mask) }

    public override var supportsMasking: Bool { true }
    public override var hasWeights: Bool { false }
    public override class var kerasConfigHasActivityRegularizer: Bool { false }

    public override func kerasConfig() throws -> [String: JSONValue] { ["l1": KerasValue.number(l1), "l2": KerasValue.number(l2)] }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        ActivityRegularization(l1: try a.float("l1", default: 0), l2: try a.float("l2", default: 0), name: a.name)
    }
}
