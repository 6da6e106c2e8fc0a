import Foundation
import Testing
@testable import RecurTensor

/// cuDNN's RNN equations run on the host over weights in cuDNN's layout (`CuDNNWeights`), as cuDNN
/// defines them: y is zero past a row's length, hy and cy are the states at its last step. In double
/// precision; x (B, T, D) and states (B, U) as flat row-major arrays.
private func cuDNNForward(_ weights: CuDNNWeights, x: [Float], batch: Int, time: Int, features: Int,
                          h0: [Float], c0: [Float], lengths: [Int32]) throws -> (y: [Double], hy: [Double], cy: [Double]) {
    let units = weights.matrices[0].shape[0]
    let m = try weights.matrices.map { try $0.hostScalars().map(Double.init) }
    let b = try weights.biases.map { try $0.hostScalars().map(Double.init) }
    let layers = m.count / 2
    var y = [Double](repeating: 0, count: batch * time * units)
    var hy = h0.map(Double.init), cy = c0.map(Double.init)
    func sigmoid(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
    for row in 0..<batch {
        var h = Array(hy[row * units..<(row + 1) * units]), c = Array(cy[row * units..<(row + 1) * units])
        for t in 0..<Int(lengths[row]) {
            let xt = (0..<features).map { Double(x[(row * time + t) * features + $0]) }
            // Input and recurrent pre-activations of layer `id` (0..<layers), each with its own bias.
            func input(_ id: Int, _ j: Int) -> Double { b[id][j] + (0..<features).reduce(0) { $0 + m[id][j * features + $1] * xt[$1] } }
            func recurrent(_ id: Int, _ j: Int) -> Double { b[layers + id][j] + (0..<units).reduce(0) { $0 + m[layers + id][j * units + $1] * h[$1] } }
            var next = h
            for j in 0..<units {
                switch weights.kind {
                case .lstm:
                    let i = sigmoid(input(0, j) + recurrent(0, j)), f = sigmoid(input(1, j) + recurrent(1, j))
                    let g = tanh(input(2, j) + recurrent(2, j)), o = sigmoid(input(3, j) + recurrent(3, j))
                    c[j] = f * c[j] + i * g
                    next[j] = o * tanh(c[j])
                case .gru:
                    let r = sigmoid(input(0, j) + recurrent(0, j)), z = sigmoid(input(1, j) + recurrent(1, j))
                    let candidate = tanh(input(2, j) + r * recurrent(2, j))
                    next[j] = (1 - z) * candidate + z * h[j]
                case .simpleRNN:
                    next[j] = tanh(input(0, j) + recurrent(0, j))
                }
            }
            h = next
            for j in 0..<units { y[(row * time + t) * units + j] = h[j] }
        }
        hy.replaceSubrange(row * units..<(row + 1) * units, with: h)
        cy.replaceSubrange(row * units..<(row + 1) * units, with: c)
    }
    return (y, hy, cy)
}

/// What the GPU's glue does around cuDNN for `goBackwards` (GPU.md §6): cuDNN gets each row's counted
/// steps reversed, x′[b, j] = x[b, len − 1 − j]; Recur's outputs in processing order are then h0 (zeros
/// with zeroed masked outputs) for the T − len masked steps that come first, and y′[b, s − (T − len)] after.
private func reversedWithinLengths(_ x: [Float], batch: Int, time: Int, width: Int, lengths: [Int32]) -> [Float] {
    var out = [Float](repeating: 0, count: x.count)
    for row in 0..<batch {
        let n = Int(lengths[row])
        for j in 0..<n { for k in 0..<width { out[(row * time + j) * width + k] = x[(row * time + n - 1 - j) * width + k] } }
    }
    return out
}

private func processingOrder(_ y: [Double], batch: Int, time: Int, units: Int, lengths: [Int32]) -> [Double] {
    var out = [Double](repeating: 0, count: y.count)
    for row in 0..<batch {
        let skipped = time - Int(lengths[row])
        for s in skipped..<time { for k in 0..<units { out[(row * time + s) * units + k] = y[(row * time + s - skipped) * units + k] } }
    }
    return out
}

private func maxDifference(_ a: [Float], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { Swift.max($0, abs(Double($1.0) - $1.1)) }
}

@Suite("cuDNN layout on the host")
struct CuDNNLayoutTests {
    static let kinds: [RecurrenceKind] = [.lstm, .gru(resetAfter: true), .simpleRNN]
    static let shapes = [(3, 5, 4, 6), (4, 7, 3, 17), (1, 1, 3, 33)]

    /// cuDNN's equations on the converted weights equal Recur's fused CPU kernels: the tables of
    /// `CuDNNWeights`, the mask lengths and the reverse glue, proven without a GPU. Within 2e-6: the
    /// float32 kernels against a double reference over up to 7 steps (a wrong table entry is off by ~0.1).
    @Test(arguments: kinds)
    func cuDNNEquationsOnConvertedWeightsMatchFusedKernels(_ kind: RecurrenceKind) throws {
        let gates = kind.gatesPerUnit
        for (index, (batch, time, features, units)) in Self.shapes.enumerated() {
            let seed = UInt64(100 + 10 * index)
            let x = random([batch, time, features], seed: seed)
            let kernel = random([features, gates * units], seed: seed + 1), recurrent = random([units, gates * units], seed: seed + 2)
            let bias = random(kind == .gru(resetAfter: true) ? [2, gates * units] : [gates * units], seed: seed + 3)
            let states = (0..<kind.carryCount).map { random([batch, units], seed: seed + 4 + UInt64($0)) }
            let weights = try CuDNNWeights(kind: kind, kernel: kernel, recurrentKernel: recurrent, bias: bias)
            // Every row counts a different number of steps, at least one (right padding).
            let lengths = (0..<batch).map { Int32(time - ($0 * 2) % time) }
            let maskValues = (0..<batch).flatMap { row in (0..<time).map { Float($0 < Int(lengths[row]) ? 1 : 0) } }
            let mask = try Tensor(shape: [batch, time], scalars: maskValues)
            #expect(try CuDNNSequenceLengths.plan(for: mask, batch: batch, time: time) == .lengths(lengths))
            for reverse in [false, true] {
                let recur = try Tensor.recurrence(kind, x, kernel: kernel, recurrentKernel: recurrent, bias: bias, initialStates: states,
                                                  mask: mask, reverse: reverse, returnSequence: true, zeroMaskedOutputs: true)
                let xs = try x.hostScalars()
                let cuDNNInput = reverse ? reversedWithinLengths(xs, batch: batch, time: time, width: features, lengths: lengths) : xs
                let c0 = try states.count > 1 ? states[1].hostScalars() : [Float](repeating: 0, count: batch * units)
                let cuDNN = try cuDNNForward(weights, x: cuDNNInput, batch: batch, time: time, features: features,
                                             h0: states[0].hostScalars(), c0: c0, lengths: lengths)
                // Zeroed masked outputs: zeros where cuDNN pads, and (going backwards) where the masked steps come first.
                let sequence = reverse ? processingOrder(cuDNN.y, batch: batch, time: time, units: units, lengths: lengths) : cuDNN.y
                let label = "\(kind) \((batch, time, features, units)) reverse \(reverse)"
                let outputs = maxDifference(try recur.sequence!.hostScalars(), sequence)
                let hy = maxDifference(try recur.finalStates[0].hostScalars(), cuDNN.hy)
                #expect(outputs < 2e-6, "\(label): outputs differ by \(outputs)")
                #expect(hy < 2e-6, "\(label): hy differs by \(hy)")
                if kind == .lstm {
                    let cy = maxDifference(try recur.finalStates[1].hostScalars(), cuDNN.cy)
                    #expect(cy < 2e-6, "\(label): cy differs by \(cy)")
                }
            }
        }
    }

    @Test(arguments: kinds)
    func kerasWeightsRoundTripExactly(_ kind: RecurrenceKind) throws {
        let gates = kind.gatesPerUnit
        let kernel = random([5, gates * 7], seed: 1), recurrent = random([7, gates * 7], seed: 2)
        let bias = random(kind == .gru(resetAfter: true) ? [2, gates * 7] : [gates * 7], seed: 3)
        let weights = try CuDNNWeights(kind: kind, kernel: kernel, recurrentKernel: recurrent, bias: bias)
        #expect(weights.matrices.map(\.shape) == Array(repeating: [7, 5], count: gates) + Array(repeating: [7, 7], count: gates))
        let back = try weights.kerasWeights()
        #expect(try back.kernel.hostScalars() == kernel.hostScalars())
        #expect(try back.recurrentKernel.hostScalars() == recurrent.hostScalars())
        #expect(try back.bias.hostScalars() == bias.hostScalars())
        #expect(back.bias.shape == bias.shape)
    }

    /// An LSTM's two bias slots take the same gradient in cuDNN: Keras's is one of them, while weights
    /// from cuDNN or PyTorch (b_ih, b_hh) add up.
    @Test func lstmBiasRule() throws {
        let units = 3
        let matrices = (0..<4).map { random([units, 2], seed: UInt64($0)) } + (0..<4).map { random([units, units], seed: UInt64(10 + $0)) }
        let inputSlots = (0..<4).map { _ in Tensor(repeating: 1, shape: [units]) }
        let recurrentSlots = (0..<4).map { Tensor(repeating: Float($0 + 2), shape: [units]) }
        let layers = try CuDNNWeights(kind: .lstm, matrices: matrices, biases: inputSlots + recurrentSlots)
        #expect(try layers.kerasWeights().bias.hostScalars() == (0..<4).flatMap { g in Array(repeating: Float(g + 3), count: units) })
        #expect(try layers.kerasGradients().bias.hostScalars() == (0..<4).flatMap { g in Array(repeating: Float(g + 2), count: units) })
        // Keras's gate blocks come back in order: gate 2's recurrent matrix is layer 6's transpose.
        #expect(try layers.kerasWeights().recurrentKernel.slice(alongAxis: 1, 2 * units..<3 * units).hostScalars()
                == matrices[6].transposed().hostScalars())
    }

    @Test func gruSwapsResetAndUpdateGates() throws {
        let units = 2
        let kernel = try Tensor(shape: [1, 3 * units], scalars: [1, 1, 2, 2, 3, 3])  // Keras [z, r, h]
        let weights = try CuDNNWeights(kind: .gru(resetAfter: true), kernel: kernel, recurrentKernel: random([units, 3 * units], seed: 4),
                                       bias: random([2, 3 * units], seed: 5))
        #expect(try weights.matrices[0...2].map { try $0.hostScalars() } == [[2, 2], [1, 1], [3, 3]])  // cuDNN [r, z, h′]
    }

    @Test func resetBeforeGRUHasNoCuDNNForm() {
        #expect(throws: RecurError.self) {
            try CuDNNWeights(kind: .gru(resetAfter: false), kernel: random([2, 6], seed: 1), recurrentKernel: random([2, 6], seed: 2),
                             bias: random([6], seed: 3))
        }
    }

    @Test func wrongShapesThrowNamingBoth() throws {
        do {
            _ = try CuDNNWeights(kind: .lstm, kernel: random([3, 8], seed: 1), recurrentKernel: random([2, 9], seed: 2), bias: random([8], seed: 3))
            Issue.record("no error")
        } catch let error as RecurError {
            #expect("\(error)".contains("(2, 8)") && "\(error)".contains("(2, 9)"))
        }
    }

    @Test func masksCuDNNCannotTake() throws {
        #expect(try CuDNNSequenceLengths.plan(for: nil, batch: 2, time: 4) == .lengths([4, 4]))
        let gap = try Tensor(shape: [2, 3], scalars: [1, 0, 1, 1, 1, 1])
        #expect(try CuDNNSequenceLengths.plan(for: gap, batch: 2, time: 3) == .declined(.maskNotRightPadded))
        let leftPadded = try Tensor(shape: [1, 3], scalars: [0, 1, 1])
        #expect(try CuDNNSequenceLengths.plan(for: leftPadded, batch: 1, time: 3) == .declined(.maskNotRightPadded))
        let empty = try Tensor(shape: [2, 3], scalars: [1, 1, 0, 0, 0, 0])
        #expect(try CuDNNSequenceLengths.plan(for: empty, batch: 2, time: 3) == .declined(.emptySequence))
        #expect(throws: RecurError.self) { try CuDNNSequenceLengths.plan(for: empty, batch: 3, time: 3) }
    }
}

