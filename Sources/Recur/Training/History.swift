/// What `fit` returns: every logged value per epoch, as Keras's `History.history`.
public struct History: Sendable {
    public internal(set) var epochs: [Int] = []
    public internal(set) var history: [String: [Float]] = [:]

    mutating func record(epoch: Int, logs: Logs) {
        epochs.append(epoch)
        for name in logs.names { history[name, default: []].append(logs[name]!) }
    }
}
