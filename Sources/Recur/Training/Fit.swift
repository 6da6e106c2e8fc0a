import Foundation

/// A running mean weighted by sample counts (Keras's `Mean` metric for losses).
struct RunningMean {
    var total: Double = 0
    var count: Double = 0
    mutating func add(_ value: Float, weight: Int) { total += Double(value) * Double(weight); count += Double(weight) }
    var result: Float { count > 0 ? Float(total / count) : 0 }
}

/// Per-epoch accumulation of losses and metrics with Keras's log names.
struct EpochTracker {
    let outputNames: [String]
    var loss = RunningMean()
    var outputLosses: [RunningMean]
    var metrics: [[Metric]]
    var weightedMetrics: [[Metric]]

    /// With `independentMetrics` (evaluate) the built-in metrics get their own state, so that an
    /// `evaluate` inside `fit` (a callback's) does not reset the epoch's running metrics.
    init(compiled: CompiledState, outputNames: [String], independentMetrics: Bool = false) {
        self.outputNames = outputNames
        self.outputLosses = Array(repeating: RunningMean(), count: compiled.losses.count)
        self.metrics = independentMetrics ? compiled.metrics.map { $0.map { $0.independentCopy() } } : compiled.metrics
        self.weightedMetrics = independentMetrics ? compiled.weightedMetrics.map { $0.map { $0.independentCopy() } } : compiled.weightedMetrics
        for i in metrics.indices { for j in metrics[i].indices { metrics[i][j].reset() } }
        for i in weightedMetrics.indices { for j in weightedMetrics[i].indices { weightedMetrics[i][j].reset() } }
    }

    mutating func update(total: Float, perOutput: [Float], targets: [Tensor], predictions: [Tensor], masks: [Tensor?],
                         sampleWeight: Tensor? = nil, batch: Int) throws {
        loss.add(total, weight: batch)
        for (k, v) in perOutput.enumerated() { outputLosses[k].add(v, weight: batch) }
        for k in metrics.indices {
            for j in metrics[k].indices { try metrics[k][j].update(targets[k], predictions[k], mask: masks[k]) }
        }
        for k in weightedMetrics.indices {
            for j in weightedMetrics[k].indices {
                try weightedMetrics[k][j].update(targets[k], predictions[k], mask: masks[k], sampleWeight: sampleWeight)
            }
        }
    }

    /// The running sums (loss, each output's loss, each metric's total and count), to resume an epoch.
    var snapshot: [Double] {
        let means = [loss] + outputLosses
        return means.flatMap { [$0.total, $0.count] } + (metrics + weightedMetrics).joined().flatMap { [$0.runningTotal, $0.runningCount] }
    }

    /// Restores a `snapshot` taken with the same compile settings (otherwise the epoch starts afresh).
    mutating func restore(_ saved: [Double]) {
        guard saved.count == snapshot.count else { return }
        var values = saved[...]
        func next() -> Double { values.popFirst()! }
        loss.total = next(); loss.count = next()
        for k in outputLosses.indices { outputLosses[k].total = next(); outputLosses[k].count = next() }
        for m in (metrics + weightedMetrics).joined() { m.runningTotal = next(); m.runningCount = next() }
    }

    /// The running sums added over every rank (this rank's alone without a collective).
    func snapshot(over collective: (any Collective)?) throws -> [Double] {
        var sums = snapshot
        try collective?.allReduceSum(&sums)
        return sums
    }

    /// The logs over every rank's samples: the running sums are added over the ranks first.
    mutating func logs(over collective: (any Collective)?) throws -> Logs {
        guard let collective else { return logs() }
        let local = snapshot
        restore(try snapshot(over: collective))
        defer { restore(local) }
        return logs()
    }

