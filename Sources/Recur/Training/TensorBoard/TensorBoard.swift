import Foundation

/// Writes TensorBoard logs during `fit`, as Keras's `TensorBoard` callback: event files in
/// `logDir/train` and `logDir/validation` that `tensorboard --logdir logDir` shows.
///
/// - At each epoch's end (step = the 0-based epoch): `epoch_<name>` for every training log and the
///   learning rate in `train/`; the `val_` logs without their prefix in `validation/`, plus
///   `evaluation_<name>_vs_iterations` at step = the optimizer's iterations, as Keras writes them.
/// - With `updateFrequency` `.batch` or `.everyBatches(n)`: `batch_<name>` (the running averages the
///   progress bar shows) every n training batches, at step = the global batch count (1-based).
/// - With `histogramFrequency` n > 0: a histogram of every weight each n epochs (`<layer>/<weight>/histogram`).
///
/// In data-parallel training only rank 0 writes.
public final class TensorBoard: Callback {
    /// How often batch-level scalars are written (Keras's `update_freq`).
    public enum UpdateFrequency: Sendable, Equatable {
        /// Epoch-level scalars only.
        case epoch
        /// After every training batch.
        case batch
        /// After every n training batches.
        case everyBatches(Int)
    }

    public let logDir: String
    public let histogramFrequency: Int
    public let updateFrequency: UpdateFrequency
    private var trainFile: TensorBoardEventFile?
    private var validationFile: TensorBoardEventFile?
    private var globalTrainBatch = 0

    /// - Parameters:
    ///   - logDir: The directory that receives `train/` and `validation/` (created if missing).
    ///   - histogramFrequency: Epochs between weight histograms; 0 writes none.
    ///   - updateFrequency: `.epoch`, `.batch` or `.everyBatches(n)`.
    public init(logDir: String = "logs", histogramFrequency: Int = 0, updateFrequency: UpdateFrequency = .epoch) {
        self.logDir = logDir
        self.histogramFrequency = histogramFrequency
        self.updateFrequency = updateFrequency
    }

    private var batchInterval: Int? {
        switch updateFrequency {
        case .epoch: nil
        case .batch: 1
        case .everyBatches(let n): n
        }
    }

    public func onTrainBegin(model: Model) throws {
        guard histogramFrequency >= 0 else {
            throw RecurError.invalidArgument(op: "TensorBoard", message: "histogramFrequency must be 0 or more, got \(histogramFrequency)")
        }
        if let batchInterval, batchInterval < 1 {
            throw RecurError.invalidArgument(op: "TensorBoard", message: "updateFrequency .everyBatches needs 1 or more batches, got \(batchInterval)")
        }
        globalTrainBatch = 0
        guard DataParallelContext.isChief else { return }
        trainFile = try TensorBoardEventFile(directory: (logDir as NSString).appendingPathComponent("train"))
        validationFile = try TensorBoardEventFile(directory: (logDir as NSString).appendingPathComponent("validation"))
    }

    public func onBatchEnd(model: Model, batch: Int, logs: Logs) throws {
        globalTrainBatch += 1
        guard let trainFile, let batchInterval, globalTrainBatch % batchInterval == 0 else { return }
        try trainFile.write(step: globalTrainBatch, scalars: logs.names.map { ("batch_" + $0, logs[$0]!) })
    }

    public func onEpochEnd(model: Model, epoch: Int, logs: Logs) throws {
        guard let trainFile, let validationFile else { return }
        let optimizer = model.compiled?.optimizer
        var trainScalars = logs.names.filter { !$0.hasPrefix("val_") }.map { ("epoch_" + $0, logs[$0]!) }
        if let optimizer { trainScalars.append(("epoch_learning_rate", optimizer.learningRate)) }
        var histograms: [(tag: String, histogram: TensorBoardHistogram)] = []
        if histogramFrequency > 0, epoch % histogramFrequency == 0 { histograms = weightHistograms(model) }
        try trainFile.write(step: epoch, scalars: trainScalars, histograms: histograms)

        let validationNames = logs.names.filter { $0.hasPrefix("val_") }
        guard !validationNames.isEmpty else { return }
        try validationFile.write(step: epoch, scalars: validationNames.map { ("epoch_" + $0.dropFirst(4), logs[$0]!) })
        if let optimizer {
            try validationFile.write(step: optimizer.iterations,
                                     scalars: validationNames.map { ("evaluation_\($0.dropFirst(4))_vs_iterations", logs[$0]!) })
        }
    }

    public func onTrainEnd(model: Model, logs: Logs) throws {
        trainFile = nil
        validationFile = nil
    }

    /// One histogram per weight, tagged `<layer>/<weight>/histogram`; a repeated tag gets `_1`, `_2`, ...
    private func weightHistograms(_ model: Model) -> [(tag: String, histogram: TensorBoardHistogram)] {
        var seen: [String: Int] = [:]
        return model.layers.flatMap { layer in
            layer.variables.map { variable in
                let base = "\(layer.name)/\(variable.name)"
                let repeats = seen[base, default: 0]
                seen[base] = repeats + 1
                let tag = (repeats == 0 ? base : "\(base)_\(repeats)") + "/histogram"
                return (tag, TensorBoardHistogram(values: variable.value.scalars))
            }
        }
    }
}
