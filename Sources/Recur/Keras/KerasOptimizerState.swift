/// The optimizer's state in a `.keras` archive's weights file, `optimizer/vars/<i>`: Keras saves it with
/// a model it has trained, and its `load_model` restores it into the compiled model, so that `fit` goes
/// on exactly where it stopped (Adam's moments, momentum). Keras 3's layout: 0 is the step count
/// (`iterations`), 1 the learning rate unless a schedule sets it (then it is no variable), then the
/// slots of `model.trainable_variables` in groups (`slotGroups`): within a group each variable's slots
/// in turn, variable after variable — Adam's momentum and velocity, Ftrl's accumulator and linear —
/// and the groups one after another: Adam's `amsgrad` maxima after all the moments, RMSprop's
/// velocities, then momenta, then average gradients. Nadam keeps one more scalar after the slots, the
/// product of its momentum schedule (which Recur derives from the step count). Recur's slots hold the
/// same quantities in the groups' order, so they map one to one.
enum KerasOptimizerState {
    static let group = "optimizer/vars"

    /// The trainable variables in Keras's `model.trainable_variables` order: layers in the model's
    /// Keras order, a Bidirectional's forward layer before its backward one, nothing of a frozen layer.
    static func trainableVariables(of root: Layer) -> [Variable] {
        guard root.isTrainable else { return [] }
        switch root {
        case let model as Model: return KerasWeightsFile.kerasLayerOrder(model).flatMap(trainableVariables(of:))
        case let bidirectional as Bidirectional:
            return trainableVariables(of: bidirectional.forwardLayer) + trainableVariables(of: bidirectional.backwardLayer)
        default:
            let nested = root.sublayers
            return nested.isEmpty ? root.variables.filter(\.isTrainable) : nested.flatMap(trainableVariables(of:))
        }
    }

    /// The datasets before the slots: the step count, and the learning rate unless a schedule sets it.
    static func headCount(_ optimizer: Optimizer) -> Int { optimizer.learningRateSchedule == nil ? 2 : 1 }

    /// The sizes of the groups Keras writes a built-in optimizer's slots in (see the type's comment);
    /// nil for an optimizer whose Keras layout Recur does not know (a subclass of the user's).
    /// The moving averages and accumulated gradients (`Optimizer.leadingSlotCount`) come first, one
    /// group each.
    static func slotGroups(_ optimizer: Optimizer) -> [Int]? {
        guard KerasCompileConfig.kerasClassName(optimizer) != nil else { return nil }
        let leading = Array(repeating: 1, count: optimizer.leadingSlotCount)
        switch optimizer {
        case let adam as Adam: return leading + (adam.amsgrad ? [2, 1] : [2])
        case is RMSprop, is SGD, is Adagrad, is Lion: return leading + Array(repeating: 1, count: optimizer.slotCount)
        default: return leading + [optimizer.slotCount]
        }
    }

    /// The scalars Keras keeps after a built optimizer's slots: Nadam's momentum-schedule product.
    static func trailingScalars(_ optimizer: Optimizer) -> [Float] {
        guard let nadam = optimizer as? Nadam else { return [] }
        return [Float(nadam.momentumProduct(optimizer.iterations))]
    }

    /// For each variable's slots in Recur's order, the index of its dataset after the head; nil
    /// for an optimizer whose Keras layout Recur does not know.
    static func slotIndices(_ optimizer: Optimizer, variables count: Int) -> [[Int]]? {
        guard let groups = slotGroups(optimizer) else { return nil }
        return (0..<count).map { v in
            var indices: [Int] = [], offset = 0
            for size in groups {
                indices += (0..<size).map { offset + v * size + $0 }
                offset += size * count
            }
            return indices
        }
    }