    func logs(prefix: String = "") -> Logs {
        var logs = Logs()
        logs[prefix + "loss"] = loss.result
        let multi = outputNames.count > 1
        if multi { for (k, name) in outputNames.enumerated() { logs[prefix + name + "_loss"] = outputLosses[k].result } }
        for (k, list) in metrics.enumerated() {
            for m in list { logs[prefix + (multi ? outputNames[k] + "_" : "") + m.name] = m.result }
        }
        for (k, list) in weightedMetrics.enumerated() {
            for m in list { logs[prefix + (multi ? outputNames[k] + "_" : "") + m.name] = m.result }
        }
        return logs
    }
}

extension Model {
    /// Rows `indices` of every tensor (the batch axis is the first).
    static func rows(_ tensors: [Tensor], _ indices: ArraySlice<Int>) throws -> [Tensor] {
        let index = Tensor(indices.map(Float.init))
        return try tensors.map { try $0.gather(index) }
    }

    func checkData(_ x: [Tensor], _ y: [Tensor]?, op: String) throws -> Int {
        guard x.count == max(inputShapes.count, 1) else {
            throw RecurError.invalidArgument(errorSubject, "\(op): expected \(max(inputShapes.count, 1)) input array(s), got \(x.count)")
        }
        for t in x + (y ?? []) where t.rank == 0 {
            throw RecurError.shapeMismatch(errorSubject, expected: "\(op): arrays with a batch axis first", actual: "a scalar, shape ()")
        }
        let n = x[0].shape.first ?? 0
        for t in x + (y ?? []) where t.shape.first != n {
            throw RecurError.shapeMismatch(errorSubject, expected: "\(op): \(n) samples in every array", actual: describeShape(t.shape))
        }
        if let y, let compiled, y.count != compiled.losses.count {
            throw RecurError.invalidArgument(errorSubject, "\(op): expected \(compiled.losses.count) target array(s), got \(y.count)")
        }
        return n
    }

    /// Total (weighted) loss and each output's loss for one batch; masked positions of sequence outputs do not count.
    func computeLoss(_ compiled: CompiledState, targets: [Tensor], predictions: [Tensor], masks: [Tensor?],
                     sampleWeight: Tensor? = nil) throws -> (Tensor, [Tensor]) {
        let perOutput = try compiled.losses.indices.map { k in
            do {
                return try compiled.losses[k](targets[k], predictions[k], mask: masks[k], sampleWeight: sampleWeight)
            } catch let error as RecurError where error.kind == .shapeMismatch {
                // Blame the output, not the op inside the loss that noticed.
                let loss = compiled.losses[k]
                throw RecurError.shapeMismatch(outputLayer(k)?.errorSubject ?? .op(name),
                                               what: "targets for \(loss.name) (the output has shape \(describeShape(predictions[k].shape)))",
                                               expected: loss.targetShape(forPredictions: predictions[k].shape).map(Optional.some),
                                               actual: targets[k].shape.map(Optional.some))
            }
        }
        var total = perOutput[0].scaled(by: compiled.lossWeights[0])
        for k in perOutput.indices.dropFirst() { total = try total + perOutput[k].scaled(by: compiled.lossWeights[k]) }
        return (total, perOutput)
    }

    /// The loss plus the weight penalties and a forward pass's activity penalties (Keras's `model.losses`),
    /// as Keras's training and evaluation losses include them; the outputs' own losses leave them out.
    func withPenalties(_ loss: Tensor, activity: Tensor?) throws -> Tensor {
        var total = loss
        for penalty in [try weightPenalty(), activity].compactMap({ $0 }) { total = try total + penalty.to(total.device) }
        return total
    }

