import CRecurKernels
import Foundation

/// Inference on a few batch rows (single samples) of an LSTM or a GRU (`resetAfter`) with the units
/// split across threads instead of the rows: a batch of one gives threads nothing to share, so each
/// thread takes a slice of the units — its columns of every gate — and the threads meet after every
/// step (`StepBarrier`), since each needs all of hₜ₋₁ for the next. Each thread then reads only its
/// slice of U, from its own core's cache: a 64-unit LSTM's U is 64 KiB, larger than a core's L1, and a
/// thread's half is 32 KiB.
enum UnitSplit {
    /// The most batch rows that split by units (`recur_gemm_few_rows`' products); more rows split by rows.
    static let mostRows = 4
    /// The fewest units of a slice: fewer make each thread's step too short to pay for the meeting
    /// (measured only for two threads of 32 units; 64-unit LSTMs on more cores still take two).
    static let fewestUnits = 32

    /// The CPUs this process may run on (its affinity mask, read once).
    static let usableCPUs = Int(recur_usable_cpu_count())

    /// How many forward passes have run split by units (for tests: a pass falls back to rows when the
    /// worker threads are busy).
    static var completedPasses: Int {
        passLock.lock(); defer { passLock.unlock() }
        return passes
    }
    private static let passLock = NSLock()
    nonisolated(unsafe) private static var passes = 0

    /// How long passes run on one thread after a pass whose threads did not all have a CPU. Threads that
    /// meet at every step need a CPU each: with other processes busy on both of two cores, a meeting
    /// waits for the scheduler to run the other thread. Measured here with two busy loops, always split,
    /// a single sample took 9.5 ms (median) in one of two runs (0.086 in the other); with this pause
    /// 0.058–0.068, as on one thread. After the pause the split is tried again.
    static let pauseAfterStarvedPass: UInt64 = 1_000_000_000
    /// The starved waits (`StepBarrier.starvedWaits`) that make a pass a starved one: a single one can
    /// be a brief stall of the machine, while busy cores starve meeting after meeting.
    static let starvedWaitsOfAStarvedPass = 2

    /// Until when splitting is paused, in uptime nanoseconds.
    struct Pause {
        private(set) var until: UInt64 = 0
        func allows(at now: UInt64) -> Bool { now >= until }
        /// A pass that ended at `now` found its threads without a CPU each.
        mutating func noteStarvedPass(at now: UInt64) { until = now + pauseAfterStarvedPass }
    }
    nonisolated(unsafe) private static var pause = Pause()

    private static func mayRun() -> Bool {
        passLock.lock(); defer { passLock.unlock() }
        return pause.allows(at: DispatchTime.now().uptimeNanoseconds)
    }

    private static func noteStarvedPass() {
        passLock.lock(); defer { passLock.unlock() }
        pause.noteStarvedPass(at: DispatchTime.now().uptimeNanoseconds)
    }

    /// Ends a pause at once (for tests that need a pass to split while other tests load the CPUs).
    static func endPause() {
        passLock.lock(); defer { passLock.unlock() }
        pause = Pause()
    }

    /// The units' slices, one a thread, each a multiple of 8 units but the last; nil for more than
    /// `mostRows` rows, one thread, or too few units for two slices.
    static func slices(units: Int, rows: Int, threads: Int) -> [Range<Int>]? {
        guard rows <= mostRows else { return nil }
        let parts = Swift.min(threads, units / fewestUnits)
        guard parts > 1 else { return nil }
        let width = (units + parts - 1) / parts
        let aligned = (width + 7) / 8 * 8
        let slices = stride(from: 0, to: units, by: aligned).map { $0..<Swift.min(units, $0 + aligned) }
        return slices.count > 1 ? slices : nil
    }

