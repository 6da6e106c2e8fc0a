import ArgumentParser
import Foundation
import Recur
import RecurExamples
#if MPI
import RecurMPI
#endif

/// `recur train`: the guide's MNIST-row model on Fashion-MNIST, with a progress bar and a JSON summary line.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the Keras RNN guide's model (recurrent layer over 28 rows, BatchNormalization, Dense(10)) on Fashion-MNIST.")

    @Option(help: "Epochs to train.") var epochs = 1
    @Option(help: "Recurrent layer: lstm, gru or simplernn; or user-lstm or mgu, cells written from public ops (RecurExamples) in the cell loop.")
    var cell = "lstm"
    @Option(help: "Units of the recurrent layer.") var units = 64
    @Option(name: .customLong("batch-size"), help: "Batch size.") var batchSize = 64
    @Option(help: "Optimizer, by its Keras name with Keras's defaults: sgd, adam, adamw, rmsprop, adagrad, adadelta, adamax, nadam, lamb, lion or ftrl.")
    var optimizer = "sgd"
    @Option(help: "Fused kernel: auto or never (never runs the generic cell loop).") var fused = "auto"
    @Option(help: "Cell loop: auto (a traced, compiled step program when the step allows), always or never (op by op).") var compiled = "auto"
    @Option(help: "Random seed for weights and shuffling.") var seed: UInt64 = 1337
    @Option(help: DeviceChoice.help) var device = DeviceChoice.auto
    @Option(help: "Save the trained model: a full Keras model (.keras) or its weights (.weights.h5 or .npz).") var save: String?
    @Option(name: .customLong("data-dir"), help: "Directory with the Fashion-MNIST IDX files.") var dataDir = FashionMNIST.defaultDirectory
    @Option(help: "Use only the first N training samples (0: all).") var limit = 0
    @Option(help: "Back up the whole training state to this directory and resume from it when run again (Keras's BackupAndRestore).")
    var resume: String?
    @Option(name: .customLong("backup-steps"), help: "With --resume: back up every N steps as well as every epoch (0: every epoch only).")
    var backupSteps = 0
    @Option(help: "Save the model to DIR/epoch-NN.keras after every epoch (Keras's ModelCheckpoint).") var checkpoint: String?
    @Option(help: "Write the test sample the model predicts as a grayscale PNG.") var show: String?
    @Option(help: "Plot loss and accuracy (training and validation per epoch, training per step) as an SVG image.") var plot: String?
    @Option(help: "Write TensorBoard logs to DIR/train and DIR/validation: scalars per epoch and every 10 steps, weight histograms per epoch.")
    var tensorboard: String?
    @Flag(help: "Data-parallel training over MPI, one rank per process: start with mpirun -np N. --batch-size is the global batch; rank 0 prints and saves.")
    var distributed = false
    @Flag(name: .customLong("sync-batch-norm"), help: "BatchNormalization(synchronized: true): batch statistics over every rank's rows.")
    var syncBatchNorm = false

    /// Every option is checked before any data is read or anything is trained.
    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard (1...65_536).contains(units) else { throw ValidationError("--units must be in 1...65536, got \(units)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        guard limit >= 0 else { throw ValidationError("--limit must be 0 (all samples) or positive, got \(limit)") }
        guard GuideModels.RowCell(rawValue: cell) != nil else {
            throw ValidationError("--cell must be lstm, gru, simplernn, user-lstm or mgu, got \(cell)")
        }
        guard CompiledLoopMode(rawValue: compiled) != nil else {
            throw ValidationError("--compiled must be auto, always or never, got \(compiled)")
        }
        guard let mode = FusedKernelMode(rawValue: fused), mode != .always else {
            throw ValidationError("--fused must be auto or never, got \(fused)")
        }
        do { _ = try optimizerNamed(optimizer) } catch { throw ValidationError("--optimizer: \(error)") }
        #if !MPI
        if distributed { throw ValidationError("--distributed: this recur was built without MPI (./run.sh dist); use a build with the default MPI trait") }
        #endif
        guard backupSteps >= 0 else { throw ValidationError("--backup-steps must be 0 or positive, got \(backupSteps)") }
        try device.validate()
        if distributed && device == .cuda {
            throw ValidationError("--distributed trains on the CPU, one process per rank; --device cuda cannot be combined with it")
        }
        for (flag, dir) in [("--resume", resume), ("--checkpoint", checkpoint), ("--tensorboard", tensorboard)] {
            guard let dir else { continue }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory) {
                guard isDirectory.boolValue, access(dir, W_OK | X_OK) == 0 else {
                    throw ValidationError("\(flag): \(dir) is not a writable directory")
                }
            } else {
                // Created when training starts: its parent must be there and writable.
                do { try RecurFileIO.checkWritable(dir) } catch { throw ValidationError("\(flag): \(error)") }
            }
        }
        if let save {
            try checkOutput(save, flag: "--save", endings: [".keras", ".weights.h5", ".npz"], described: ".keras, .weights.h5 or .npz")
        }
        if let plot { try checkOutput(plot, flag: "--plot", endings: [".svg"], described: ".svg") }
        if let show { try checkOutput(show, flag: "--show", endings: [".png"], described: ".png") }
    }

    /// An output file's name ends as the option requires and its directory is writable.
    private func checkOutput(_ path: String, flag: String, endings: [String], described: String) throws {
        guard endings.contains(where: { path.hasSuffix($0) }) else { throw ValidationError("\(flag) must end in \(described), got \(path)") }
        do { try RecurFileIO.checkWritable(path) } catch { throw ValidationError("\(flag): \(error)") }
    }

    func run() throws {
        RecurFileIO.removeTemporaryFilesOnSignals()
        #if MPI
        let distribution: (any Collective)? = distributed ? try MPIDataParallel() : nil
        #else
        let distribution: (any Collective)? = nil
        #endif
        let chief = (distribution?.rank ?? 0) == 0
        let rowCell = GuideModels.RowCell(rawValue: cell)!
        let mode = FusedKernelMode(rawValue: fused)!
        setRandomSeed(seed)
        let data = try FashionMNIST.load(directory: dataDir)
        var xTrain = data.train.x.scaled(by: 1 / 255), yTrain = data.train.y
        if limit > 0 {
            xTrain = try xTrain.slice(alongAxis: 0, 0..<min(limit, xTrain.shape[0]))
            yTrain = try yTrain.slice(alongAxis: 0, 0..<min(limit, yTrain.shape[0]))
        }
        let xTest = data.test.x.scaled(by: 1 / 255), yTest = data.test.y

        // Building draws the weights (orthogonal: one large factorisation) with every core; training runs
        // one OpenBLAS thread per batch thread.
        setBLASThreads(usableCPUCount)
        let model = try GuideModels.mnistRows(cell: rowCell, units: units, fused: mode, cellLoop: mode == .never,
                                              compiled: CompiledLoopMode(rawValue: compiled)!, synchronizedBatchNorm: syncBatchNorm)
        setBLASThreads(1)
        try model.compile(optimizer: optimizerNamed(optimizer), loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
        // Data-parallel ranks reduce their gradients in host memory: they train on the CPU.
        try model.move(to: distributed ? .cpu : device.device)
        if chief { model.summary() }
        if chief && model.device != .cpu { print("Training on \(model.device) (\(CUDAStatus.current))") }
        if let distribution, chief { print("Data-parallel over \(distribution.size) MPI rank(s), global batch \(batchSize)") }
        let start = Date()
        var callbacks: [any Callback] = []
        if let resume { callbacks.append(BackupAndRestore(directory: resume, saveEverySteps: backupSteps > 0 ? backupSteps : nil)) }
        if let checkpoint {
            try FileManager.default.createDirectory(atPath: checkpoint, withIntermediateDirectories: true)
            callbacks.append(ModelCheckpoint(URL(fileURLWithPath: checkpoint).appendingPathComponent("epoch-{epoch:02d}.keras").path))
        }
        if let tensorboard { callbacks.append(TensorBoard(logDir: tensorboard, histogramFrequency: 1, updateFrequency: .everyBatches(10))) }
        let history = try model.fit(xTrain, yTrain, batchSize: batchSize, epochs: epochs, validationData: (xTest, yTest), callbacks: callbacks,
                                    distribution: distribution)
        guard chief else { return }
        let seconds = Date().timeIntervalSince(start)
        let steps = epochs * ((xTrain.shape[0] + batchSize - 1) / batchSize)

        // The guide's CPU inference step: one test sample.
        let sample = try xTest.slice(alongAxis: 0, 0..<1)
        let predicted = try model.predictOnBatch(sample).argmax(alongAxis: 1)
        // The guide shows the sample with plt.imshow: here as a picture in the terminal (text in a log).
        print(try TerminalImage.render(sample[0], color: isatty(STDOUT_FILENO) != 0), terminator: "")
        print("Predicted result is: [\(Int(predicted.scalars[0]))], target result is: \(Int(yTest.scalars[0]))")
        if let show { try RecurFileIO.writeAtomically(PNGImage.grayscale(sample[0]), path: show) }
        if let plot { try history.plot(to: plot) }
        if let save {
            if save.hasSuffix(".keras") { try model.save(to: save) } else { try model.saveWeights(to: save) }
        }

        func last(_ key: String) -> Float { history.history[key]?.last ?? .nan }
        let result: [String: Double] = [
            "loss": Double(last("loss")), "accuracy": Double(last("accuracy")),
            "val_loss": Double(last("val_loss")), "val_accuracy": Double(last("val_accuracy")),
            "seconds": seconds, "ms_per_step": seconds * 1000 / Double(max(steps, 1)),
        ]
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}