    /// One gradient step on one batch; returns the losses and the predictions. In data-parallel
    /// training `x` holds this rank's rows of the global batch and `share` their fraction of it: the
    /// loss is scaled by it and the gradients summed over the ranks in one buffer, so every rank
    /// applies the global batch's gradient.
    func trainStep(_ x: [Tensor], _ y: [Tensor], sampleWeight: Tensor? = nil, compiled: CompiledState,
                   share: Float = 1, collective: (any Collective)? = nil) throws -> (Float, [Float], [Tensor], [Tensor?]) {
        let variables = trainableVariables
        // A host batch for weights on a device moves there; its results come back for the metrics.
        let moves = movesHostBatches(x)
        let (x, y) = moves ? (try toWeightsDevice(x), try toWeightsDevice(y)) : (x, y)
        let sampleWeight = moves ? try sampleWeight.map { try $0.to(device) } : sampleWeight
        let (total, perOutput, predictions, masks, grads) = try {
            // The weights take part in the graph only until their gradients are known, whatever is thrown.
            for v in variables { v.value = v.value.requiringGradient() }
            defer { for v in variables { v.value = v.value.detached } }
            let ((predictions, masks), activity) = try ActivityPenalties.collecting { try forwardWithMasks(x, training: true) }
            var (total, perOutput) = try computeLoss(compiled, targets: y, predictions: predictions, masks: masks, sampleWeight: sampleWeight)
            total = try withPenalties(total, activity: activity)
            // Keras's loss scaling: the optimizer divides the gradients by the factor again.
            let objective = total.scaled(by: share * (compiled.optimizer.lossScaleFactor ?? 1))
            let grads = try gradients(of: objective, wrt: variables.map(\.value))
            // Detached here, the graph goes before the update, which then finds the weights' storage
            // unshared and updates it in place instead of copying it.
            return (total.detached, perOutput.map(\.detached), predictions.map(\.detached), masks, grads)
        }()
        try compiled.optimizer.apply(try collective?.allReduceSum(grads) ?? grads, to: variables)
        try applyWeightConstraints()
        let (outputs, outputMasks) = moves ? try toHost(predictions, masks) : (predictions, masks)
        return (total.scalar, perOutput.map(\.scalar), outputs, outputMasks)
    }

    /// Whether a batch is on the host while the weights are on a device: `fit`, `evaluate` and
    /// `predict` then move it to the weights' device and bring the outputs back.
    func movesHostBatches(_ x: [Tensor]) -> Bool { device != .cpu && x.allSatisfy { $0.device == .cpu } }

    func toWeightsDevice(_ tensors: [Tensor]) throws -> [Tensor] { try tensors.map { try $0.to(device) } }

    /// Outputs and their masks moved to the host.
    func toHost(_ outputs: [Tensor], _ masks: [Tensor?]) throws -> ([Tensor], [Tensor?]) {
        (try outputs.map { try $0.to(.cpu) }, try masks.map { try $0?.to(.cpu) })
    }

    /// The inference forward pass of a batch, on the weights' device: a host batch moves there and its
    /// outputs and masks come back to the host.
    func inferenceForward(_ x: [Tensor]) throws -> (outputs: [Tensor], masks: [Tensor?]) {
        guard movesHostBatches(x) else { return try forwardWithMasks(x, training: false) }
        let (outputs, masks) = try forwardWithMasks(toWeightsDevice(x), training: false)
        return try toHost(outputs, masks)
    }

    /// Keras's `train_on_batch`: one update; returns the batch's logs (computed before the update).
    @discardableResult
    public func trainOnBatch(_ x: [Tensor], _ y: [Tensor], sampleWeight: Tensor? = nil, classWeight: [Int: Float]? = nil) throws -> Logs {
        let compiled = try requireCompiled("trainOnBatch")
        let n = try checkData(x, y, op: "trainOnBatch")
        let weights = try sampleWeights(sampleWeight, classWeight: classWeight, targets: y, count: n, op: "trainOnBatch")
        var tracker = EpochTracker(compiled: compiled, outputNames: outputNames)
        let (total, perOutput, predictions, masks) = try trainStep(x, y, sampleWeight: weights, compiled: compiled)
        try tracker.update(total: total, perOutput: perOutput, targets: y, predictions: predictions, masks: masks, sampleWeight: weights, batch: n)
        return tracker.logs()
    }