    /// The forward time loop of an inference pass split by units, when `stepper` can and `slices` gives
    /// slices for this shape and the threads are free; false, having run nothing, otherwise.
    /// x is (batch, time, features), processed last step first when `reverse`; each thread projects its
    /// own units' columns, x·W + b, of `UnitSlice.projectedSteps` steps at a time (one GEMM each, into a
    /// buffer of that many steps whatever the sequence's length). `carry(k, t)` is where carry k of
    /// step t goes (t = −1: the initial state), (batch, units) each. A masked row's slice of the carries
    /// is copied forward by the thread that owns the slice.
    static func forward(_ stepper: any RecurrenceStepper, x: Tensor, reverse: Bool, carries: Int, steps: StepMask,
                        carry: (Int, Int) -> UnsafeMutablePointer<Float>) -> Bool {
        let (batch, time, features) = (x.shape[0], x.shape[1], x.shape[2])
        // Threads that wait for each other at every step need a CPU each: never more of them than this
        // process may run on, even when `Parallelism.threads` asks for more.
        guard let splitting = stepper as? UnitSplittingStepper,
              let slices = slices(units: splitting.units, rows: batch, threads: Swift.min(Parallelism.threads, usableCPUs)),
              mayRun() else { return false }
        let units = splitting.units
        let xs = SequenceLayout.timeMajor(x, reversed: reverse)
        let layout = PackedSliceCache.Layout(stepper: ObjectIdentifier(type(of: splitting)), slices: slices, rows: batch,
                                             projectedSteps: Swift.min(time, UnitSlice.mostProjectedSteps))
        let sources = splitting.packingSources
        let packed = PackedSliceCache.shared.take(sources: sources, layout: layout)
        if let packed { splitting.unitSlices = packed } else { splitting.prepare(slices: slices, rows: batch, time: time) }
        let barrier = StepBarrier(parties: slices.count)
        let ran = parallelPartsTogether(slices.count) { part in
            if packed == nil { splitting.prepareSlice(part) }
            let (slice, unitSlice) = (slices[part], splitting.unitSlices[part])
            let (chunk, width) = (unitSlice.projectedSteps, unitSlice.projection.shape[1])
            for t in 0..<time {
                if t % chunk == 0 { unitSlice.project(xs.base + t * batch * features, steps: Swift.min(chunk, time - t)) }
                splitting.forward(step: t, rows: batch, slice: part, projection: unitSlice.projection.base + (t % chunk) * batch * width,
                                  previous: StepCarries(carries) { UnsafePointer(carry($0, t - 1)) },
                                  current: StepCarries(carries) { carry($0, t) })
                steps.forEachMaskedRow(step: t, in: 0..<batch) { b in
                    for k in 0..<carries {
                        let row = b * units + slice.lowerBound
                        (carry(k, t) + row).update(from: carry(k, t - 1) + row, count: slice.count)
                    }
                }
                // Step t + 1 reads every slice's hₜ, and (with two steps' carries kept in turn) writes
                // where step t read: no thread goes on before all are done with step t.
                barrier.wait()
            }
        }
        // Slices that were taken packed, or packed by this pass, go back for the next.
        if ran || packed != nil { PackedSliceCache.shared.keep(splitting.unitSlices, sources: sources, layout: layout) }
        if barrier.starvedWaits >= starvedWaitsOfAStarvedPass { noteStarvedPass() }
        if ran {
            passLock.lock()
            passes += 1
            passLock.unlock()
        }
        return ran
    }
}

/// A stepper whose inference step can be split by units (`UnitSplit`): before the region the driver
/// makes its slices (or takes them packed from `PackedSliceCache`), then each thread packs its slice of
/// the weights (unless taken packed), projects its units' columns of every step and runs its units'
/// part of every step.
protocol UnitSplittingStepper: RecurrenceStepper {
    /// The input kernel W, (features, gates·units), and the bias its projection adds, (gates·units).
    var inputKernel: Tensor { get }
    var inputBias: Tensor { get }
    /// The recurrent kernel U, (units, gates·units).
    var recurrentKernel: Tensor { get }
    /// The tensors the slices' packed weights are computed from (W, U and the bias W's projection adds
    /// or the tensor it is a row of): packed slices are reused while these keep their storage
    /// (`PackedSliceCache`).
    var packingSources: [Tensor] { get }
    var units: Int { get }
    /// A slice's gates per unit and the scratch buffers its steps need.
    var sliceLayout: (gates: Int, scratchBuffers: Int) { get }
    /// The threads' slices (`prepare`).
    var unitSlices: [UnitSlice] { get set }

