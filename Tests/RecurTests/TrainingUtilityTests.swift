import Foundation
import Testing
@testable import Recur

/// Schedules, AdamW, ReduceLROnPlateau, ModelCheckpoint names and padSequences against real Keras
/// (Fixtures/parity/training.json, from scripts/make_keras_training_fixtures.py).
@Suite("Training utilities match Keras")
struct TrainingUtilityTests {
    static let fixture: JSONValue = try! ParityFixtures.json("training.json")

    func schedule(_ c: JSONValue) -> any LearningRateSchedule {
        let a = c["args"]!
        func f(_ k: String) -> Float { Float(a[k]!.double!) }
        switch c["class"]!.string! {
        case "ExponentialDecay":
            return ExponentialDecay(initialLearningRate: f("initial_learning_rate"), decaySteps: a["decay_steps"]!.int!,
                                    decayRate: f("decay_rate"), staircase: a["staircase"]?.bool ?? false)
        case "CosineDecay":
            return CosineDecay(initialLearningRate: f("initial_learning_rate"), decaySteps: a["decay_steps"]!.int!, alpha: f("alpha"),
                               warmupTarget: a["warmup_target"]?.double.map(Float.init), warmupSteps: a["warmup_steps"]?.int ?? 0)
        default:
            return PiecewiseConstantDecay(boundaries: a["boundaries"]!.array!.map { $0.int! }, values: a["values"]!.array!.map { Float($0.double!) })
        }
    }

    @Test func schedulesMatchKerasAtEveryStep() {
        for c in Self.fixture["schedules"]!.array! {
            let s = schedule(c)
            for (step, lr) in zip(c["steps"]!.array!, c["lr"]!.array!) {
                let got = s.learningRate(atStep: step.int!), want = Float(lr.double!)
                #expect(abs(got - want) <= 1e-7 + 1e-6 * abs(want), "\(c["case"]!.string!) step \(step.int!): \(got) vs Keras \(want)")
            }
        }
    }

    @Test(arguments: [0, 1])
    func adamWAndScheduledAdamStepsMatchKeras(_ index: Int) throws {
        let c = Self.fixture["adamw"]!.array![index]
        let model = withFreshLayerNames { Sequential([Dense(3)], inputShape: [4]) }
        try model.setWeights(c["initial_weights"]!.array!.map { try $0.fixtureTensor })
        let optimizer: Optimizer = index == 0
            ? AdamW(learningRate: 0.01, weightDecay: 0.1)
            : Adam().scheduled(by: ExponentialDecay(initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5))
        try model.compile(optimizer: optimizer, loss: "mse")
        let x = try c["x"]!.fixtureTensor, y = try c["y"]!.fixtureTensor
        for step in c["steps"]!.array! {
            let logs = try model.trainOnBatch([x], [y])
            #expect(abs(optimizer.learningRate - Float(step["lr_used"]!.double!)) < 1e-8)
            #expect(abs(logs["loss"]! - Float(step["loss"]!.double!)) < 1e-5)
            for (w, k) in zip(model.getWeights(), try step["weights"]!.array!.map { try $0.fixtureTensor }) {
                let worst = zip(w.scalars, k.scalars).map { abs($0 - $1) }.max() ?? 1
                #expect(worst < 1e-5, "\(c["case"]!.string!): weights differ from Keras by \(worst)")
            }
        }
    }

    @Test func reduceLROnPlateauFollowsKeras() throws {
        for c in Self.fixture["reduce_lr_on_plateau"]!.array! {
            let a = c["args"]!
            let callback = ReduceLROnPlateau(monitor: a["monitor"]!.string!, factor: Float(a["factor"]!.double!), patience: a["patience"]!.int!,
                                             mode: a["mode"]?.string ?? "auto", minDelta: Float(a["min_delta"]?.double ?? 1e-4),
                                             cooldown: a["cooldown"]?.int ?? 0, minLR: Float(a["min_lr"]?.double ?? 0))
            let model = withFreshLayerNames { Sequential([Dense(1)], inputShape: [1]) }
            try model.compile(optimizer: SGD(learningRate: Float(c["initial_lr"]!.double!)), loss: "mse")
            try callback.onTrainBegin(model: model)
            for e in c["epochs"]!.array! {
                var logs = Logs()
                logs[c["monitor"]!.string!] = Float(e["value"]!.double!)
                try callback.onEpochEnd(model: model, epoch: e["epoch"]!.int!, logs: logs)
                let want = Float(e["lr"]!.double!)
                #expect(abs(model.compiled!.optimizer.learningRate - want) <= 1e-6 * want, "\(c["case"]!.string!) epoch \(e["epoch"]!.int!)")
                #expect(callback.wait == e["wait"]!.int! && callback.cooldownCounter == e["cooldown_counter"]!.int!)
            }
        }
    }

    @Test func checkpointFileNamesFollowKerasTemplates() throws {
        for c in Self.fixture["model_checkpoint_names"]!["names"]!.array! {
            var logs = Logs()
            for (k, v) in c["logs"]!.object! { logs[k] = Float(v.double!) }
            let checkpoint = ModelCheckpoint(c["filepath"]!.string!)
            if let expected = c["result"]?.string {
                #expect(try checkpoint.fileName(epoch: c["epoch"]!.int!, logs: logs) == expected)
            } else {
                #expect(throws: RecurError.self) { _ = try checkpoint.fileName(epoch: c["epoch"]!.int!, logs: logs) }
            }
        }
    }