    /// The per-sample weights of a call: `sampleWeight` (n,), or each sample's class weight (its label,
    /// or the argmax of a one-hot label), or both multiplied; nil when neither is given.
    func sampleWeights(_ sampleWeight: Tensor?, classWeight: [Int: Float]?, targets: [Tensor], count n: Int, op: String) throws -> Tensor? {
        if let sampleWeight, sampleWeight.shape.first != n || sampleWeight.rank > 2 {
            throw RecurError.shapeMismatch(errorSubject, what: "\(op) sampleWeight", expected: [n], actual: sampleWeight.shape.map(Optional.some))
        }
        guard let classWeight else { return sampleWeight }
        guard targets.count == 1, let y = targets.first else {
            throw RecurError.invalidArgument(errorSubject, "\(op): classWeight needs a model with one output (use sampleWeight for several)")
        }
        let labels: Tensor
        if y.rank >= 2, let last = y.shape.last, last > 1 { labels = try y.argmax(alongAxis: -1) } else { labels = try y.reshaped(to: [n]) }
        guard labels.count == n else {
            throw RecurError.invalidArgument(errorSubject, "\(op): classWeight needs one class label per sample; labels have shape \(describeShape(y.shape))")
        }
        let perClass = try labels.scalars.map { label -> Float in
            guard let w = classWeight[Int(label)] else {
                throw RecurError.invalidArgument(errorSubject, "\(op): classWeight has no weight for class \(Int(label))")
            }
            return w
        }
        let weights = try Tensor(shape: [n], scalars: perClass)
        return try sampleWeight.map { try $0 * weights } ?? weights
    }

    /// The end of an epoch of `fit`: the epoch's logs with validation, the finished progress bar, the
    /// history entry and the callbacks; returns the logs.
    func endEpoch(_ epoch: Int, tracker: inout EpochTracker, validation: ValidationData?, batchSize: Int, bar: ProgressBar,
                  steps: Int, start: Date, history: inout History, callbacks: [any Callback], collective: (any Collective)?) throws -> Logs {
        var logs = try tracker.logs(over: collective)
        if let collective { try averageReplicaLocalVariables(over: collective) }
        if let validation {
            let v = try evaluate(validation.x, validation.y, batchSize: batchSize, sampleWeight: validation.sampleWeight, verbose: 0,
                                 collective: collective)
            for name in v.names { logs["val_" + name] = v[name] }
        }
        bar.update(steps, values: logs, finalize: true, elapsed: Date().timeIntervalSince(start))
        history.record(epoch: epoch, logs: logs)
        for cb in callbacks { try cb.onEpochEnd(model: self, epoch: epoch, logs: logs) }
        if let collective { stopTraining = try collective.any(stopTraining) }
        return logs
    }

    /// Makes the weights each rank keeps for itself (per-replica BatchNormalization statistics) the
    /// mean over the ranks.
    func averageReplicaLocalVariables(over collective: any Collective) throws {
        let local = layers.flatMap(\.replicaLocalVariables)
        guard !local.isEmpty else { return }
        let sums = try collective.allReduceSum(local.map(\.value))
        for (v, sum) in zip(local, sums) { v.value = sum.scaled(by: 1 / Float(collective.size)) }
    }

    /// Whether any layer keeps states across batches.
    var hasStatefulLayers: Bool { layers.contains(where: \.isStateful) }