    /// Step `t` for slice `part`'s units of all `n` rows: from the step's projection of the slice's units
    /// (n × gates·width, which the step may overwrite) and all of the previous carries, writes the slice's
    /// units of the current carries.
    func forward(step t: Int, rows n: Int, slice part: Int, projection: UnsafeMutablePointer<Float>,
                 previous: StepCarries<UnsafePointer<Float>>, current: StepCarries<UnsafeMutablePointer<Float>>)
}

extension UnitSplittingStepper {
    /// Makes room for `slices` over `rows` rows and `time` steps (called once, before the threads start).
    func prepare(slices: [Range<Int>], rows: Int, time: Int) {
        let layout = sliceLayout
        unitSlices = slices.map {
            UnitSlice(units: $0, gates: layout.gates, inputs: units, steps: Swift.min(time, UnitSlice.mostProjectedSteps), rows: rows,
                      scratchBuffers: layout.scratchBuffers)
        }
    }

    /// Packs slice `part`'s columns of W, b and U (called on the thread that runs it, before its first step).
    func prepareSlice(_ part: Int) { unitSlices[part].pack(inputKernel: inputKernel, bias: inputBias, recurrentKernel: recurrentKernel) }

    var packingSources: [Tensor] { [inputKernel, inputBias, recurrentKernel] }
}

/// One thread's units of a gated step: a matrix's columns of those units in each of its `gates` gates,
/// packed side by side (rows × gates·width), the projection of some steps for those units, and scratch
/// rows of that width for the step's values.
final class UnitSlice {
    /// The most steps projected at a time: one GEMM of enough rows to pack W for, and a buffer that
    /// does not grow with the sequence.
    static let mostProjectedSteps = 64

    let units: Range<Int>
    let gates: Int
    let kernel: Tensor
    /// (projectedSteps·rows, gates·width): x·W + b of the steps being run for the slice's units, time-major.
    let projection: Tensor
    let projectedSteps: Int
    let rows: Int
    /// The slice's columns of W, (features, gates·width), and of b.
    private var inputKernel: StepMatrix?
    private var inputBias: Tensor?
    /// (rows, gates·width) each: for the GRU its recurrent products and activations.
    let scratch: [Tensor]

    init(units: Range<Int>, gates: Int, inputs: Int, steps: Int, rows: Int, scratchBuffers: Int) {
        self.units = units
        self.gates = gates
        self.rows = rows
        projectedSteps = steps
        kernel = Tensor(uninitializedShape: [inputs, gates * units.count])
        projection = Tensor(uninitializedShape: [steps * rows, gates * units.count])
        scratch = (0..<scratchBuffers).map { _ in Tensor(uninitializedShape: [rows, gates * units.count]) }
    }

    /// Copies the slice's columns of a (count × gates·allUnits) row-major matrix into `to` (count × gates·width).
    func gather(_ matrix: UnsafePointer<Float>, rows count: Int, allUnits: Int, to: UnsafeMutablePointer<Float>) {
        let width = units.count
        for p in 0..<count {
            for g in 0..<gates {
                (to + (p * gates + g) * width).update(from: matrix + (p * gates + g) * allUnits + units.lowerBound, count: width)
            }
        }
    }

    /// The scalars the slice holds (to bound what `PackedSliceCache` keeps).
    var scalarCount: Int {
        kernel.count + projection.count + scratch.reduce(0) { $0 + $1.count } + (inputBias?.count ?? 0) + (inputKernel?.scalarCount ?? 0)
    }

