import ArgumentParser
import Foundation
import Recur
import RecurExamples

/// `recur gpu-check`: the self-checking run of the CUDA backend on a GPU machine. Every op and recurrent
/// layer on the GPU against the CPU backend — forward values and gradients within 1e-4 + 1e-4·|cpu| —
/// and the guide's models trained on both, as one table. Exits non-zero when a check fails. Its speed is
/// `recur bench rnn --device cuda` (`GuideTiming`).
struct GPUCheck: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gpu-check",
                                                    abstract: "Check every CUDA op, recurrent layer and guide model against the CPU.")

    @Option(help: "Where to write the guide model's GPU-trained weights and check them on the CPU.") var weights = "/tmp/recur-gpu-check.weights.h5"

    func run() throws {
        print("CUDA: \(CUDAStatus.current)")
        if let reason = CUDAStatus.current.whyCUDACannotRun {
            FileHandle.standardError.write(Data("gpu-check: CUDA cannot run here: \(reason)\n".utf8))
            throw ExitCode(2)
        }
        var check = DeviceComparison(device: .cuda(0))
        try check.ops()
        try check.recurrences()
        try check.guideModelTraining(weightsPath: weights)
        try check.kerasGuideModels()
        print(check.table)
        if check.failures > 0 {
            print("gpu-check: \(check.failures) check(s) failed")
            throw ExitCode(1)
        }
        print("gpu-check: all \(check.rows.count) checks passed")
    }
}

/// Runs computations on the CPU and on a device and compares values and gradients.
struct DeviceComparison {
    let device: Device
    var rows: [(name: String, difference: Float, passed: Bool)] = []
    var generator = SeededGenerator(seed: 11)

    init(device: Device) { self.device = device }

    var failures: Int { rows.filter { !$0.passed }.count }

    var table: String {
        let width = max(rows.map(\.name.count).max() ?? 0, 10)
        var text = "check".padding(toLength: width, withPad: " ", startingAt: 0) + "  max |gpu − cpu| / (1 + |cpu|)  result\n"
        for row in rows {
            text += row.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + String(format: "%-28.3g", row.difference)
                + "  " + (row.passed ? "ok" : "FAILED") + "\n"
        }
        return text
    }

    /// The largest |a − b| / (1 + |b|) (b the CPU's), so that `≤ 1e-4` is 1e-4 + 1e-4·|cpu|.
    static func difference(_ device: Tensor, _ host: Tensor) throws -> Float {
        let a = try device.to(.cpu).hostScalars(), b = try host.hostScalars()
        guard a.count == b.count else { return .infinity }
        var worst: Float = 0
        for (x, y) in zip(a, b) {
            let d = abs(x - y) / (1 + abs(y))
            if !(d <= worst) { worst = d.isNaN ? .infinity : d }
        }
        return worst
    }

    mutating func record(_ name: String, _ difference: Float, tolerance: Float = 1e-4) {
        rows.append((name, difference, difference <= tolerance))
        if difference > tolerance { print("FAILED \(name): \(difference)") }
    }

    /// `f` of `inputs` on both devices: its outputs, and the gradients of Σ outputs ⊙ random seeds with
    /// respect to the inputs marked `differentiable`.
    mutating func compare(_ name: String, _ inputs: [Tensor], differentiable: [Bool]? = nil, tolerance: Float = 1e-4,
                          _ f: ([Tensor]) throws -> [Tensor]) throws {
        let wrt = differentiable ?? inputs.map { _ in true }
        func run(on target: Device, seeds: [Tensor]?) throws -> (outputs: [Tensor], grads: [Tensor], seeds: [Tensor]) {
            let moved = try inputs.enumerated().map { i, x in wrt[i] ? try x.to(target).requiringGradient() : try x.to(target) }
            let outputs = try f(moved)
            var g = generator
            let seedsHere = seeds ?? outputs.map { Tensor.randomUniform($0.shape, low: -1, high: 1, generator: &g) }
            let grads = try gradients(of: outputs, seeds: seedsHere.map { try $0.to(target) }, wrt: moved.enumerated().filter { wrt[$0.offset] }.map(\.element))
            return (outputs, grads, seedsHere)
        }
        do {
            let host = try run(on: .cpu, seeds: nil)
            let gpu = try run(on: device, seeds: host.seeds)
            var worst: Float = 0
            for (a, b) in zip(gpu.outputs, host.outputs) { worst = max(worst, try Self.difference(a, b)) }
            for (a, b) in zip(gpu.grads, host.grads) { worst = max(worst, try Self.difference(a, b)) }
            record(name, worst, tolerance: tolerance)
        } catch {
            print("FAILED \(name): \(error)")
            rows.append((name, .infinity, false))
        }
        _ = generator.next()
    }