    /// Keras's `fit`: trains for `epochs` over `x`/`y` in batches of `batchSize` (the last batch may be
    /// smaller), shuffling each epoch with a seeded generator, validating on `validationData` or on
    /// the last `validationSplit` fraction of the samples, logging with a progress bar.
    /// `sampleWeight` (n,) and `classWeight` (class id → weight) weight each sample's loss (and the
    /// `weightedMetrics`); `initialEpoch` starts the epoch count there (resuming a run).
    @discardableResult
    public func fit(_ x: [Tensor], _ y: [Tensor], batchSize: Int = 32, epochs: Int = 1,
                    validationData: (x: [Tensor], y: [Tensor])? = nil, validationSplit: Float = 0,
                    shuffle: Bool = true, sampleWeight: Tensor? = nil, classWeight: [Int: Float]? = nil,
                    initialEpoch: Int = 0, callbacks: [any Callback] = [], verbose: Int = 1,
                    output: ((String) -> Void)? = nil, distribution: (any Collective)? = nil) throws -> History {
        try DataParallelContext.with(distribution) {
            try fitHere(x, y, batchSize: batchSize, epochs: epochs, validationData: validationData, validationSplit: validationSplit,
                        shuffle: shuffle, sampleWeight: sampleWeight, classWeight: classWeight, initialEpoch: initialEpoch,
                        callbacks: callbacks, verbose: distribution.map { $0.rank == 0 ? verbose : 0 } ?? verbose,
                        output: output, collective: distribution)
        }
    }

    /// `fit` on this process; with a collective, on this rank's rows of every global batch.
    private func fitHere(_ x: [Tensor], _ y: [Tensor], batchSize: Int, epochs: Int, validationData: (x: [Tensor], y: [Tensor])?,
                         validationSplit: Float, shuffle: Bool, sampleWeight: Tensor?, classWeight: [Int: Float]?, initialEpoch: Int,
                         callbacks: [any Callback], verbose: Int, output: ((String) -> Void)?,
                         collective: (any Collective)?) throws -> History {
        let compiled = try requireCompiled("fit")
        var n = try checkData(x, y, op: "fit")
        var weights = try sampleWeights(sampleWeight, classWeight: classWeight, targets: y, count: n, op: "fit")
        guard initialEpoch >= 0 else { throw RecurError.invalidArgument(errorSubject, "fit: initialEpoch must be at least 0, got \(initialEpoch)") }
        guard batchSize > 0 else { throw RecurError.invalidArgument(errorSubject, "fit: batchSize must be positive, got \(batchSize)") }
        guard epochs >= 0 else { throw RecurError.invalidArgument(errorSubject, "fit: epochs must be at least 0, got \(epochs)") }
        guard (0..<1).contains(validationSplit) else {
            throw RecurError.invalidArgument(errorSubject, "fit: validationSplit must be in [0, 1), got \(validationSplit)")
        }
        if shuffle && hasStatefulLayers {
            throw RecurError.invalidArgument(errorSubject, "fit: shuffling would break the sample order that stateful layers rely on; pass shuffle: false")
        }
        var trainX = x, trainY = y
        var validation = validationData.map { ValidationData(x: $0.x, y: $0.y) }
        if validationSplit > 0 && validation == nil {
            // Keras's split: the first ⌊n·(1 − split)⌋ samples train, in double precision from the
            // fraction as written (0.4, not Float's 0.4000000059...); the rest, with their sample
            // weights (not class weights), validate.
            let fraction = Double("\(validationSplit)") ?? Double(validationSplit)
            let split = Int((Double(n) * (1 - fraction)).rounded(.down))
            guard split > 0 && split < n else {
                throw RecurError.invalidArgument(errorSubject, "fit: \(n) samples cannot be split into training and validation samples by validationSplit \(validationSplit)")
            }
            validation = ValidationData(x: try x.map { try $0.slice(alongAxis: 0, split..<n) }, y: try y.map { try $0.slice(alongAxis: 0, split..<n) },
                                        sampleWeight: try sampleWeight?.slice(alongAxis: 0, split..<n))
            trainX = try x.map { try $0.slice(alongAxis: 0, 0..<split) }
            trainY = try y.map { try $0.slice(alongAxis: 0, 0..<split) }
            weights = try weights?.slice(alongAxis: 0, 0..<split)
            n = split
        }
        let write = output ?? writeToStandardOutput
        stopTraining = false
        for cb in callbacks { try cb.onTrainBegin(model: self) }
        let backup = callbacks.lazy.compactMap { $0 as? BackupAndRestore }.first
        let resume = try backup?.restore(model: self, optimizer: compiled.optimizer, variables: trainableVariables, sampleCount: n)
        if let resume, verbose > 0 { write("Resuming from the backup at epoch \(resume.epoch + 1), step \(resume.step)\n") }
        // Every rank starts from rank 0's weights (BatchNormalization statistics included).
        if let collective {
            let all = variables
            for (v, value) in zip(all, try collective.broadcast(all.map(\.value))) { v.value = value }
        }
        // The shuffle comes from the global generator, as in one process (rank 0's order is broadcast);
        // dropout from a stream of each rank's own, seeded from the global state without drawing from it.
        let shuffler = GlobalRandom.shared
        let perRank = collective.flatMap { c in
            c.size > 1 ? GlobalRandom(seed: shuffler.state.reduce(0, ^) ^ (0x9E37_79B9_7F4A_7C15 &* UInt64(c.rank + 1))) : nil
        }
        return try GlobalRandom.$scoped.withValue(perRank ?? GlobalRandom.scoped) {
            try fitEpochs(x: trainX, y: trainY, weights: weights, n: n, batchSize: batchSize, epochs: epochs, validation: validation,
                          shuffle: shuffle, shuffler: shuffler, initialEpoch: initialEpoch, callbacks: callbacks, verbose: verbose,
                          output: output, write: write, compiled: compiled, backup: backup, resume: resume, collective: collective)
        }
    }