    /// Packs the slice's columns of W (features × gates·allUnits), b (gates·allUnits) and U (inputs × gates·allUnits).
    func pack(inputKernel: Tensor, bias: Tensor, recurrentKernel: Tensor) {
        let (features, allUnits, width) = (inputKernel.shape[0], inputKernel.shape[1] / gates, gates * units.count)
        let kernelSlice = Tensor(uninitializedShape: [features, width]), biasSlice = Tensor(uninitializedShape: [width])
        gather(inputKernel.base, rows: features, allUnits: allUnits, to: kernelSlice.base)
        gather(bias.base, rows: 1, allUnits: allUnits, to: biasSlice.base)
        self.inputKernel = StepMatrix(kernelSlice, transposed: false, rows: projection.shape[0])
        inputBias = biasSlice
        gather(recurrentKernel.base, rows: recurrentKernel.shape[0], allUnits: allUnits, to: kernel.base)
    }

    /// The first `steps` (at most `projectedSteps`) steps of `projection` = xs·W + b for the slice's
    /// columns, from those steps of the time-major inputs xs (steps·rows × features).
    func project(_ xs: UnsafePointer<Float>, steps: Int) {
        inputKernel!.multiply(xs, rows: steps * rows, into: projection.base, accumulate: false, step: 0, bias: inputBias!.base)
    }

    /// out += h·U for the slice's columns: `rows` rows of h (inputs floats each) into (rows × gates·width),
    /// one few-row product reading U's rows last to first at odd steps (`recur_gemm_few_rows`).
    func addProduct(of h: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>, step t: Int) {
        gemm(h, transposeA: false, kernel.base, transposeB: false, out, m: rows, n: kernel.shape[1], k: kernel.shape[0], beta: 1,
             descending: t % 2 == 1)
    }
}

extension LSTMStepper: UnitSplittingStepper {
    var sliceLayout: (gates: Int, scratchBuffers: Int) { (4, 0) }

    /// z = projection + hₜ₋₁·U for the slice's columns (one few-row product, in place), then the gates of its units.
    func forward(step t: Int, rows n: Int, slice part: Int, projection z: UnsafeMutablePointer<Float>,
                 previous: StepCarries<UnsafePointer<Float>>, current: StepCarries<UnsafeMutablePointer<Float>>) {
        let slice = unitSlices[part]
        let (u0, width) = (slice.units.lowerBound, slice.units.count)
        slice.addProduct(of: previous[0], rows: n, into: z, step: t)
        for b in 0..<n {
            let unit = b * units + u0
            recur_lstm_gates_forward(z + b * 4 * width, previous[1] + unit, current[1] + unit, savedTanhC(step: t, firstRow: b) + u0,
                                     current[0] + unit, 1, width)
        }
    }
}

extension GRUStepper: UnitSplittingStepper {
    var sliceLayout: (gates: Int, scratchBuffers: Int) { (3, 2) }
    /// The input bias is a row of the (2, 3U) bias, copied at every call: the bias itself is the source.
    var packingSources: [Tensor] { [inputKernel, bias, recurrentKernel] }

    /// hproj = hₜ₋₁·U + b_rec for the slice's columns (one few-row product), then the gates of its units
    /// from the slice's projection.
    func forward(step t: Int, rows n: Int, slice part: Int, projection xproj: UnsafeMutablePointer<Float>,
                 previous: StepCarries<UnsafePointer<Float>>, current: StepCarries<UnsafeMutablePointer<Float>>) {
        let slice = unitSlices[part]
        let (u0, width) = (slice.units.lowerBound, slice.units.count)
        let (hproj, activations) = (slice.scratch[0].base, slice.scratch[1].base)
        for b in 0..<n { slice.gather(recurrentBias.base, rows: 1, allUnits: units, to: hproj + b * 3 * width) }
        slice.addProduct(of: previous[0], rows: n, into: hproj, step: t)
        for b in 0..<n {
            recur_gru_gates_forward(xproj + b * 3 * width, hproj + b * 3 * width, previous[0] + b * units + u0,
                                    activations + b * 3 * width, current[0] + b * units + u0, 1, width)
        }
    }
}
