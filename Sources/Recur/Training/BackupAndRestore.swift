import Foundation

/// Keras's `BackupAndRestore`: `fit` saves its whole state to `directory` every epoch (or every
/// `saveEverySteps` steps), and a `fit` started again with the same callback after the process was
/// killed resumes from the last backup — weights (BatchNormalization statistics included), optimizer
/// slots and step count, learning rate, epoch, step, the epoch's shuffle order, the random generator
/// and the epoch's running loss and metrics — so it ends exactly as the uninterrupted run would (same
/// machine, same data and settings). The backup is removed when `fit` finishes.
///
/// The backup is one file, `directory/backup.recur`, a ZIP written atomically: `meta.json` and the
/// arrays as `.npy` entries. Metrics of your own (Metric subclasses) restart their epoch on resume.
public final class BackupAndRestore: Callback {
    public let directory: String
    public let saveEverySteps: Int?
    public let deleteWhenDone: Bool

    public init(directory: String, saveEverySteps: Int? = nil, deleteWhenDone: Bool = true) {
        precondition(saveEverySteps.map { $0 > 0 } ?? true, "BackupAndRestore: saveEverySteps must be positive")
        self.directory = directory
        self.saveEverySteps = saveEverySteps
        self.deleteWhenDone = deleteWhenDone
    }

    var path: String { URL(fileURLWithPath: directory).appendingPathComponent("backup.recur").path }

    /// Where a resumed `fit` continues.
    struct Position {
        let epoch: Int
        let step: Int
        let order: [Int]
        let tracker: [Double]
    }

    func save(model: Model, optimizer: Optimizer, variables: [Variable], position: Position) throws {
        // In data-parallel training rank 0 writes the backup that every rank restores from.
        guard DataParallelContext.isChief else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard position.order.count < 1 << 24 else {
            throw RecurError.unsupported(op: "BackupAndRestore", message: "more than 2^24 samples")
        }
        let meta: JSONValue = .object([
            "format": "recur-backup-1", "epoch": .number(Double(position.epoch)), "step": .number(Double(position.step)),
            "iterations": .number(Double(optimizer.appliedBatches)), "learning_rate": .number(Double(optimizer.learningRate)),
            "random": .array(GlobalRandom.shared.state.map { .string(String($0)) }),
            "tracker": .array(position.tracker.map { .string(String($0)) }),
        ])
        var writer = ZipWriter(path: path)
        try writer.add(name: "meta.json", data: JSONEncoder().encode(meta))
        try writer.add(name: "order.npy", data: NumpyFile.npyData(Tensor(position.order.map(Float.init))))
        for (i, w) in model.getWeights().enumerated() { try writer.add(name: "weight_\(i).npy", data: NumpyFile.npyData(w)) }
        for (i, slots) in optimizer.slotState(for: variables).enumerated() {
            for (j, s) in slots.enumerated() { try writer.add(name: "slot_\(i)_\(j).npy", data: NumpyFile.npyData(s)) }
        }
        try RecurFileIO.writeAtomically(writer.finish(), path: path)
    }

    /// Restores the model, optimizer and random generator from the backup, if there is one, and
    /// returns where to continue.
    func restore(model: Model, optimizer: Optimizer, variables: [Variable], sampleCount: Int) throws -> Position? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let archive = try ZipArchive(path: path)
        let meta = try JSONValue.parse(archive.contents(named: "meta.json", limit: UntrustedLimits.maxConfigBytes), label: "\(path)[meta.json]")
        func fail(_ message: String) -> RecurError { .io(path: path, message: message) }
        guard meta["format"]?.string == "recur-backup-1", let epoch = meta["epoch"]?.int, let step = meta["step"]?.int,
              let iterations = meta["iterations"]?.int, let rate = meta["learning_rate"]?.double,
              let random = meta["random"]?.array?.compactMap({ $0.string.flatMap(UInt64.init) }), random.count == 4,
              let tracker = meta["tracker"]?.array?.compactMap({ $0.string.flatMap(Double.init) }) else {
            throw fail("not a Recur backup, or a damaged one")
        }
        func array(_ name: String) throws -> Tensor { try NumpyFile.readNpy(archive.contents(named: name), path: "\(path)[\(name)]") }
        let order = try array("order.npy").scalars.map { Int($0) }
        guard order.count == sampleCount, Set(order) == Set(0..<sampleCount) else {
            throw fail("the backup is for \(order.count) training samples, this fit has \(sampleCount)")
        }
        let weights = try model.getWeights().indices.map { try array("weight_\($0).npy") }
        let slots = try variables.indices.map { i in
            try (0..<optimizer.stateCount).compactMap { j in archive.entry(named: "slot_\(i)_\(j).npy") == nil ? nil : try array("slot_\(i)_\(j).npy") }
        }
        try model.setWeights(weights)
        try optimizer.restore(slots: slots, for: variables, appliedBatches: iterations, learningRate: Float(rate))
        GlobalRandom.shared.state = random
        return Position(epoch: epoch, step: step, order: order, tracker: tracker)
    }

    public func onTrainEnd(model: Model, logs: Logs) throws {
        if deleteWhenDone { try? FileManager.default.removeItem(atPath: path) }
    }
}
