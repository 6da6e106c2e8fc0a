import ArgumentParser
import Foundation
import Recur
import RecurExamples

/// `recur bench ops|rnn`: speed measurements printed as one JSON object.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmarks (JSON): `ops` for engine kernels, `rnn` for recurrent models.")

    @Argument(help: "What to measure: ops, rnn or inference.") var suite = "ops"
    @Option(help: "Timed repetitions per measurement.") var repeats = 50
    @Option(help: "Threads for Recur's fused kernels (OpenBLAS stays single-threaded).") var threads = Parallelism.threads
    @Option(help: "Training steps timed per model (rnn), as the Python scripts' --steps.") var steps = 100
    @Option(help: "Timed single-sample predictOnBatch calls (inference, rnn).") var inferenceRepeats = 300
    @Option(name: .customLong("compare"), help: "Python interpreter with keras, jax, tensorflow and torch: also run scripts/bench_keras.py (JAX and TensorFlow backends; rnn only) and scripts/bench_torch.py in this run and report Recur's ratio to each.")
    var python: String?
    @Option(help: DeviceChoice.help) var device = DeviceChoice.auto

    func validate() throws { try device.validate() }

    func run() throws {
        setBLASThreads(1)
        Parallelism.threads = threads
        setRandomSeed(7)
        let result: [String: Any]
        switch suite {
        case "ops": result = try opsBenchmark()
        case "inference":
            var inference = try inferenceBenchmark(GuideModels.mnistRows(cell: .lstm))
            if let python {
                inference["peers"] = try comparePeers(python: python, recur: inference, runs: [
                    ("torch", ["scripts/bench_torch.py", "--threads", String(threads), "--inference-only",
                               "--inference-repeats", String(inferenceRepeats)]),
                ])
            }
            result = inference
        case "rnn" where device.device != .cpu:
            var rnn = try GuideTiming(device: device.device, steps: steps).measure()
            if let python {
                rnn["peers"] = try comparePeers(python: python, recur: rnn, runs: [
                    ("torch_cuda", ["scripts/bench_torch.py", "--device", "cuda", "--steps", String(steps)]),
                ])
            }
            result = rnn
        case "rnn":
            var rnn = try rnnBenchmark()
            if let python {
                rnn["peers"] = try comparePeers(python: python, recur: rnn, runs: [
                    ("keras_jax", ["scripts/bench_keras.py", "--backend", "jax", "--steps", String(steps)]),
                    ("keras_tensorflow", ["scripts/bench_keras.py", "--backend", "tensorflow", "--steps", String(steps)]),
                    ("torch", ["scripts/bench_torch.py", "--threads", String(threads), "--steps", String(steps)]),
                ])
            }
            result = rnn
        default: throw ValidationError("unknown suite \(suite): use ops, rnn or inference")
        }
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .prettyPrinted])
        print(String(decoding: json, as: UTF8.self))
    }

    /// Median seconds of `repeats` runs of `body` after a few warm-up runs.
    func time(_ repeats: Int, warmup: Int = 3, _ body: () throws -> Void) rethrows -> Double {
        try samples(repeats, warmup: warmup, body).median
    }

    /// Median and fastest seconds of `repeats` runs of `body` after a few warm-up runs.
    func samples(_ repeats: Int, warmup: Int = 3, _ body: () throws -> Void) rethrows -> (median: Double, best: Double) {
        for _ in 0..<warmup { try body() }
        var samples: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        samples.sort()
        return (samples[samples.count / 2], samples[0])
    }

    func opsBenchmark() throws -> [String: Any] {
        var g = SeededGenerator(seed: 1)
        let (m, k, n) = (64, 256, 92)
        let a = Tensor.randomUniform([m, k], generator: &g), b = Tensor.randomUniform([k, n], generator: &g)
        let matmul = try samples(repeats * 20) { _ = try a.matmul(b) }
        let x = Tensor.randomUniform([1 << 20], low: -4, high: 4, generator: &g)
        let tanh = time(repeats) { _ = x.tanh() }
        let sigmoid = time(repeats) { _ = x.sigmoid() }
        let exp = time(repeats) { _ = x.exp() }
        let small = Tensor.randomUniform([64, 256], generator: &g)
        let eager = try time(repeats * 100) { _ = try small + small }
        let tiny = Tensor.randomUniform([64], generator: &g)
        let overhead = try time(repeats * 100) { _ = try tiny + tiny }
        return [
            "matmul_64x256x92_us": matmul.median * 1e6,
            "matmul_64x256x92_gflops": 2.0 * Double(m * k * n) / matmul.median / 1e9,
            "matmul_64x256x92_best_gflops": 2.0 * Double(m * k * n) / matmul.best / 1e9,
            "tanh_1M_gelements_per_s": Double(x.count) / tanh / 1e9,
            "sigmoid_1M_gelements_per_s": Double(x.count) / sigmoid / 1e9,
            "exp_1M_gelements_per_s": Double(x.count) / exp / 1e9,
            "add_64x256_us": eager * 1e6,
            "add_64_us": overhead * 1e6,
            "threads": threads, "blas_kernels": blasKernelName,
        ]
    }

    /// ms per training step as the Python scripts measure it: a warm-up `fit`, then a timed `fit` over
    /// `steps` full batches of random data (no shuffling, no logging), divided by `steps`.
    func trainStepMs(_ model: Model, x: Tensor, y: Tensor, batch: Int, loss: any Loss) throws -> Double {
        try model.compile(optimizer: SGD(), loss: loss)
        let warm = min(steps, 10) * batch
        try model.fit(x.slice(alongAxis: 0, 0..<warm), y.slice(alongAxis: 0, 0..<warm), batchSize: batch, shuffle: false, verbose: 0)
        let start = DispatchTime.now().uptimeNanoseconds
        try model.fit(x, y, batchSize: batch, shuffle: false, verbose: 0)
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(steps)
    }

    /// The guide's nested-input model (`NestedCell` in an `RNN`: inputs (64, 50, 32) and (64, 50, 64, 32),
    /// MSE on both outputs, SGD): ms per training step over up to 8 batches after one warm-up batch.
    func nestedCellTrainStepMs(generator g: inout SeededGenerator) throws -> Double {
        let input1 = Input(shape: [nil, 32]), input2 = Input(shape: [nil, 64, 32])
        let model = try Model([input1, input2], RNN(NestedCell(unit1: 10, unit2: 20, unit3: 30)).outputs([input1, input2]))
        try model.compile(optimizer: SGD(), loss: "mse")
        let batches = min(steps, 8), n = 64 * (batches + 1)
        let x = [Tensor.randomUniform([n, 50, 32], generator: &g), Tensor.randomUniform([n, 50, 64, 32], generator: &g)]
        let y = [Tensor.randomUniform([n, 10], generator: &g), Tensor.randomUniform([n, 20, 30], generator: &g)]
        let warm = try x.map { try $0.slice(alongAxis: 0, 0..<64) }, warmY = try y.map { try $0.slice(alongAxis: 0, 0..<64) }
        try model.fit(warm, warmY, batchSize: 64, shuffle: false, verbose: 0)
        let rest = try x.map { try $0.slice(alongAxis: 0, 64..<n) }, restY = try y.map { try $0.slice(alongAxis: 0, 64..<n) }
        let start = DispatchTime.now().uptimeNanoseconds
        try model.fit(rest, restY, batchSize: 64, shuffle: false, verbose: 0)
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(batches)
    }

    /// Runs the peers' scripts (`runs`: name and arguments; the Keras ones on JAX and TensorFlow, the
    /// PyTorch one) with the same settings and puts their numbers and Recur's ratio (Recur ms / peer ms;
    /// below 1 means Recur is faster) side by side.
    func comparePeers(python: String, recur: [String: Any], runs: [(String, [String])]) throws -> [String: Any] {
        var peers: [String: Any] = [:]
        for (name, arguments) in runs {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0,
                  let numbers = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                peers[name] = ["error": "\(python) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)"]
                continue
            }
            var ratios: [String: Double] = [:]
            for (key, value) in recur {
                if let mine = value as? Double, let theirs = numbers[key] as? Double, theirs > 0 { ratios[key] = mine / theirs }
            }
            peers[name] = ["measured": numbers, "recur_over_peer": ratios]
        }
        return peers
    }

    /// Single-sample latency (`predictOnBatch`) and `predict` over 10,000 samples of the guide's model,
    /// at Keras's default batch of 32 and at 1024.
    func inferenceBenchmark(_ model: Model) throws -> [String: Any] {
        var g = SeededGenerator(seed: 3)
        let sample = Tensor.randomUniform([1, 28, 28], generator: &g)
        let tenK = Tensor.randomUniform([10_000, 28, 28], generator: &g)
        return [
            "guide_single_sample_inference_ms": try time(inferenceRepeats, warmup: 10) { _ = try model.predictOnBatch(sample) } * 1e3,
            "guide_predict_10k_ms": try time(3, warmup: 1) { _ = try model.predict(tenK, batchSize: 32) } * 1e3,
            "guide_predict_10k_b1024_ms": try time(5, warmup: 1) { _ = try model.predict(tenK, batchSize: 1024) } * 1e3,
        ]
    }

    func rnnBenchmark() throws -> [String: Any] {
        var g = SeededGenerator(seed: 2)
        let logits = SparseCategoricalCrossentropy(fromLogits: true)
        func labels(_ n: Int) -> Tensor { Tensor((0..<n).map { Float($0 % 10) }) }
        let x = Tensor.randomUniform([steps * 64, 28, 28], generator: &g), y = labels(steps * 64)
        var result: [String: Any] = ["batch": 64, "threads": threads, "steps": steps, "blas_kernels": blasKernelName]

        let guideFused = try GuideModels.mnistRows(cell: .lstm)
        result["guide_lstm_fused_train_ms_per_step"] = try trainStepMs(guideFused, x: x, y: y, batch: 64, loss: logits)
        result["guide_lstm_cell_loop_train_ms_per_step"] = try trainStepMs(GuideModels.mnistRows(cell: .lstm, cellLoop: true), x: x, y: y, batch: 64, loss: logits)
        result["guide_gru_fused_train_ms_per_step"] = try trainStepMs(GuideModels.mnistRows(cell: .gru), x: x, y: y, batch: 64, loss: logits)
        result["guide_gru_cell_loop_train_ms_per_step"] = try trainStepMs(GuideModels.mnistRows(cell: .gru, cellLoop: true), x: x, y: y, batch: 64, loss: logits)
        // Cells users write from public ops (RecurExamples), and the guide's nested-input NestedCell model.
        result["guide_user_lstm_train_ms_per_step"] = try trainStepMs(GuideModels.mnistRows(cell: .userLSTM), x: x, y: y, batch: 64, loss: logits)
        result["guide_user_lstm_op_by_op_train_ms_per_step"] = try trainStepMs(GuideModels.mnistRows(cell: .userLSTM, compiled: .never),
                                                                               x: x, y: y, batch: 64, loss: logits)
        result["guide_mgu_train_ms_per_step"] = try trainStepMs(GuideModels.mnistRows(cell: .minimalGatedUnit), x: x, y: y, batch: 64, loss: logits)
        result["guide_nested_cell_train_ms_per_step"] = try nestedCellTrainStepMs(generator: &g)

        let long = Sequential([LSTM(256, inputShape: [100, 32]), Dense(10)])
        let xLong = Tensor.randomUniform([steps * 32, 100, 32], generator: &g)
        result["lstm256_t100_b32_train_ms_per_step"] = try trainStepMs(long, x: xLong, y: labels(steps * 32), batch: 32, loss: logits)

        result.merge(try inferenceBenchmark(guideFused)) { $1 }
        return result
    }
}