    /// The epochs of `fit`.
    private func fitEpochs(x trainX: [Tensor], y trainY: [Tensor], weights: Tensor?, n: Int, batchSize: Int, epochs: Int,
                           validation: ValidationData?, shuffle: Bool, shuffler: GlobalRandom, initialEpoch: Int,
                           callbacks: [any Callback], verbose: Int, output: ((String) -> Void)?, write: @escaping (String) -> Void,
                           compiled: CompiledState, backup: BackupAndRestore?, resume: BackupAndRestore.Position?,
                           collective: (any Collective)?) throws -> History {
        var resume = resume
        let steps = (n + batchSize - 1) / batchSize
        var history = History()
        var lastLogs = Logs()
        for epoch in max(initialEpoch, resume?.epoch ?? 0)..<max(initialEpoch, epochs) {
            for cb in callbacks { try cb.onEpochBegin(model: self, epoch: epoch) }
            if verbose > 0 { write("Epoch \(epoch + 1)/\(epochs)\n") }
            let bar = ProgressBar(target: steps, verbose: verbose, isTerminal: output == nil && isatty(STDOUT_FILENO) != 0, write: write)
            var order = Array(0..<n)
            var tracker = EpochTracker(compiled: compiled, outputNames: outputNames)
            var firstStep = 0
            if let saved = resume, saved.epoch == epoch, saved.step > 0 {
                (order, firstStep) = (saved.order, saved.step)
                // The backup holds the sums over every rank: rank 0 carries them on, the others start at zero.
                if (collective?.rank ?? 0) == 0 { tracker.restore(saved.tracker) }
            } else if shuffle {
                shuffler.draw { order.shuffle(using: &$0) }
                if let collective {
                    var shared = order.map(Double.init)
                    try collective.broadcast(&shared, root: 0)
                    order = shared.map { Int($0) }
                }
            }
            resume = nil
            let start = Date()
            for step in firstStep..<steps {
                for cb in callbacks { try cb.onBatchBegin(model: self, batch: step) }
                let global = order[(step * batchSize)..<min(n, (step + 1) * batchSize)]
                // A rank takes positions rank, rank + size, ... of the global batch (maybe none: it still
                // runs the step on no rows, so that it joins every collective).
                let indices = collective.map { c in global.indices.filter { ($0 - global.startIndex) % c.size == c.rank }.map { global[$0] }[...] } ?? global
                let xb = try Model.rows(trainX, indices), yb = try Model.rows(trainY, indices)
                let wb = try weights.map { try Model.rows([$0], indices)[0] }
                let (total, perOutput, predictions, masks) = try trainStep(xb, yb, sampleWeight: wb, compiled: compiled,
                                                                           share: Float(indices.count) / Float(global.count), collective: collective)
                if !indices.isEmpty {
                    try tracker.update(total: total, perOutput: perOutput, targets: yb, predictions: predictions, masks: masks,
                                       sampleWeight: wb, batch: indices.count)
                }
                let logs = try tracker.logs(over: collective)
                history.record(step: step, of: steps, epoch: epoch, logs: logs)
                for cb in callbacks { try cb.onBatchEnd(model: self, batch: step, logs: logs) }
                if let backup, let every = backup.saveEverySteps, (step + 1) % every == 0, step + 1 < steps {
                    try backup.save(model: self, optimizer: compiled.optimizer, variables: trainableVariables,
                                    position: .init(epoch: epoch, step: step + 1, order: order, tracker: try tracker.snapshot(over: collective)))
                }
                if step + 1 < steps { bar.update(step + 1, values: logs) }
                if let collective { stopTraining = try collective.any(stopTraining) }
                if stopTraining { break }
            }
            lastLogs = try endEpoch(epoch, tracker: &tracker, validation: validation, batchSize: batchSize, bar: bar, steps: steps,
                                    start: start, history: &history, callbacks: callbacks, collective: collective)
            if stopTraining { break }
            if let backup {
                try backup.save(model: self, optimizer: compiled.optimizer, variables: trainableVariables,
                                position: .init(epoch: epoch + 1, step: 0, order: Array(0..<n), tracker: []))
            }
        }
        // Keras's `finalize_variable_values`: a moving average replaces the weights.
        if epochs > 0 { compiled.optimizer.finishTraining(trainableVariables) }
        for cb in callbacks { try cb.onTrainEnd(model: self, logs: lastLogs) }
        return history
    }