    @Test func checkpointSavesTheEpochsKerasSaves() throws {
        for c in Self.fixture["model_checkpoint_names"]!["save_best_only"]!.array! {
            let dir = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let model = withFreshLayerNames { Sequential([Dense(1)], inputShape: [1]) }
            let threshold = c["args"]!["initial_value_threshold"]?.double.map(Float.init)
            let callback = ModelCheckpoint(dir.appendingPathComponent("e{epoch:02d}.weights.h5").path, saveBestOnly: true,
                                           initialValueThreshold: threshold)
            try callback.onTrainBegin(model: model)
            for (epoch, v) in c["val_loss"]!.array!.enumerated() {
                var logs = Logs()
                logs["val_loss"] = Float(v.double!)
                try callback.onEpochEnd(model: model, epoch: epoch, logs: logs)
            }
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
            #expect(files == c["files"]!.array!.map { $0.string! }, "\(c["case"]!.string!)")
        }
    }

    @Test func padSequencesMatchesKeras() throws {
        for c in Self.fixture["pad_sequences"]!.array! {
            guard let output = c["output"]?.array else { continue }  // Keras's maxlen=0 quirk (an error from s[-0:])
            let sequences = c["sequences"]!.array!.map { $0.array!.map { $0.int! } }
            let k = c["kwargs"]!
            let t = try padSequences(sequences, maxLength: k["maxlen"]?.int,
                                     padding: SequenceEnd(rawValue: k["padding"]?.string ?? "pre")!,
                                     truncating: SequenceEnd(rawValue: k["truncating"]?.string ?? "pre")!,
                                     value: Float(k["value"]?.double ?? 0))
            #expect(t.shape == c["shape"]!.array!.map { $0.int! }, "\(c["case"]!.string!)")
            #expect(t.scalars == output.flatMap { $0.array!.map { Float($0.double!) } }, "\(c["case"]!.string!)")
        }
    }
}

/// A user's optimizer written with tensor ops only: w ← w − η·sign(g) (signSGD).
final class SignSGD: Optimizer {
    override func update(_ value: inout Tensor, gradient: Tensor, slots: inout [Tensor], step: Int) throws {
        let zero = Tensor(0)
        let sign = try gradient.greater(zero) - gradient.less(zero)
        value = try value - sign.scaled(by: learningRate)
    }
}

@Suite("Optimizer extension point")
struct OptimizerExtensionTests {
    @Test func aUserOptimizerOfTensorOpsTrains() throws {
        let v = Variable(name: "w", value: try Tensor([[1, -2], [0.5, 3]]))
        let optimizer = SignSGD(learningRate: 0.25)
        try optimizer.apply([try Tensor([[0.1, -0.3], [0, 2]])], to: [v])
        #expect(v.value.scalars == [0.75, -1.75, 0.5, 2.75])
        #expect(optimizer.iterations == 1)
    }

    /// A variable's value and its optimizer slots are updated where they are kept: an update made a local
    /// copy of the value first, which shared its storage and so copied every weight at every step.
    @Test func updatesWriteTheVariablesStorageInPlace() throws {
        let v = Variable(name: "w", value: Tensor([1, 2, 3]))
        let optimizer = SGD(learningRate: 0.5, momentum: 0.9)
        try optimizer.apply([Tensor.ones([3])], to: [v])
        func address(_ t: Tensor) throws -> UnsafePointer<Float>? { try t.withUnsafeBufferPointer { $0.baseAddress } }
        let (value, slot) = (try address(v.value), try address(optimizer.slotState(for: [v])[0][0]))
        try optimizer.apply([Tensor.ones([3])], to: [v])
        #expect(try address(v.value) == value, "the value's storage was replaced by a copy")
        #expect(try address(optimizer.slotState(for: [v])[0][0]) == slot, "the momentum slot's storage was replaced by a copy")
        // v = 0.9·(−0.5) − 0.5 = −0.95 after the second step, so w = 1 − 0.5 − 0.95.
        for (got, want) in zip(v.value.scalars, [-0.45, 0.55, 1.55] as [Float]) { #expect(abs(got - want) < 1e-6) }
    }

    @Test func updateRulesCheckShapesAndSlots() throws {
        var w = Tensor.ones([3])
        var none: [Tensor] = []
        #expect(throws: RecurError.self) { try w.update(by: .adam(learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 1),
                                                        gradient: Tensor.ones([3]), slots: &none) }
        #expect(throws: RecurError.self) { try w.update(by: .sgd(learningRate: 0.1, momentum: 0, nesterov: false), gradient: Tensor.ones([2]), slots: &none) }
        try w.update(by: .sgd(learningRate: 0.5, momentum: 0, nesterov: false), gradient: Tensor([1, 2, 3]), slots: &none)
        #expect(w.scalars == [0.5, 0, -0.5])
    }
}