    mutating func random(_ shape: [Int], low: Float = -1, high: Float = 1) -> Tensor {
        Tensor.randomUniform(shape, low: low, high: high, generator: &generator)
    }

    /// Every backend op, forward and backward.
    mutating func ops() throws {
        let x = random([4, 5, 6]), y = random([4, 5, 6]), row = random([6]), column = random([4, 1, 6])
        let positive = random([4, 5, 6], low: 0.1, high: 2)
        try compare("exp, tanh, sigmoid, relu", [x]) { [$0[0].exp(), $0[0].tanh(), $0[0].sigmoid(), $0[0].relu()] }
        try compare("log, sqrt, abs", [positive]) { [$0[0].log(), try $0[0].sqrt(), try $0[0].abs()] }
        try compare("add, subtract, multiply, divide (broadcast)", [x, row, column, positive]) {
            [try $0[0] + $0[1], try $0[0] - $0[2], try $0[0] * $0[1], try $0[0] / $0[3], try $0[2] / $0[3], $0[0].scaled(by: 0.5)]
        }
        try compare("maximum, minimum, comparisons", [x, y], differentiable: [false, false]) {
            [try $0[0].maximum($0[1]), try $0[0].minimum($0[1]), try $0[0].greater($0[1]), try $0[0].greaterEqual($0[1]), try $0[0].less($0[1]),
             try $0[0].equal($0[0]), try $0[0].notEqual($0[1])]
        }
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = ta ? random([7, 3]) : random([3, 7]), b = tb ? random([5, 7]) : random([7, 5])
            try compare("matmul transposing \(ta), \(tb)", [a, b]) { [try $0[0].matmul($0[1], transposingSelf: ta, transposingOther: tb)] }
        }
        try compare("batched matmul", [random([3, 4, 7]), random([3, 7, 2])]) { [try $0[0].matmul($0[1])] }
        try compare("matmul with a shared right side", [random([3, 4, 7]), random([7, 2])]) { [try $0[0].matmul($0[1])] }
        try compare("matmul 256×512·512×1024", [random([256, 512]), random([512, 1024])]) { [try $0[0].matmul($0[1])] }
        try compare("sum along axes, mean, max", [x]) {
            [try $0[0].sum(alongAxis: 1), try $0[0].sum(alongAxis: 0), try $0[0].sum(alongAxis: 2), $0[0].sum(), $0[0].mean(), try $0[0].max(alongAxis: 2)]
        }
        try compare("sum of 1M scalars", [random([1 << 20])]) { [$0[0].sum()] }
        try compare("argmax", [x], differentiable: [false]) { [try $0[0].argmax(alongAxis: 2), try $0[0].argmax(alongAxis: 0)] }
        let labels = Tensor((0..<20).map { Float($0 % 6) })
        try compare("picking, log-softmax, softmax", [random([20, 6]), labels], differentiable: [true, false]) {
            [try $0[0].picking(alongLastAxis: $0[1]), try $0[0].logSoftmax(), try $0[0].softmax()]
        }
        let ids = Tensor([3, 0, 3, 7, 1])
        try compare("gather (embedding rows)", [random([8, 4]), ids], differentiable: [true, false]) { [try $0[0].gather($0[1])] }
        try compare("transpose, slice, concatenate, reverse, stack", [x, y]) {
            [try $0[0].transposed([2, 0, 1]), try $0[0].transposed(), try $0[0].slice(alongAxis: 1, 1..<4),
             try Tensor.concatenate([$0[0], $0[1]], alongAxis: 2), try Tensor.concatenate([$0[0], $0[1]], alongAxis: 0),
             try $0[0].reversed(alongAxis: 1), try Tensor.stack([$0[0], $0[1]], alongAxis: 1)]
        }
        try compare("batch normalization (training)", [random([32, 64]), random([64]), random([64])]) {
            let (out, mean, variance) = try $0[0].batchNormalized(gamma: $0[1], beta: $0[2], epsilon: 1e-3)
            return [out, mean, variance]
        }
        try compare("batch normalization without γ, β", [random([6, 5, 3])]) {
            let (out, _, _) = try $0[0].batchNormalized(gamma: nil, beta: nil, epsilon: 1e-3)
            return [out]
        }
        try compare("LSTM gate step", [random([5, 4 * 7]), random([5, 7])]) {
            let (h, c) = try Tensor.lstmGateStep($0[0], cPrev: $0[1])
            return [h, c]
        }
        try compare("GRU gate step", [random([5, 21]), random([5, 21]), random([5, 7])]) {
            [try Tensor.gruGateStep(xproj: $0[0], hproj: $0[1], hPrev: $0[2])]
        }
        try updates()
    }

    /// The optimizers' update rules, three steps each.
    mutating func updates() throws {
        let rules: [(String, (Int) -> UpdateRule)] = [
            ("SGD", { _ in .sgd(learningRate: 0.1, momentum: 0, nesterov: false) }),
            ("SGD momentum", { _ in .sgd(learningRate: 0.1, momentum: 0.9, nesterov: false) }),
            ("SGD Nesterov", { _ in .sgd(learningRate: 0.1, momentum: 0.9, nesterov: true) }),
            ("Adam", { .adam(learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: $0) }),
            ("RMSprop", { _ in .rmsprop(learningRate: 0.01, rho: 0.9, momentum: 0, epsilon: 1e-7) }),
            ("RMSprop momentum", { _ in .rmsprop(learningRate: 0.01, rho: 0.9, momentum: 0.5, epsilon: 1e-7) }),
            ("weight decay", { _ in .weightDecay(0.01) }),
        ]
        let start = random([300]), grads = (0..<3).map { _ in random([300]) }
        for (name, rule) in rules {
            func run(on target: Device) throws -> [Tensor] {
                var value = try start.to(target)
                var slots = try (0..<rule(1).slotCount).map { _ in try Tensor.zeros([300], on: target) }
                for step in 1...3 { try value.update(by: rule(step), gradient: try grads[step - 1].to(target), slots: &slots) }
                return [value] + slots
            }
            do {
                let host = try run(on: .cpu), gpu = try run(on: device)
                var worst: Float = 0
                for (a, b) in zip(gpu, host) { worst = max(worst, try Self.difference(a, b)) }
                record("update: \(name)", worst)
            } catch {
                print("FAILED update \(name): \(error)")
                rows.append(("update: \(name)", .infinity, false))
            }
        }
    }

    /// cuDNN's LSTM, GRU and SimpleRNN against the CPU's fused kernels: every output and gradient, over
    /// shapes × direction × (no mask, right-padded mask).
    mutating func recurrences() throws {
        let shapes = [(3, 5, 4, 6), (64, 28, 28, 64), (32, 100, 32, 256), (1, 1, 3, 33)]
        for kind in [RecurrenceKind.lstm, .gru(resetAfter: true), .simpleRNN] {
            for (B, T, D, U) in shapes {
                for reverse in [false, true] {
                    for masked in [false, true] {
                        let G = (kind == .lstm ? 4 : kind == .simpleRNN ? 1 : 3) * U
                        let scale = 1 / Float(U).squareRoot()
                        let x = random([B, T, D]), kernel = random([D, G], low: -scale, high: scale)
                        let recurrent = random([U, G], low: -scale, high: scale)
                        let bias = random(kind == .gru(resetAfter: true) ? [2, G] : [G], low: -0.1, high: 0.1)
                        let states = (0..<(kind == .lstm ? 2 : 1)).map { _ in random([B, U], low: -0.5, high: 0.5) }
                        // Right-padded: row b keeps its first T − (b mod T) steps (at least one).
                        let mask = masked ? try Tensor(shape: [B, T], scalars: (0..<B).flatMap { b in (0..<T).map { t in Float(t < T - b % T ? 1 : 0) } }) : nil
                        for zeroed in masked ? [false, true] : [false] {
                            let name = "\(kind) B\(B) T\(T) D\(D) U\(U)\(reverse ? " reverse" : "")\(masked ? (zeroed ? " mask→0" : " mask") : "")"
                            try compare(name, [x, kernel, recurrent, bias] + states + (mask.map { [$0] } ?? []),
                                        differentiable: [true, true, true, true] + states.map { _ in true } + (masked ? [false] : [])) { t in
                                let out = try Tensor.recurrence(kind, t[0], kernel: t[1], recurrentKernel: t[2], bias: t[3],
                                                                initialStates: Array(t[4..<(4 + states.count)]), mask: masked ? t.last : nil,
                                                                reverse: reverse, returnSequence: true, zeroMaskedOutputs: zeroed)
                                return [out.sequence!, out.last] + out.finalStates
                            }
                        }
                    }
                }
            }
        }
    }

    /// The guide model trained three steps on each device from the same weights; then the GPU-trained
    /// weights saved, loaded into a CPU model and compared in prediction (the guide's last step).
    mutating func guideModelTraining(weightsPath: String) throws {
        var g = SeededGenerator(seed: 5)
        let x = Tensor.randomUniform([64, 28, 28], generator: &g), y = Tensor((0..<64).map { Float($0 % 10) })
        for cell in [GuideModels.RowCell.lstm, .gru, .simplernn] {
            for optimizer in ["sgd", "adam"] {
                func trained(on target: Device) throws -> Sequential {
                    try withRandomSeed(3) { try withFreshLayerNames {
                        let model = try GuideModels.mnistRows(cell: cell)
                        try model.compile(optimizer: optimizer == "sgd" ? SGD(learningRate: 0.05, momentum: 0.9) as Optimizer : Adam(learningRate: 0.01),
                                          loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
                        try model.move(to: target)
                        for _ in 0..<3 { try model.trainOnBatch([x], [y]) }
                        return model
                    } }
                }
                do {
                    let host = try trained(on: .cpu), gpu = try trained(on: device)
                    var worst: Float = 0
                    for (a, b) in zip(gpu.getWeights(), host.getWeights()) { worst = max(worst, try Self.difference(a, b)) }
                    let predicted = try gpu.predictOnBatch(x)
                    worst = max(worst, try Self.difference(predicted, try host.predictOnBatch(x)))
                    record("guide \(cell.rawValue) + \(optimizer): 3 steps, weights and predictions", worst, tolerance: 1e-3)
                    if cell == .lstm && optimizer == "sgd" {
                        try gpu.saveWeights(to: weightsPath)
                        let reloaded = try withFreshLayerNames { try GuideModels.mnistRows(cell: cell) }
                        try reloaded.loadWeights(from: weightsPath)
                        record("guide weights trained on the GPU, predicted on the CPU", try Self.difference(predicted, try reloaded.predictOnBatch(x)))
                    }
                } catch {
                    print("FAILED guide \(cell.rawValue) + \(optimizer): \(error)")
                    rows.append(("guide \(cell.rawValue) + \(optimizer)", .infinity, false))
                }
            }
        }
    }
}

