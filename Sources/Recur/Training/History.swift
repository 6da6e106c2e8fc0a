/// What `fit` returns: every logged value per epoch, as Keras's `History.history`, and the training
/// logs after every step.
public struct History: Sendable {
    public internal(set) var epochs: [Int] = []
    public internal(set) var history: [String: [Float]] = [:]
    /// Where each recorded step lies, in epochs: `epoch + (step + 1) / stepsPerEpoch` (the end of
    /// epoch 0's last step is 1.0).
    public internal(set) var stepPositions: [Double] = []
    /// The training logs after each step — the running averages over the epoch so far that the
    /// progress bar shows — by name, parallel to `stepPositions`.
    public internal(set) var stepHistory: [String: [Float]] = [:]

    mutating func record(epoch: Int, logs: Logs) {
        epochs.append(epoch)
        for name in logs.names { history[name, default: []].append(logs[name]!) }
    }

    mutating func record(step: Int, of steps: Int, epoch: Int, logs: Logs) {
        stepPositions.append(Double(epoch) + Double(step + 1) / Double(steps))
        for name in logs.names {
            // A name first logged late is padded so that every series stays parallel to the positions.
            stepHistory[name, default: Array(repeating: .nan, count: stepPositions.count - 1)].append(logs[name]!)
        }
    }
}