    /// Reads the state from `file`, if it holds one, into `model`'s optimizer (the model is compiled);
    /// everything is checked before the optimizer changes. A file without one leaves it fresh, as Keras.
    static func read(_ file: HDF5File, into model: Model, label: String) throws {
        guard let optimizer = model.compiled?.optimizer, try file.kind(of: group) == .group else { return }
        func fail(_ message: String) -> RecurError { .io(path: label, message: "optimizer state: \(message)") }
        let variables = trainableVariables(of: model)
        guard let indices = slotIndices(optimizer, variables: variables.count) else {
            throw fail("\(optimizer.name) is not one of Keras's optimizers")
        }
        let names = Set(try file.memberNames(group))
        // An optimizer that has not run yet is saved unbuilt: its step count and learning rate only.
        let head = headCount(optimizer)
        let built = names.count != head
        let trailing = built ? trailingScalars(optimizer).count : 0
        let expected = head + (built ? variables.count * optimizer.stateCount : 0) + trailing
        guard names == Set((0..<expected).map(String.init)) else {
            throw fail("\(names.count) variables in '\(group)', expected \(expected) for \(optimizer.name) over \(variables.count) trainable weights")
        }
        let step = try file.readTensor("\(group)/0", expectedShape: [], weight: "\(optimizer.name).iterations").scalar
        guard step >= 0, step < 1e9, step.rounded() == step else { throw fail("iterations \(step) is not a count") }
        // Keras saves the batches applied (`_iterations`), accumulating ones included.
        var rate = optimizer.learningRate
        if head == 2 {
            rate = try file.readTensor("\(group)/1", expectedShape: [], weight: "\(optimizer.name).learning_rate").scalar
            guard rate.isFinite else { throw fail("learning rate \(rate) is not finite") }
        }
        let slots = try zip(variables, indices).map { variable, slotIndices in
            try (built ? Array(zip(slotIndices, optimizer.stateShapes(for: variable.shape))) : []).map { index, shape in
                try file.readTensor("\(group)/\(head + index)", expectedShape: shape, weight: "\(optimizer.name) slot of \(variable.name)")
            }
        }
        for k in 0..<trailing {
            let index = head + variables.count * optimizer.stateCount + k
            let value = try file.readTensor("\(group)/\(index)", expectedShape: [], weight: "\(optimizer.name) variable \(index)").scalar
            guard value.isFinite else { throw fail("variable \(index) (\(value)) is not finite") }
        }
        try optimizer.restore(slots: slots, for: variables, appliedBatches: Int(step), learningRate: rate)
    }

    /// Writes `model`'s optimizer state into `file` when the model is compiled with one of Keras's
    /// optimizers, with every slot, fresh ones (zeros, or an initial accumulator) where none exists yet. An untrained optimizer too: Keras's
    /// `load_model` builds the optimizer of the model it compiles and skips a saved state of another
    /// size with a warning (which its own files of untrained models, holding only the step count and
    /// learning rate, then get).
    static func write(_ model: Model, into file: HDF5File) throws {
        guard let optimizer = model.compiled?.optimizer else { return }
        let variables = trainableVariables(of: model)
        guard let indices = slotIndices(optimizer, variables: variables.count) else { return }
        let state = optimizer.slotState(for: variables)
        var tensors = [Tensor](repeating: Tensor(0), count: variables.count * optimizer.stateCount)
        for v in variables.indices {
            // A variable without slots yet (no gradient reached it) has fresh ones, as Keras's.
            let slots = state[v].isEmpty ? try optimizer.freshState(for: variables[v].value) : state[v]
            for (s, index) in indices[v].enumerated() { tensors[index] = slots[s] }
        }
        try file.createGroup("optimizer")
        try file.createGroup(group)
        let head = headCount(optimizer)
        try file.writeTensor(Tensor(Float(optimizer.appliedBatches)), at: "\(group)/0")
        if head == 2 { try file.writeTensor(Tensor(optimizer.learningRate), at: "\(group)/1") }
        for (k, t) in tensors.enumerated() { try file.writeTensor(t, at: "\(group)/\(head + k)") }
        for (k, value) in trailingScalars(optimizer).enumerated() { try file.writeTensor(Tensor(value), at: "\(group)/\(head + tensors.count + k)") }
    }
}
