import ArgumentParser
import Foundation
import Recur

/// `recur bench ops|rnn`: speed measurements printed as one JSON object.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmarks (JSON): `ops` for engine kernels, `rnn` for recurrent models.")

    @Argument(help: "What to measure: ops or rnn.") var suite = "ops"
    @Option(help: "Timed repetitions per measurement.") var repeats = 50
    @Option(help: "Threads for Recur's fused kernels (OpenBLAS stays single-threaded).") var threads = Parallelism.threads

    func run() throws {
        setBLASThreads(1)
        Parallelism.threads = threads
        setRandomSeed(7)
        let result: [String: Any]
        switch suite {
        case "ops": result = try opsBenchmark()
        case "rnn": result = try rnnBenchmark()
        default: throw ValidationError("unknown suite \(suite): use ops or rnn")
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
        return [
            "matmul_64x256x92_us": matmul.median * 1e6,
            "matmul_64x256x92_gflops": 2.0 * Double(m * k * n) / matmul.median / 1e9,
            "matmul_64x256x92_best_gflops": 2.0 * Double(m * k * n) / matmul.best / 1e9,
            "tanh_1M_gelements_per_s": Double(x.count) / tanh / 1e9,
            "sigmoid_1M_gelements_per_s": Double(x.count) / sigmoid / 1e9,
            "exp_1M_gelements_per_s": Double(x.count) / exp / 1e9,
            "add_64x256_us": eager * 1e6,
            "threads": threads,
        ]
    }

    /// ms per training step (trainOnBatch) of a model on random data.
    func trainStepMs(_ model: Model, x: Tensor, y: Tensor, loss: any Loss) throws -> Double {
        try model.compile(optimizer: SGD(), loss: loss)
        return try time(repeats) { try model.trainOnBatch([x], [y]) } * 1e3
    }

    func rnnBenchmark() throws -> [String: Any] {
        var g = SeededGenerator(seed: 2)
        let logits = SparseCategoricalCrossentropy(fromLogits: true)
        let x = Tensor.randomUniform([64, 28, 28], generator: &g)
        let y = Tensor((0..<64).map { Float($0 % 10) })
        var result: [String: Any] = ["batch": 64, "threads": threads, "repeats": repeats]

        let guideFused = try GuideModels.mnistRows(cell: .lstm)
        result["guide_lstm_fused_train_ms_per_step"] = try trainStepMs(guideFused, x: x, y: y, loss: logits)
        result["guide_lstm_cell_loop_train_ms_per_step"] = try trainStepMs(GuideModels.mnistRows(cell: .lstm, cellLoop: true), x: x, y: y, loss: logits)
        result["guide_gru_fused_train_ms_per_step"] = try trainStepMs(GuideModels.mnistRows(cell: .gru), x: x, y: y, loss: logits)
        result["guide_gru_cell_loop_train_ms_per_step"] = try trainStepMs(GuideModels.mnistRows(cell: .gru, cellLoop: true), x: x, y: y, loss: logits)

        let long = try Sequential([LSTM(256, inputShape: [100, 32]), Dense(10)])
        let xLong = Tensor.randomUniform([32, 100, 32], generator: &g)
        result["lstm256_t100_b32_train_ms_per_step"] = try trainStepMs(long, x: xLong, y: Tensor((0..<32).map { Float($0 % 10) }), loss: logits)

        let sample = try x.slice(alongAxis: 0, 0..<1)
        result["guide_single_sample_inference_ms"] = try time(repeats * 20) { _ = try guideFused.predictOnBatch(sample) } * 1e3
        let tenK = Tensor.randomUniform([10_000, 28, 28], generator: &g)
        result["guide_predict_10k_ms"] = try time(max(3, repeats / 10), warmup: 1) { _ = try guideFused.predict(tenK, batchSize: 32) } * 1e3
        return result
    }
}
