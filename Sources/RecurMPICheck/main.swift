import Foundation
import Recur
import RecurExamples
import RecurMPI

// The data-parallel check the tests run under mpirun (Tests/RecurTests/DataParallelTests.swift): the
// guide's model for 20 steps of a 64-sample global batch on fixed synthetic data (1,218 samples, so
// the last batch has 2 rows and with 3 ranks one rank has none), SGD with momentum; each rank writes
// its weights to OUT/rank-R.npz.
//
//   recur-mpi-check OUT [--distributed] [--no-sync] [--kill-rank R --kill-step S]
//   recur-mpi-check OUT --distributed --bench-allreduce N
//
// Without --distributed it is one process's plain `fit`, the reference. --no-sync uses per-replica
// BatchNormalization (not equal to one process). --kill-rank makes rank R kill itself (SIGKILL)
// before step S, to check that the job ends rather than hangs. --bench-allreduce times N all-reduces of
// the guide model's 24,714 gradients (one step's) and prints the median on rank 0.
let arguments = CommandLine.arguments
func value(_ flag: String) -> Int? { arguments.firstIndex(of: flag).flatMap { Int(arguments[$0 + 1]) } }
let out = arguments.count > 1 ? arguments[1] : "."
let distribution = arguments.contains("--distributed") ? try MPIDataParallel() : nil
let rank = distribution?.rank ?? 0

/// Kills this process at a chosen step: a rank that dies in the middle of training.
final class KillAtStep: Callback {
    let step: Int
    init(step: Int) { self.step = step }
    func onBatchBegin(model: Model, batch: Int) throws {
        if batch == step { kill(getpid(), SIGKILL) }
    }
}

if let rounds = value("--bench-allreduce"), let distribution {
    var gradients = [Float](repeating: 1, count: 24_714)
    var times: [Double] = []
    for _ in 0..<rounds {
        let start = DispatchTime.now().uptimeNanoseconds
        try distribution.allReduceSum(&gradients)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3)
    }
    if rank == 0 { print("all-reduce of 24,714 floats on \(distribution.size) ranks: median \(times.sorted()[rounds / 2]) µs over \(rounds)") }
    exit(0)
}

setRandomSeed(1337)
setBLASThreads(1)
var data = SeededGenerator(seed: 42)
let samples = 1218
let x = Tensor.randomUniform([samples, 28, 28], low: 0, high: 1, generator: &data)
let y = try Tensor(shape: [samples], scalars: (0..<samples).map { _ in Float(Int.random(in: 0..<10, using: &data)) })
let model = try GuideModels.mnistRows(synchronizedBatchNorm: !arguments.contains("--no-sync"))
try model.compile(optimizer: SGD(learningRate: 0.05, momentum: 0.9), loss: SparseCategoricalCrossentropy(fromLogits: true),
                  metrics: ["accuracy"])
var callbacks: [any Callback] = []
if let killRank = value("--kill-rank"), killRank == rank { callbacks.append(KillAtStep(step: value("--kill-step") ?? 0)) }
try model.fit(x, y, batchSize: 64, epochs: 1, callbacks: callbacks, verbose: 0, distribution: distribution)
try model.saveWeights(to: "\(out)/rank-\(rank).npz")
