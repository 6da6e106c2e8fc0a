import Foundation
import Testing
@testable import Recur
import RecurExamples

@Suite("Backends and devices")
struct BackendTests {
    static let counting: CountingBackend = {
        let backend = CountingBackend(name: "counting")
        Backends.register(backend)
        return backend
    }()

    @Test func theGuideModelTrainsAStepOnASecondBackendWithIdenticalNumbers() throws {
        let device = Self.counting.device
        var g = SeededGenerator(seed: 21)
        let x = Tensor.randomUniform([16, 28, 28], generator: &g)
        let y = Tensor((0..<16).map { Float($0 % 10) })
        func trained(on device: Device) throws -> (weights: [Tensor], logs: Logs) {
            try withRandomSeed(4) { try withFreshLayerNames {
                let model = try GuideModels.mnistRows()
                try model.compile(optimizer: SGD(learningRate: 0.05, momentum: 0.9), loss: SparseCategoricalCrossentropy(fromLogits: true),
                                  metrics: ["accuracy"])
                try model.move(to: device)
                var logs = Logs()
                for _ in 0..<2 { logs = try model.trainOnBatch([x.to(device)], [y.to(device)]) }
                #expect(model.variables.allSatisfy { $0.value.device == device })
                return (try model.getWeights().map { try $0.to(.cpu) }, logs)
            } }
        }
        let before = Self.counting.calls
        let host = try trained(on: .cpu)
        let device0 = try trained(on: device)
        let calls = Self.counting.calls.merging(before) { $0 - $1 }
        #expect(host.weights.count == device0.weights.count)
        for (a, b) in zip(host.weights, device0.weights) { #expect(a.maxAbsDifference(b) == 0, "weights differ") }
        #expect(host.logs.values == device0.logs.values)
        // The step ran on the device's backend: the fused LSTM forward and backward, the optimizer's
        // update of every weight, GEMMs and elementwise ops.
        for op in ["recurrence", "recurrenceBackward", "update", "matmul", "binary", "logSoftmax"] {
            #expect(calls[op, default: 0] > 0, "no \(op) on the device")
        }
    }

    /// `fit`, `evaluate` and `predict` take host arrays for a model whose weights are on a device: each
    /// batch moves there and the outputs come back, with the same numbers as on the host.
    @Test func hostDataTrainsAModelOnADevice() throws {
        let device = Self.counting.device
        var g = SeededGenerator(seed: 23)
        let x = Tensor.randomUniform([24, 28, 28], generator: &g)
        let y = Tensor((0..<24).map { Float($0 % 10) })
        func run(on device: Device) throws -> (history: [String: [Float]], evaluation: Logs, predictions: Tensor, weights: [Tensor]) {
            try withRandomSeed(5) { try withFreshLayerNames {
                let model = try GuideModels.mnistRows(cell: .gru)
                try model.compile(optimizer: Adam(learningRate: 0.01), loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
                try model.move(to: device)
                #expect(model.device == device)
                let history = try model.fit(x, y, batchSize: 8, epochs: 2, verbose: 0)
                let evaluation = try model.evaluate(x, y, batchSize: 10, verbose: 0)
                let predictions = try model.predict(x, batchSize: 16)
                #expect(predictions.device == .cpu, "host inputs give host outputs")
                return (history.history, evaluation, predictions, try model.getWeights().map { try $0.to(.cpu) })
            } }
        }
        let host = try run(on: .cpu)
        let uploadsBefore = Self.counting.calls["upload", default: 0]
        let onDevice = try run(on: device)
        #expect(Self.counting.calls["upload", default: 0] - uploadsBefore >= 6 + 2 + 2, "every batch was uploaded")
        #expect(host.history == onDevice.history)
        #expect(host.evaluation.values == onDevice.evaluation.values)
        #expect(host.predictions.maxAbsDifference(onDevice.predictions) == 0)
        for (a, b) in zip(host.weights, onDevice.weights) { #expect(a.maxAbsDifference(b) == 0) }
    }

    /// A model moved before it is built (no input shape: it builds on its first call) makes its weights
    /// on the device, and trains there with the host's numbers.
    @Test func aModelBuiltAfterMovingMakesItsWeightsOnTheDevice() throws {
        let device = Self.counting.device
        var g = SeededGenerator(seed: 24)
        let x = Tensor.randomUniform([12, 6, 4], generator: &g), y = Tensor.randomUniform([12, 3], generator: &g)
        func run(on device: Device) throws -> (weights: [Tensor], loss: [Float]) {
            try withRandomSeed(6) { try withFreshLayerNames {
                let model = Sequential { Bidirectional(GRU(5, returnSequences: true)); LSTM(7); Dense(3) }
                try model.compile(optimizer: "adam", loss: "mse")
                try model.move(to: device)
                #expect(model.variables.isEmpty && model.device == device)
                let history = try model.fit(x, y, batchSize: 4, epochs: 2, verbose: 0)
                #expect(!model.variables.isEmpty && model.variables.allSatisfy { $0.value.device == device })
                return (try model.getWeights().map { try $0.to(.cpu) }, history.history["loss"] ?? [])
            } }
        }
        let host = try run(on: .cpu), onDevice = try run(on: device)
        #expect(host.loss == onDevice.loss && host.loss.count == 2)
        for (a, b) in zip(host.weights, onDevice.weights) { #expect(a.maxAbsDifference(b) == 0) }
    }

    /// Without a usable NVIDIA GPU (CI), a CUDA device cannot be used, and says why in one line.
    @Test func aCUDADeviceWithoutAGPUThrowsTheReason() throws {
        guard case .unavailable(let reason) = CUDAStatus.current else { return }
        #expect { try Tensor([1, 2]).to(.cuda(0)) } throws: { "\($0)".contains(reason) && !"\($0)".contains("\n") }
        #expect(throws: RecurError.self) { try Tensor.zeros([2], on: .cuda(1)) }
        #expect(CUDAStatus.current.whyCUDACannotRun == reason)
    }

    /// A user cell on a device whose backend runs no step programs: the layer runs it op by op (the
    /// same numbers as on the host), and `compiled: .always` says why it cannot compile.
    @Test func aBackendWithoutStepProgramsRunsTheCellOpByOp() throws {
        let device = Self.counting.device
        var g = SeededGenerator(seed: 22)
        let x = Tensor.randomUniform([4, 5, 3], generator: &g)
        try withFreshLayerNames {
            let layer = RNN(UserLSTMCell(units: 4), returnSequences: true)
            let host = try layer.outputs(x)[0]
            #expect(layer.lastRunWasCompiled)
            try layer.move(to: device)
            let onDevice = try layer.outputs(x.to(device))[0]
            #expect(!layer.lastRunWasCompiled)
            #expect(host.maxAbsDifference(try onDevice.to(.cpu)) < 1e-6)
            layer.compiled = .always
            #expect { try layer.outputs(x.to(device)) } throws: { "\($0)".contains("does not run step programs") }
        }
    }

    @Test func hostAccessAndMixedDevicesThrow() throws {
        let device = Self.counting.device
        let onDevice = try Tensor([[1, 2], [3, 4]]).to(device)
        #expect(onDevice.device == device)
        #expect(throws: RecurError.self) { try onDevice.withUnsafeBufferPointer { $0.count } }
        #expect { try onDevice + Tensor([[1, 1], [1, 1]]) } throws: { error in
            "\(error)".contains("counting") && "\(error)".contains("cpu")
        }
        // A one-scalar host constant joins the device, as PyTorch's 0-dimensional CPU tensors do.
        let shifted = try (onDevice + Tensor(1)).to(.cpu)
        #expect(shifted.scalars == [2, 3, 4, 5])
        // Moving is differentiable.
        let leaf = Tensor([1, 2, 3]).requiringGradient()
        let grads = try gradients(of: try leaf.to(device).squared().sum().to(.cpu), wrt: [leaf])
        #expect(try grads[0].to(.cpu).scalars == [2, 4, 6])
        #expect(throws: RecurError.self) { try Tensor([1]).to(.accelerator("nowhere")) }
    }
}

/// Without a usable NVIDIA GPU (CI), the GPU commands exit non-zero with the reason in one line.
@Suite("GPU commands without a GPU")
struct GPUCommandTests {
    @Test(arguments: [(["gpu-check"], "gpu-check: CUDA cannot run here: "), (["bench", "rnn", "--device", "cuda"], "--device cuda: "),
                      (["predict", "m.keras", "--input", "x.npy", "--output", "o.npz", "--device", "cuda"], "--device cuda: ")])
    func refuseWithTheReason(_ arguments: [String], _ message: String) throws {
        guard case .unavailable(let reason) = CUDAStatus.current else { return }
        let (failed, text) = try BackupAndRestoreTests.refusal(arguments)
        #expect(failed)
        #expect(text.contains(message + reason), "\(arguments): \(text)")
    }
}

@Suite("Masks for backends")
struct MaskShapeTests {
    @Test func rightPaddingIsRecognised() throws {
        #expect(try Tensor([[1, 1, 0], [1, 0, 0], [1, 1, 1]]).isRightPadded())
        #expect(try !Tensor([[1, 0, 1]]).isRightPadded(), "a gap")
        #expect(try !Tensor([[0, 1, 1]]).isRightPadded(), "left padding")
        #expect(throws: RecurError.self) { try Tensor([1, 0]).isRightPadded() }
    }
}

@Suite("Recurrence driver edges")
struct RecurrenceDriverEdgeTests {
    @Test func emptyBatchesAndBadShapesAreHandled() throws {
        for kind in [RecurrenceKind.simpleRNN, .lstm, .gru(resetAfter: true), .gru(resetAfter: false)] {
            let units = 3, gates = kind == .lstm ? 4 : (kind == .simpleRNN ? 1 : 3)
            let kernel = Tensor.zeros([2, gates * units]), recurrent = Tensor.zeros([units, gates * units])
            let bias = Tensor.zeros(kind == .gru(resetAfter: true) ? [2, gates * units] : [gates * units])
            let states = (0..<(kind == .lstm ? 2 : 1)).map { _ in Tensor.zeros([0, units]) }
            let out = try Tensor.recurrence(kind, Tensor.zeros([0, 4, 2]), kernel: kernel, recurrentKernel: recurrent, bias: bias, initialStates: states)
            #expect(out.sequence?.shape == [0, 4, units] && out.last.shape == [0, units])
            #expect(throws: RecurError.self) {
                try Tensor.recurrence(kind, Tensor.zeros([1, 4, 5]), kernel: kernel, recurrentKernel: recurrent, bias: bias,
                                      initialStates: states.map { _ in Tensor.zeros([1, units]) })
            }
            #expect(throws: RecurError.self) {
                try Tensor.recurrence(kind, Tensor.zeros([1, 4, 2]), kernel: kernel, recurrentKernel: recurrent, bias: bias,
                                      initialStates: states.map { _ in Tensor.zeros([1, units]) }, mask: Tensor.ones([1, 3]))
            }
        }
    }
}
