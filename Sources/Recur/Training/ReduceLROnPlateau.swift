/// Multiplies the learning rate by `factor` when `monitor` has not improved for `patience` epochs,
/// as Keras's `ReduceLROnPlateau`: an improvement beats the best value by more than `minDelta`; after a
/// reduction, `cooldown` epochs pass before waiting starts again; the rate never goes below `minLR`.
/// `mode` "auto" minimises losses and maximises accuracies. The epoch's logs gain `learning_rate`
/// in Keras; here the optimizer's rate is what changes.
public final class ReduceLROnPlateau: Callback {
    public let monitor: String
    public let factor: Float
    public let patience: Int
    public let minDelta: Float
    public let cooldown: Int
    public let minLR: Float
    let maximises: Bool
    public private(set) var wait = 0
    public private(set) var cooldownCounter = 0
    public private(set) var best: Float

    public init(monitor: String = "val_loss", factor: Float = 0.1, patience: Int = 10, mode: String = "auto",
                minDelta: Float = 1e-4, cooldown: Int = 0, minLR: Float = 0) {
        precondition(factor < 1, "ReduceLROnPlateau does not support a factor ≥ 1")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.minDelta = minDelta
        self.cooldown = cooldown
        self.minLR = minLR
        self.maximises = mode == "max" || (mode == "auto" && !monitorImprovesDownward(monitor))
        self.best = maximises ? -.infinity : .infinity
    }

    public func onTrainBegin(model: Model) throws {
        wait = 0
        cooldownCounter = 0
        best = maximises ? -.infinity : .infinity
    }

    public func onEpochEnd(model: Model, epoch: Int, logs: Logs) throws {
        guard let current = logs[monitor] else {
            throw RecurError.invalidArgument(op: "ReduceLROnPlateau", message: "monitor '\(monitor)' is not among the logs: \(logs.names.joined(separator: ", "))")
        }
        let optimizer = try model.requireCompiled("fit").optimizer
        if cooldownCounter > 0 {
            cooldownCounter -= 1
            wait = 0
        }
        if maximises ? current - minDelta > best : current + minDelta < best {
            best = current
            wait = 0
        } else if cooldownCounter == 0 {
            wait += 1
            if wait >= patience, optimizer.learningRate > minLR {
                optimizer.learningRate = max(optimizer.learningRate * factor, minLR)
                cooldownCounter = cooldown
                wait = 0
            }
        }
    }
}