    @discardableResult
    public func fit(_ x: Tensor, _ y: Tensor, batchSize: Int = 32, epochs: Int = 1,
                    validationData: (x: Tensor, y: Tensor)? = nil, validationSplit: Float = 0,
                    shuffle: Bool = true, sampleWeight: Tensor? = nil, classWeight: [Int: Float]? = nil,
                    initialEpoch: Int = 0, callbacks: [any Callback] = [], verbose: Int = 1,
                    output: ((String) -> Void)? = nil, distribution: (any Collective)? = nil) throws -> History {
        try fit([x], [y], batchSize: batchSize, epochs: epochs,
                validationData: validationData.map { ([$0.x], [$0.y]) }, validationSplit: validationSplit,
                shuffle: shuffle, sampleWeight: sampleWeight, classWeight: classWeight, initialEpoch: initialEpoch,
                callbacks: callbacks, verbose: verbose, output: output, distribution: distribution)
    }

    /// Keras's `evaluate`: the loss and metrics over the data, in inference mode.
    public func evaluate(_ x: [Tensor], _ y: [Tensor], batchSize: Int = 32, sampleWeight: Tensor? = nil, verbose: Int = 1) throws -> Logs {
        try evaluate(x, y, batchSize: batchSize, sampleWeight: sampleWeight, verbose: verbose, collective: nil)
    }