extension DeviceComparison {
    /// The Keras guide's other models — Embedding, stacked GRU → SimpleRNN, encoder–decoder with initial
    /// states, Bidirectional, masks (right-padded: cuDNN with lengths; left-padded: declined, the cell
    /// loop), a user cell — trained two steps on each device from the same weights.
    mutating func kerasGuideModels() throws {
        var g = SeededGenerator(seed: 9)
        func ids(_ shape: [Int], padding: String? = nil) -> Tensor {
            let (n, t) = (shape[0], shape[1])
            let values = (0..<n).flatMap { b in
                (0..<t).map { s -> Float in
                    let kept = t - b % t
                    if padding == "right" && s >= kept { return 0 }
                    if padding == "left" && s < t - kept { return 0 }
                    return Float(1 + Int(g.nextUnitFloat() * 998))
                }
            }
            return try! Tensor(shape: shape, scalars: values)
        }
        let labels = Tensor((0..<16).map { Float($0 % 10) })
        let cases: [(String, () throws -> Model, [Tensor])] = [
            ("Embedding → LSTM(128) → Dense", { try KerasGuide.builtInLayers(log: { _ in }) }, [ids([16, 12])]),
            ("Embedding → GRU(256, sequences) → SimpleRNN(128)", { try KerasGuide.sequencesIntoAnotherLayer(log: { _ in }) }, [ids([16, 12])]),
            ("encoder–decoder LSTMs with initial states", { try KerasGuide.encoderDecoder(log: { _ in }) }, [ids([16, 9]), ids([16, 7])]),
            ("Bidirectional(LSTM) stacked", { try KerasGuide.bidirectional(log: { _ in }) }, [Tensor.randomUniform([16, 5, 10], generator: &g)]),
            ("Embedding(maskZero) → LSTM, right-padded", { Sequential { Embedding(inputDim: 1000, outputDim: 16, maskZero: true); LSTM(32); Dense(10) } },
             [ids([16, 10], padding: "right")]),
            ("Embedding(maskZero) → Bidirectional(GRU), right-padded", {
                Sequential { Embedding(inputDim: 1000, outputDim: 16, maskZero: true); Bidirectional(GRU(24)); Dense(10) }
            }, [ids([16, 10], padding: "right")]),
            ("Embedding(maskZero) → LSTM, left-padded (cell loop)", { Sequential { Embedding(inputDim: 1000, outputDim: 16, maskZero: true); LSTM(32); Dense(10) } },
             [ids([16, 10], padding: "left")]),
            ("RNN(MinimalRNNCell) user cell", { Sequential { RNN(MinimalRNNCell(units: 32), inputShape: [nil, 5]); Dense(10) } },
             [Tensor.randomUniform([16, 10, 5], generator: &g)]),
        ]
        for (name, make, x) in cases {
            func trained(on target: Device) throws -> (weights: [Tensor], predictions: [Tensor]) {
                try withRandomSeed(8) { try withFreshLayerNames {
                    let model = try make()
                    _ = try model.predictOnBatch(x) // builds it, on the host, before its weights move
                    try model.compile(optimizer: Adam(learningRate: 0.01), loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
                    try model.move(to: target)
                    for _ in 0..<2 { try model.trainOnBatch(x, [labels]) }
                    return (try model.getWeights().map { try $0.to(.cpu) }, try model.predictOnBatch(x))
                } }
            }
            do {
                let host = try trained(on: .cpu), gpu = try trained(on: device)
                var worst: Float = host.weights.count == gpu.weights.count ? 0 : .infinity
                for (a, b) in zip(gpu.weights + gpu.predictions, host.weights + host.predictions) { worst = max(worst, try Self.difference(a, b)) }
                record("guide: \(name), 2 Adam steps", worst, tolerance: 1e-3)
            } catch {
                print("FAILED guide \(name): \(error)")
                rows.append(("guide: \(name)", .infinity, false))
            }
        }
    }
}

/// Training and inference speed on a device (`recur bench rnn --device cuda`), as `scripts/bench_torch.py
/// --device cuda` measures PyTorch, with the same keys: the guide's models on random batches of 64 with
/// SGD, ms per step over timed steps after ten warm-up steps, the loss read back every step; one sample's
/// `predictOnBatch`; `predict` over 10,000 samples at batch 1024; LSTM(512) over 100 steps at batch 256;
/// and Recur's own kernel launches and waits for the device per training step.
struct GuideTiming {
    let device: Device
    let steps: Int

