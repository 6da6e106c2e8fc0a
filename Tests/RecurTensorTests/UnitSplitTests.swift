import Foundation
import Testing
@testable import RecurTensor

/// A few rows' LSTM and GRU inference split by units across threads (`UnitSplit`) computes what the
/// same recurrence computes split by rows, which it runs when it records for a backward pass.
@Suite("Inference split by units")
struct UnitSplitTests {
    @Test func slicesAreMultiplesOfEightUnitsOnePerThread() {
        #expect(UnitSplit.slices(units: 64, rows: 1, threads: 2) == [0..<32, 32..<64])
        #expect(UnitSplit.slices(units: 64, rows: 1, threads: 8) == [0..<32, 32..<64])
        #expect(UnitSplit.slices(units: 72, rows: 4, threads: 2) == [0..<40, 40..<72])
        #expect(UnitSplit.slices(units: 100, rows: 1, threads: 8) == [0..<40, 40..<80, 80..<100])
        #expect(UnitSplit.slices(units: 64, rows: 5, threads: 2) == nil, "more rows split by rows")
        #expect(UnitSplit.slices(units: 63, rows: 1, threads: 2) == nil, "too few units for two slices")
        #expect(UnitSplit.slices(units: 64, rows: 1, threads: 1) == nil, "one thread")
    }

    static func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor.randomUniform(shape, low: -0.5, high: 0.5, generator: &generator)
    }

    /// Every row count that splits, units that split evenly and unevenly, both directions, with a mask
    /// whose rows skip different steps, and sequences longer than the steps projected at a time (64);
    /// outputs, last output and the final states.
    @Test(arguments: [RecurrenceKind.lstm, .gru(resetAfter: true)],
          [(1, 72, 9), (2, 64, 9), (3, 72, 9), (4, 64, 9), (1, 64, 9), (4, 72, 9), (1, 64, 150), (3, 72, 130)])
    func splitByUnitsMatchesSplitByRows(kind: RecurrenceKind, shape: (rows: Int, units: Int, time: Int)) throws {
        let ((rows, units, time), features, gates) = (shape, 5, kind.gatesPerUnit)
        let seed = UInt64(rows * 100 + units + 7 * gates + time)
        let x = Self.random([rows, time, features], seed: seed)
        let kernel = Self.random([features, gates * units], seed: seed + 1), recurrent = Self.random([units, gates * units], seed: seed + 2)
        let bias = Self.random(kind.biasShape(gateWidth: gates * units), seed: seed + 3)
        let states = (0..<kind.carryCount).map { Self.random([rows, units], seed: seed + 4 + UInt64($0)) }
        let mask = try Tensor(shape: [rows, time], scalars: (0..<rows * time).map { Float(($0 % (rows + 2)) == 1 ? 0 : 1) })
        #expect(UnitSplit.slices(units: units, rows: rows, threads: 2) != nil)
        for reverse in [false, true] {
            for masked in [false, true] {
                func run(recording: Bool) throws -> RecurrenceOutputs {
                    // A recurrent kernel that requires a gradient makes the forward pass save for a backward
                    // pass, which never splits by units.
                    try Tensor.recurrence(kind, x, kernel: kernel, recurrentKernel: recording ? recurrent.requiringGradient() : recurrent,
                                          bias: bias, initialStates: states, mask: masked ? mask : nil, reverse: reverse)
                }
                // A pass falls back to rows while another test's region holds the worker threads (a
                // training test can hold them for seconds on two cores): retried, a millisecond apart for
                // up to 60 s, until one has split (another test's split pass could count too, rarely).
                var split = try GradientRecording.disabled { try run(recording: false) }
                var didSplit = false
                let canSplit = Swift.min(Parallelism.threads, UnitSplit.usableCPUs) > 1
                let deadline = Date().addingTimeInterval(60)
                var attempt = 0
                while canSplit && !didSplit && Date() < deadline {
                    if attempt > 0 { Thread.sleep(forTimeInterval: 0.001) }
                    attempt += 1
                    let before = UnitSplit.completedPasses
                    split = try GradientRecording.disabled { try run(recording: false) }
                    didSplit = UnitSplit.completedPasses > before
                }
                let rowsPath = try run(recording: true)
                let label = "\(kind) rows \(rows) units \(units) time \(time) reverse \(reverse) masked \(masked)"
                #expect(didSplit || !canSplit, "\(label): never split by units")
                let pairs = [(split.sequence!, rowsPath.sequence!), (split.last, rowsPath.last)] + Array(zip(split.finalStates, rowsPath.finalStates))
                #expect(split.finalStates.count == kind.carryCount)
                for (a, b) in pairs {
                    let difference = zip(try a.hostScalars(), try b.hostScalars()).map { abs($0 - $1) }.max() ?? 0
                    #expect(difference <= 1e-6, "\(label): differs by \(difference)")
                }
            }
        }
    }
}
