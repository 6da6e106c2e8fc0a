/// The Keras arguments of the time loop that every recurrent layer shares (Keras's `RNN` base):
/// one value for the layer's initializer, `Bidirectional`'s copies and the Keras config reader and writer.
public struct RecurrentOptions: Equatable, Sendable {
    /// Output every step, (batch, time, ...), instead of the last.
    public var returnSequences = false
    /// Follow the output(s) with the final states.
    public var returnState = false
    /// Read the sequence from the last step to the first.
    public var goBackwards = false
    /// Carry the final states of a batch into the next call.
    public var stateful = false
    /// Keras's unrolled loop (the same numbers; Recur runs the cell loop).
    public var unroll = false
    /// Masked steps output zeros instead of the carried output.
    public var zeroOutputForMask = false

    public init(returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                stateful: Bool = false, unroll: Bool = false, zeroOutputForMask: Bool = false) {
        (self.returnSequences, self.returnState, self.goBackwards) = (returnSequences, returnState, goBackwards)
        (self.stateful, self.unroll, self.zeroOutputForMask) = (stateful, unroll, zeroOutputForMask)
    }

    init(_ a: KerasArguments) throws {
        self.init(returnSequences: try a.bool("return_sequences", default: false), returnState: try a.bool("return_state", default: false),
                  goBackwards: try a.bool("go_backwards", default: false), stateful: try a.bool("stateful", default: false),
                  unroll: try a.bool("unroll", default: false), zeroOutputForMask: try a.bool("zero_output_for_mask", default: false))
        if a.config["time_major"]?.bool == true { throw RecurError.unsupported(op: a.layer, message: "argument time_major=True") }
        a.ignore(["time_major", "use_cudnn"])
    }

    var kerasConfig: [String: JSONValue] {
        ["return_sequences": .bool(returnSequences), "return_state": .bool(returnState), "go_backwards": .bool(goBackwards),
         "stateful": .bool(stateful), "unroll": .bool(unroll), "zero_output_for_mask": .bool(zeroOutputForMask)]
    }
}