    func measure() throws -> [String: Any] {
        let backend = try CUDABackend.shared()
        var result: [String: Any] = ["device": "\(device)", "steps": steps]
        var g = SeededGenerator(seed: 2)
        let x = try Tensor.randomUniform([64, 28, 28], generator: &g).to(device)
        let y = try Tensor((0..<64).map { Float($0 % 10) }).to(device)
        for cell in [GuideModels.RowCell.lstm, .gru] {
            let model = try GuideModels.mnistRows(cell: cell)
            try model.compile(optimizer: SGD(learningRate: 0.01), loss: SparseCategoricalCrossentropy(fromLogits: true))
            try model.move(to: device)
            let before = backend.counts
            result["guide_\(cell.rawValue)_fused_train_ms_per_step"] = try msPerCall(steps) { _ = try model.trainOnBatch([x], [y]) }
            let after = backend.counts, calls = Double(steps + 10)
            result["guide_\(cell.rawValue)_kernel_launches_per_step"] = Double(after.launches - before.launches) / calls
            result["guide_\(cell.rawValue)_synchronizations_per_step"] = Double(after.synchronizations - before.synchronizations) / calls
            if cell == .lstm {
                let sample = try x.slice(alongAxis: 0, 0..<1)
                result["guide_single_sample_inference_ms"] = try msPerCall(300) { _ = try model.predictOnBatch(sample).to(.cpu) }
                let x10k = Tensor.randomUniform([10_000, 28, 28], generator: &g)
                result["guide_predict_10k_b1024_ms"] = try msPerCall(5) { _ = try model.predict(x10k, batchSize: 1024) }
            }
        }
        let wide = Sequential([LSTM(512), Dense(10)])
        try wide.build(inputShape: [nil, 100, 32])
        try wide.compile(optimizer: SGD(learningRate: 0.01), loss: SparseCategoricalCrossentropy(fromLogits: true))
        try wide.move(to: device)
        let xWide = try Tensor.randomUniform([256, 100, 32], generator: &g).to(device)
        let yWide = try Tensor((0..<256).map { Float($0 % 10) }).to(device)
        result["lstm512_t100_b256_train_ms_per_step"] = try msPerCall(50) { _ = try wide.trainOnBatch([xWide], [yWide]) }
        return result
    }

    /// Mean milliseconds per call of `body` over `count` calls after ten warm-up calls.
    func msPerCall(_ count: Int, _ body: () throws -> Void) throws -> Double {
        for _ in 0..<10 { try body() }
        try CUDABackend.shared().synchronize()
        let start = Date()
        for _ in 0..<count { try body() }
        try CUDABackend.shared().synchronize()
        return Date().timeIntervalSince(start) * 1000 / Double(count)
    }
}
