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
                let (split, didSplit) = try Self.splittingPass { try run(recording: false) }
                let rowsPath = try run(recording: true)
                let label = "\(kind) rows \(rows) units \(units) time \(time) reverse \(reverse) masked \(masked)"
                #expect(didSplit || !Self.canSplit, "\(label): never split by units")
                #expect(split.finalStates.count == kind.carryCount)
                try Self.expectSame(split, rowsPath, label)
            }
        }
    }

    static let canSplit = Swift.min(Parallelism.threads, UnitSplit.usableCPUs) > 1

    /// Runs `pass` until it has split by units, and returns its last outputs and whether it split. A
    /// pass falls back to rows while another test's region holds the worker threads (a training test
    /// can hold them for seconds on two cores) or after a pass whose threads were starved: retried, a
    /// millisecond apart for up to 60 s, each attempt ending any pause (another test's split pass could
    /// count too, rarely).
    static func splittingPass(_ pass: () throws -> RecurrenceOutputs) throws -> (RecurrenceOutputs, Bool) {
        var outputs = try GradientRecording.disabled { try pass() }
        var didSplit = false
        let deadline = Date().addingTimeInterval(60)
        var attempt = 0
        while canSplit && !didSplit && Date() < deadline {
            if attempt > 0 { Thread.sleep(forTimeInterval: 0.001) }
            attempt += 1
            let before = UnitSplit.completedPasses
            UnitSplit.endPause()
            outputs = try GradientRecording.disabled { try pass() }
            didSplit = UnitSplit.completedPasses > before
        }
        return (outputs, didSplit)
    }

    /// The sequences, last outputs and final states of two passes agree to 1e-6.
    static func expectSame(_ a: RecurrenceOutputs, _ b: RecurrenceOutputs, _ label: String) throws {
        let pairs = [(a.sequence!, b.sequence!), (a.last, b.last)] + Array(zip(a.finalStates, b.finalStates))
        for (x, y) in pairs {
            let difference = zip(try x.hostScalars(), try y.hostScalars()).map { abs($0 - $1) }.max() ?? 0
            #expect(difference <= 1e-6, "\(label): differs by \(difference)")
        }
    }

    /// The slices packed for a pass are reused by the next while W, U and the bias keep their storage,
    /// and never once one of them has changed: a weight changed in place (as an optimizer changes it)
    /// is copied first, since the cache holds it, so the next pass packs the new values.
    @Test(arguments: [RecurrenceKind.lstm, .gru(resetAfter: true)])
    func packedSlicesFollowTheWeights(kind: RecurrenceKind) throws {
        let (units, features, gates) = (64, 5, kind.gatesPerUnit)
        let x = Self.random([1, 9, features], seed: 41)
        var weights = [Self.random([features, gates * units], seed: 42), Self.random([units, gates * units], seed: 43),
                       Self.random(kind.biasShape(gateWidth: gates * units), seed: 44)]
        func run(recording: Bool) throws -> RecurrenceOutputs {
            try Tensor.recurrence(kind, x, kernel: weights[0], recurrentKernel: recording ? weights[1].requiringGradient() : weights[1],
                                  bias: weights[2], initialStates: (0..<kind.carryCount).map { _ in Tensor.zeros([1, units]) }, mask: nil, reverse: false)
        }
        for changed in -1..<weights.count {
            // The first and the last scalar: of the GRU's bias, an input bias (packed) and a recurrent one.
            if changed >= 0 { try weights[changed].withUnsafeMutableBufferPointer { $0[0] += 0.75; $0[$0.count - 1] -= 0.5 } }
            // Twice: the first pass after a change packs, the second takes what it packed.
            for repeated in 0..<2 {
                let (split, didSplit) = try Self.splittingPass { try run(recording: false) }
                #expect(didSplit || !Self.canSplit, "\(kind): never split by units")
                try Self.expectSame(split, try run(recording: true), "\(kind) after changing weight \(changed), pass \(repeated)")
            }
        }
    }

    /// A meeting where one part arrives late enough that the other starts yielding its CPU counts as a
    /// starved wait, and a starved pass pauses splitting for `pauseAfterStarvedPass`.
    @Test func starvedPassesPauseTheSplit() throws {
        var pause = UnitSplit.Pause()
        #expect(pause.allows(at: 0))
        pause.noteStarvedPass(at: 5)
        #expect(!pause.allows(at: 5) && !pause.allows(at: 4 + UnitSplit.pauseAfterStarvedPass))
        #expect(pause.allows(at: 5 + UnitSplit.pauseAfterStarvedPass))

        guard Self.canSplit else { return }
        let deadline = Date().addingTimeInterval(60)
        var ran = false
        while !ran && Date() < deadline {
            let barrier = StepBarrier(parties: 2)
            ran = parallelPartsTogether(2) { part in
                if part == 1 { Thread.sleep(forTimeInterval: 0.005) }
                barrier.wait()
            }
            if ran { #expect(barrier.starvedWaits == 1, "part 0 waited 5 ms at the meeting") } else { Thread.sleep(forTimeInterval: 0.001) }
        }
        #expect(ran, "the worker threads were never free")
        let prompt = StepBarrier(parties: 1)
        prompt.wait()
        #expect(prompt.starvedWaits == 0)
    }
}
