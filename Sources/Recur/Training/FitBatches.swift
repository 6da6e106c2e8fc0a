import Foundation

/// One batch from a data source: the model's inputs and targets, optionally per-sample weights.
public struct Batch: Sendable {
    public var x: [Tensor]
    public var y: [Tensor]
    public var sampleWeight: Tensor?

    public init(x: [Tensor], y: [Tensor], sampleWeight: Tensor? = nil) {
        (self.x, self.y, self.sampleWeight) = (x, y, sampleWeight)
    }

    public init(_ x: Tensor, _ y: Tensor, sampleWeight: Tensor? = nil) {
        self.init(x: [x], y: [y], sampleWeight: sampleWeight)
    }
}

extension Model {
    /// Keras's `fit` over a data source (a generator or `PyDataset` in Keras): any Swift `Sequence` of
    /// batches, computed lazily. Without `stepsPerEpoch` every epoch runs through the sequence from
    /// its start (the sequence must be multi-pass for several epochs); with it, every epoch takes that
    /// many batches, continuing where the last epoch stopped and starting the sequence again when it
    /// ends. A sequence that yields no batch ends training.
    @discardableResult
    public func fit<Batches: Sequence>(_ batches: Batches, epochs: Int = 1, stepsPerEpoch: Int? = nil,
                                       validationData: (x: [Tensor], y: [Tensor])? = nil, initialEpoch: Int = 0,
                                       callbacks: [any Callback] = [], verbose: Int = 1,
                                       output: ((String) -> Void)? = nil) throws -> History where Batches.Element == Batch {
        let compiled = try requireCompiled("fit")
        guard epochs >= 0, initialEpoch >= 0 else {
            throw RecurError.invalidArgument(errorSubject, "fit: epochs and initialEpoch must be at least 0, got \(epochs) and \(initialEpoch)")
        }
        if let stepsPerEpoch, stepsPerEpoch < 1 {
            throw RecurError.invalidArgument(errorSubject, "fit: stepsPerEpoch must be positive, got \(stepsPerEpoch)")
        }
        if callbacks.contains(where: { $0 is BackupAndRestore }) {
            throw RecurError.unsupported(errorSubject, "fit: BackupAndRestore with a data source (its position cannot be saved); pass arrays")
        }
        let write = output ?? writeToStandardOutput
        let validation = validationData.map { ValidationData(x: $0.x, y: $0.y) }
        var iterator = batches.makeIterator()
        var history = History()
        stopTraining = false
        for cb in callbacks { try cb.onTrainBegin(model: self) }
        var lastLogs = Logs()
        epochLoop: for epoch in initialEpoch..<max(initialEpoch, epochs) {
            for cb in callbacks { try cb.onEpochBegin(model: self, epoch: epoch) }
            if verbose > 0 { write("Epoch \(epoch + 1)/\(epochs)\n") }
            if stepsPerEpoch == nil { iterator = batches.makeIterator() }
            let bar = ProgressBar(target: stepsPerEpoch ?? 0, verbose: verbose, isTerminal: output == nil && isatty(STDOUT_FILENO) != 0, write: write)
            var tracker = EpochTracker(compiled: compiled, outputNames: outputNames)
            let start = Date()
            var step = 0
            while stepsPerEpoch.map({ step < $0 }) ?? true {
                var next = iterator.next()
                if next == nil, stepsPerEpoch != nil, step > 0 || epoch > initialEpoch {
                    iterator = batches.makeIterator()
                    next = iterator.next()
                }
                guard let batch = next else {
                    if step == 0 {
                        if verbose > 0 { write("The data source yielded no batch; training stops.\n") }
                        break epochLoop
                    }
                    break
                }
                let n = try checkData(batch.x, batch.y, op: "fit")
                let weights = try sampleWeights(batch.sampleWeight, classWeight: nil, targets: batch.y, count: n, op: "fit")
                for cb in callbacks { try cb.onBatchBegin(model: self, batch: step) }
                let (total, perOutput, predictions, masks) = try trainStep(batch.x, batch.y, sampleWeight: weights, compiled: compiled)
                try tracker.update(total: total, perOutput: perOutput, targets: batch.y, predictions: predictions, masks: masks,
                                   sampleWeight: weights, batch: n)
                step += 1
                let logs = tracker.logs()
                for cb in callbacks { try cb.onBatchEnd(model: self, batch: step - 1, logs: logs) }
                if stepsPerEpoch.map({ step < $0 }) ?? true { bar.update(step, values: logs) }
                if stopTraining { break }
            }
            lastLogs = try endEpoch(epoch, tracker: &tracker, validation: validation, batchSize: 32, bar: bar, steps: step,
                                    start: start, history: &history, callbacks: callbacks, collective: nil)
            if stopTraining { break }
        }
        for cb in callbacks { try cb.onTrainEnd(model: self, logs: lastLogs) }
        return history
    }
}
