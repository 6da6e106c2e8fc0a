import Foundation

/// Hooks called during `fit` (Keras's `Callback`). Every hook has an empty default.
public protocol Callback: AnyObject {
    func onTrainBegin(model: Model) throws
    func onTrainEnd(model: Model, logs: Logs) throws
    func onEpochBegin(model: Model, epoch: Int) throws
    func onEpochEnd(model: Model, epoch: Int, logs: Logs) throws
    func onBatchBegin(model: Model, batch: Int) throws
    func onBatchEnd(model: Model, batch: Int, logs: Logs) throws
}

extension Callback {
    public func onTrainBegin(model: Model) throws {}
    public func onTrainEnd(model: Model, logs: Logs) throws {}
    public func onEpochBegin(model: Model, epoch: Int) throws {}
    public func onEpochEnd(model: Model, epoch: Int, logs: Logs) throws {}
    public func onBatchBegin(model: Model, batch: Int) throws {}
    public func onBatchEnd(model: Model, batch: Int, logs: Logs) throws {}
}

/// Whether a monitored quantity improves when it goes down (losses) or up (accuracies), as Keras's "auto".
func monitorImprovesDownward(_ monitor: String) -> Bool {
    !(monitor.hasSuffix("acc") || monitor.hasSuffix("accuracy") || monitor.hasPrefix("fmeasure"))
}

/// Stops training when `monitor` has not improved by more than `minDelta` for `patience` epochs;
/// optionally restores the weights of the best epoch.
public final class EarlyStopping: Callback {
    public let monitor: String
    public let minDelta: Float
    public let patience: Int
    public let restoreBestWeights: Bool
    public private(set) var stoppedEpoch: Int?
    private var best: Float = .nan
    private var wait = 0
    private var bestWeights: [Tensor]?

    public init(monitor: String = "val_loss", minDelta: Float = 0, patience: Int = 0, restoreBestWeights: Bool = false) {
        self.monitor = monitor
        self.minDelta = abs(minDelta)
        self.patience = patience
        self.restoreBestWeights = restoreBestWeights
    }

    public func onTrainBegin(model: Model) throws {
        best = .nan; wait = 0; stoppedEpoch = nil; bestWeights = nil
    }

    public func onEpochEnd(model: Model, epoch: Int, logs: Logs) throws {
        guard let value = logs[monitor] else {
            throw RecurError.invalidArgument(op: "EarlyStopping", message: "monitor '\(monitor)' is not among the logs: \(logs.names.joined(separator: ", "))")
        }
        let down = monitorImprovesDownward(monitor)
        let improved = best.isNaN || (down ? value < best - minDelta : value > best + minDelta)
        if improved {
            best = value
            wait = 0
            if restoreBestWeights { bestWeights = model.getWeights() }
        } else {
            wait += 1
            if wait >= patience && epoch > 0 {
                stoppedEpoch = epoch
                model.stopTraining = true
                if restoreBestWeights, let bestWeights { try model.setWeights(bestWeights) }
            }
        }
    }
}

/// Stops training as soon as a batch loss is NaN or infinite.
public final class TerminateOnNaN: Callback {
    public init() {}
    public func onBatchEnd(model: Model, batch: Int, logs: Logs) throws {
        if let loss = logs["loss"], !loss.isFinite {
            print("Batch \(batch): Invalid loss, terminating training")
            model.stopTraining = true
        }
    }
}

/// Sets the optimizer's learning rate at the start of each epoch from `schedule(epoch, currentRate)`.
public final class LearningRateScheduler: Callback {
    let schedule: (Int, Float) -> Float
    public init(_ schedule: @escaping (_ epoch: Int, _ learningRate: Float) -> Float) { self.schedule = schedule }
    public func onEpochBegin(model: Model, epoch: Int) throws {
        let optimizer = try model.requireCompiled("fit").optimizer
        optimizer.learningRate = schedule(epoch, optimizer.learningRate)
    }
}

/// Writes one CSV row of the epoch's logs per epoch (header first), as Keras's `CSVLogger`; with
/// `append` the rows follow what the file already holds. The file is rewritten atomically each epoch,
/// so it is never seen half-written.
public final class CSVLogger: Callback {
    public let path: String
    public let separator: String
    public let append: Bool
    private var text = ""
    private var wroteHeader = false

    public init(_ path: String, separator: String = ",", append: Bool = false) {
        self.path = path
        self.separator = separator
        self.append = append
    }

    public func onTrainBegin(model: Model) throws {
        text = ""
        if append, FileManager.default.fileExists(atPath: path) {
            text = String(decoding: try RecurFileIO.read(path: path), as: UTF8.self)
        }
        wroteHeader = !text.isEmpty
    }

    public func onEpochEnd(model: Model, epoch: Int, logs: Logs) throws {
        if !wroteHeader {
            text += (["epoch"] + logs.names).joined(separator: separator) + "\n"
            wroteHeader = true
        }
        text += ([String(epoch)] + logs.names.map { String(logs[$0]!) }).joined(separator: separator) + "\n"
        // In data-parallel training only rank 0 writes.
        if DataParallelContext.isChief { try RecurFileIO.writeAtomically(Data(text.utf8), path: path) }
    }
}