    /// `evaluate`; with a collective each rank evaluates its contiguous share of the samples and the
    /// sums behind the logs are added over the ranks.
    func evaluate(_ x: [Tensor], _ y: [Tensor], batchSize: Int, sampleWeight: Tensor?, verbose: Int, collective: (any Collective)?) throws -> Logs {
        let compiled = try requireCompiled("evaluate")
        var n = try checkData(x, y, op: "evaluate")
        var (x, y, sampleWeight) = (x, y, sampleWeight)
        if let c = collective {
            let share = (n * c.rank / c.size)..<(n * (c.rank + 1) / c.size)
            x = try x.map { try $0.slice(alongAxis: 0, share) }
            y = try y.map { try $0.slice(alongAxis: 0, share) }
            sampleWeight = try sampleWeight?.slice(alongAxis: 0, share)
            n = share.count
        }
        guard batchSize > 0 else { throw RecurError.invalidArgument(errorSubject, "evaluate: batchSize must be positive, got \(batchSize)") }
        let weights = try sampleWeights(sampleWeight, classWeight: nil, targets: y, count: n, op: "evaluate")
        var tracker = EpochTracker(compiled: compiled, outputNames: outputNames, independentMetrics: true)
        let steps = (n + batchSize - 1) / batchSize
        let bar = ProgressBar(target: steps, verbose: verbose)
        try GradientRecording.disabled {
            for step in 0..<steps {
                let indices = (step * batchSize)..<min(n, (step + 1) * batchSize)
                let xb = try x.map { try $0.slice(alongAxis: 0, indices) }, yb = try y.map { try $0.slice(alongAxis: 0, indices) }
                let wb = try weights?.slice(alongAxis: 0, indices)
                let ((predictions, masks), activity) = try ActivityPenalties.collecting { try inferenceForward(xb) }
                var (total, perOutput) = try computeLoss(compiled, targets: yb, predictions: predictions, masks: masks, sampleWeight: wb)
                total = try withPenalties(total, activity: activity)
                try tracker.update(total: total.scalar, perOutput: perOutput.map(\.scalar), targets: yb, predictions: predictions, masks: masks,
                                   sampleWeight: wb, batch: indices.count)
            }
        }
        let logs = try tracker.logs(over: collective)
        bar.update(steps, values: logs, finalize: true)
        return logs
    }

    public func evaluate(_ x: Tensor, _ y: Tensor, batchSize: Int = 32, sampleWeight: Tensor? = nil, verbose: Int = 1) throws -> Logs {
        try evaluate([x], [y], batchSize: batchSize, sampleWeight: sampleWeight, verbose: verbose)
    }

    /// Keras's `predict`: every output over all samples, computed in batches in inference mode.
    public func predict(_ x: [Tensor], batchSize: Int = 32) throws -> [Tensor] {
        let n = try checkData(x, nil, op: "predict")
        guard batchSize > 0 else { throw RecurError.invalidArgument(errorSubject, "predict: batchSize must be positive, got \(batchSize)") }
        var pieces: [[Tensor]] = []
        try GradientRecording.disabled {
            for start in stride(from: 0, to: n, by: batchSize) {
                let indices = start..<min(n, start + batchSize)
                pieces.append(try inferenceForward(x.map { try $0.slice(alongAxis: 0, indices) }).outputs)
            }
        }
        guard let first = pieces.first else { return try inferenceForward(x).outputs }
        return try (0..<first.count).map { k in try Tensor.concatenate(pieces.map { $0[k] }, alongAxis: 0) }
    }

    public func predict(_ x: Tensor, batchSize: Int = 32) throws -> Tensor {
        let outs = try predict([x], batchSize: batchSize)
        guard outs.count == 1 else {
            throw RecurError.invalidArgument(errorSubject, "predict: the model has \(outs.count) outputs; call predict(_: [Tensor])")
        }
        return outs[0]
    }
}

/// The samples `fit` validates on after every epoch: `validationData`, or the samples
/// `validationSplit` holds out with their sample weights.
struct ValidationData {
    let x: [Tensor]
    let y: [Tensor]
    var sampleWeight: Tensor? = nil
}