@Suite("CUDA discovery")
struct CUDADiscoveryTests {
    /// On any machine the status is a device or a one-line reason, and a CUDA device without a backend
    /// throws naming the device instead of stopping the program.
    @Test func statusIsOneLineAndCUDADevicesThrow() throws {
        #expect(!CUDAStatus.current.description.isEmpty && !CUDAStatus.current.description.contains("\n"))
        do {
            _ = try Backends.backend(for: .cuda(0))
            Issue.record("cuda:0 has no backend in this build")
        } catch let error as RecurError {
            #expect("\(error)".contains("cuda:0"))
        }
        #expect(Device.cuda(1).isCUDA && !Device.cpu.isCUDA)
    }

    /// A file that is not a library where the driver should be is a reason, not a crash.
    @Test(arguments: [Data(), Data("not a library".utf8), Data([0x7F, 0x45, 0x4C, 0x46] + Array(repeating: 0xFF, count: 60))])
    func foreignDriverFileIsAReason(_ contents: Data) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recur-fake-cuda-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try contents.write(to: folder.appendingPathComponent("libcuda.so.1"))
        guard case .unavailable(let reason) = CUDAStatus.probe(libraryFolder: folder.path) else {
            Issue.record("a foreign libcuda.so.1 was accepted"); return
        }
        #expect(reason.hasPrefix("no NVIDIA driver") && reason.contains(folder.path) && !reason.contains("\n"))
    }
}
