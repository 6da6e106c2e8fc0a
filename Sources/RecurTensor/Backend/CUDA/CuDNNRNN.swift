import CRecurCUDA
import Foundation

/// cuDNN's RNN algorithms Recur uses (`cudnnRNNAlgo_t`).
public enum CuDNNRNNAlgorithm: String, Sendable, CaseIterable {
    /// Persistent kernels for small hidden sizes when the configuration allows (LSTM and GRU, at most
    /// 128 units), else the standard algorithm.
    case automatic
    case standard
    /// `CUDNN_RNN_ALGO_PERSIST_STATIC_SMALL_H`: the recurrent weights kept on chip across steps.
    case persistStaticSmallH
    /// `CUDNN_RNN_ALGO_PERSIST_STATIC`.
    case persistStatic

    /// The `cudnnRNNAlgo_t` value for `kind` with `units` units.
    func value(kind: RecurrenceKind, units: Int) -> Int32 {
        switch self {
        case .automatic: kind != .simpleRNN && units <= 128 ? 3 : 0
        case .standard: 0
        case .persistStaticSmallH: 3
        case .persistStatic: 1
        }
    }
}

/// One cuDNN RNN configuration — a kind, D inputs, U units, an algorithm — with its descriptor and
/// weight-space layout (../shared/GPU.md §3, §5): where each linear layer's matrix and bias lie in the
/// weight space, asked of cuDNN (`cudnnGetRNNWeightParams`) and checked against the shapes cuDNN must
/// give; and, per unmasked (batch, time), the descriptors, lengths and temporary-space sizes of a call.
final class CuDNNRNN {
    let kind: RecurrenceKind
    let descriptor: recur_cudnn_rnn_desc
    /// The `cudnnRNNAlgo_t` in use.
    let algorithm: Int32
    let weightBytes: Int
    /// Per linear layer (linLayerID order): the scalar offsets of its matrix and bias in the weight space.
    private let matrixOffsets: [Int], biasOffsets: [Int]
    private let inputs: Int, units: Int
    private unowned let backend: CUDABackend
    private var unmaskedCalls: [[Int]: CuDNNCallShape] = [:]

    /// The configuration with `algorithm`, or — where cuDNN does not support that algorithm for it —
    /// the standard one.
    convenience init(_ backend: CUDABackend, kind: RecurrenceKind, inputs: Int, units: Int, algorithm: CuDNNRNNAlgorithm) throws {
        let wanted = algorithm.value(kind: kind, units: units)
        do {
            try self.init(backend, kind: kind, inputs: inputs, units: units, algorithmValue: wanted)
        } catch where wanted != 0 {
            try self.init(backend, kind: kind, inputs: inputs, units: units, algorithmValue: 0)
        }
    }

    private init(_ backend: CUDABackend, kind: RecurrenceKind, inputs: Int, units: Int, algorithmValue: Int32) throws {
        self.backend = backend
        self.kind = kind
        self.inputs = inputs
        self.units = units
        self.algorithm = algorithmValue
        let cudnn = backend.context.cudnn
        var descriptor: recur_cudnn_rnn_desc?
        try CUDAContext.check(recur_cudnnCreateRNNDescriptor(&descriptor), "cudnnCreateRNNDescriptor")
        self.descriptor = descriptor!
        let cell: Int32 = switch kind {
        case .simpleRNN: 1 // RNN_TANH
        case .lstm: 2
        case .gru: 3
        }
        // DOUBLE_BIAS, UNIDIRECTIONAL, LINEAR_INPUT, FLOAT data and math, FMA_MATH (no TF32), projection =
        // units, one layer, no dropout, padded IO enabled.
        try CUDAContext.check(recur_cudnnSetRNNDescriptor_v8(descriptor, algorithmValue, cell, 2, 0, 0, 0, 0, 3, Int32(inputs), Int32(units),
                                                                 Int32(units), 1, backend.noDropout(), 1), "cudnnSetRNNDescriptor_v8")
        var bytes = 0
        try CUDAContext.check(recur_cudnnGetRNNWeightSpaceSize(cudnn, descriptor, &bytes), "cudnnGetRNNWeightSpaceSize")
        weightBytes = bytes
        // The layout: the addresses cuDNN gives in a weight space, less its start.
        let probe = CUDAScratch(backend, bytes: bytes)
        let matrixDescriptor = try CuDNNTensorDescriptor(), biasDescriptor = try CuDNNTensorDescriptor()
        var matrices: [Int] = [], biases: [Int] = []
        let layers = 2 * (kind == .lstm ? 4 : kind == .simpleRNN ? 1 : 3)
        let base = UnsafeRawPointer(probe.pointer!)
        for id in 0..<layers {
            var m: UnsafeMutableRawPointer?, b: UnsafeMutableRawPointer?
            try CUDAContext.check(recur_cudnnGetRNNWeightParams(cudnn, descriptor, 0, bytes, base, Int32(id), matrixDescriptor.descriptor, &m,
                                                                biasDescriptor.descriptor, &b), "cudnnGetRNNWeightParams")
            let expected = [1, units, id < layers / 2 ? inputs : units]
            guard let m, let b, try matrixDescriptor.dimensions() == expected, try biasDescriptor.dimensions() == [1, units, 1] else {
                throw RecurError.unsupported(op: "CUDA", message: "cuDNN's weight layout for \(kind) layer \(id) is not (\(expected)) as expected")
            }
            matrices.append((Int(bitPattern: m) - Int(bitPattern: base)) / 4)
            biases.append((Int(bitPattern: b) - Int(bitPattern: base)) / 4)
        }
        matrixOffsets = matrices
        biasOffsets = biases
        // An algorithm cuDNN cannot run for this configuration fails here, not in the first call.
        _ = try callShape(batch: 1, time: 1, lengths: [1]).temporaryBytes(mode: 1)
        unmaskedCalls = [:]
    }

    /// The descriptors, device lengths and temporary-space sizes of a call over `batch` rows of `time`
    /// steps with these lengths; kept for reuse when no row is shorter than `time`.
    func callShape(batch: Int, time: Int, lengths: [Int32]) throws -> CuDNNCallShape {
        let unmasked = lengths.allSatisfy { Int($0) == time }
        if unmasked, let known = unmaskedCalls[[batch, time]] { return known }
        let made = try CuDNNCallShape(self, backend: backend, batch: batch, time: time, lengths: lengths, inputs: inputs, units: units)
        if unmasked {
            if unmaskedCalls.count >= 16 { unmaskedCalls = [:] }
            unmaskedCalls[[batch, time]] = made
        }
        return made
    }

    deinit { _ = recur_cudnnDestroyRNNDescriptor(descriptor) }

    /// For each cuDNN layer of one side (input or recurrent), the Keras gate column block it takes:
    /// LSTM [i, f, g, o] = Keras's order; GRU cuDNN [r, z, h′] from Keras's [z, r, h].
    private var kerasGates: [Int] {
        switch kind {
        case .simpleRNN: [0]
        case .lstm: [0, 1, 2, 3]
        case .gru: [1, 0, 2]
        }
    }

    /// Where each cuDNN bias comes from in Keras's bias: (scalar offset) or nil for a zero slot. LSTM and
    /// SimpleRNN keep Keras's one bias in one slot (recurrent for the LSTM, input for SimpleRNN); the
    /// GRU's (2, 3U) bias maps row 0 to the input slots and row 1 to the recurrent ones.
    private func kerasBiasOffset(layer id: Int) -> Int? {
        let gates = kerasGates, n = gates.count
        let gate = gates[id % n]
        switch kind {
        case .lstm: return id < n ? nil : gate * units
        case .simpleRNN: return id == 0 ? 0 : nil
        case .gru: return (id < n ? 0 : 3 * units) + gate * units
        }
    }

    /// The `RNNWeightLayout` of cuda/tensor.cu: layers, inputs, units, then per layer its Keras gate,
    /// matrix offset, bias offset and Keras bias offset (−1 for a slot kept zero).
    private var layout: [Int32] {
        let n = kerasGates.count
        return CUDABackend.smallIntegers([2 * n, inputs, units], (0..<(2 * n)).map { kerasGates[$0 % n] }, matrixOffsets, biasOffsets,
                                         (0..<(2 * n)).map { kerasBiasOffset(layer: $0) ?? -1 })
    }

    /// Scalars the pack and unpack kernels run over: every layer's (units, max(inputs, units) + 1).
    private var packScalars: Int { 2 * kerasGates.count * units * (Swift.max(inputs, units) + 1) }

    /// Keras's kernel (D, G), recurrent kernel (U, G) and bias in a new weight space (one launch).
    func packedWeights(kernel: Tensor, recurrentKernel: Tensor, bias: Tensor) throws -> Tensor {
        let space = backend.make([weightBytes / 4])
        backend.context.launch("recur_rnn_pack_weights", total: packScalars,
                               [.pointer(backend.address(kernel)), .pointer(backend.address(recurrentKernel)), .pointer(backend.address(bias)),
                                .pointer(backend.address(space)), .ints(layout)])
        return space
    }

    /// Keras's (dKernel, dRecurrentKernel, dBias) from a weight-space gradient (one launch). Both cuDNN
    /// biases of one Keras bias get the same gradient, so Keras's is that of the slot it was packed into.
    func kerasGradients(_ dWeights: Tensor, kernelShape: [Int], biasShape: [Int]) -> (Tensor, Tensor, Tensor) {
        let dKernel = backend.make(kernelShape), dRecurrent = backend.make([units, kerasGates.count * units]), dBias = backend.make(biasShape)
        backend.context.launch("recur_rnn_unpack_gradients", total: packScalars,
                               [.pointer(backend.address(dWeights)), .pointer(backend.address(dKernel)), .pointer(backend.address(dRecurrent)),
                                .pointer(backend.address(dBias)), .ints(layout)])
        return (dKernel, dRecurrent, dBias)
    }

}

/// Device bytes for cuDNN's workspace or reserve space, kept alive by whoever holds it.
final class CUDAScratch {
    let bytes: Int
    private let memory: Tensor
    var pointer: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: UInt((memory.memory as! CUDAMemory).address)) }

    init(_ backend: CUDABackend, bytes: Int) {
        self.bytes = bytes
        memory = backend.make([(bytes + 3) / 4])
    }
}

/// What a cuDNN RNN call over one batch shape needs: the input and output sequence descriptors, the
/// state descriptor, each row's length on the device, and the temporary-space sizes per mode.
final class CuDNNCallShape {
    let input: CuDNNSequenceDescriptor, output: CuDNNSequenceDescriptor
    let state: CuDNNTensorDescriptor
    let deviceLengths: Tensor
    private var sizes: [Int32: (workspace: Int, reserve: Int)] = [:]
    private unowned let rnn: CuDNNRNN
    private unowned let backend: CUDABackend

    init(_ rnn: CuDNNRNN, backend: CUDABackend, batch: Int, time: Int, lengths: [Int32], inputs: Int, units: Int) throws {
        self.rnn = rnn
        self.backend = backend
        input = try CuDNNSequenceDescriptor(features: inputs, lengths: lengths, time: time)
        output = try CuDNNSequenceDescriptor(features: units, lengths: lengths, time: time)
        state = try CuDNNTensorDescriptor()
        try CUDAContext.check(recur_cudnnSetTensorNdDescriptor(state.descriptor, 0, 3, [1, Int32(batch), Int32(units)],
                                                               [Int32(batch * units), Int32(units), 1]), "cudnnSetTensorNdDescriptor")
        deviceLengths = backend.deviceIntegers(lengths)
    }

    /// The workspace and reserve bytes of a call in `mode` (0 inference, 1 training).
    func temporaryBytes(mode: Int32) throws -> (workspace: Int, reserve: Int) {
        if let known = sizes[mode] { return known }
        var workspace = 0, reserve = 0
        try CUDAContext.check(recur_cudnnGetRNNTempSpaceSizes(backend.context.cudnn, rnn.descriptor, mode, input.descriptor, &workspace, &reserve),
                              "cudnnGetRNNTempSpaceSizes")
        sizes[mode] = (workspace, reserve)
        return (workspace, reserve)
    }

    /// A workspace and, in training (mode 1), a reserve space for one call.
    func temporarySpaces(mode: Int32) throws -> (workspace: CUDAScratch, reserve: CUDAScratch?) {
        let (workspace, reserve) = try temporaryBytes(mode: mode)
        return (CUDAScratch(backend, bytes: workspace), mode == 1 ? CUDAScratch(backend, bytes: reserve) : nil)
    }
}

/// A cuDNN tensor descriptor, destroyed with its owner.
final class CuDNNTensorDescriptor {
    let descriptor: recur_cudnn_tensor_desc

    init() throws {
        var d: recur_cudnn_tensor_desc?
        try CUDAContext.check(recur_cudnnCreateTensorDescriptor(&d), "cudnnCreateTensorDescriptor")
        descriptor = d!
    }

    func dimensions() throws -> [Int] {
        var type: Int32 = 0, rank: Int32 = 0
        var dims = [Int32](repeating: 0, count: 8), strides = [Int32](repeating: 0, count: 8)
        try CUDAContext.check(recur_cudnnGetTensorNdDescriptor(descriptor, 8, &type, &rank, &dims, &strides), "cudnnGetTensorNdDescriptor")
        return dims.prefix(Int(rank)).map(Int.init)
    }

    deinit { _ = recur_cudnnDestroyTensorDescriptor(descriptor) }
}

/// A cuDNN RNN data descriptor: (B, T, features) batch-major with per-row lengths, padding filled with 0.
final class CuDNNSequenceDescriptor {
    let descriptor: recur_cudnn_rnn_data_desc

    init(features: Int, lengths: [Int32], time: Int) throws {
        var d: recur_cudnn_rnn_data_desc?
        try CUDAContext.check(recur_cudnnCreateRNNDataDescriptor(&d), "cudnnCreateRNNDataDescriptor")
        descriptor = d!
        var fill: Float = 0
        try CUDAContext.check(recur_cudnnSetRNNDataDescriptor(descriptor, 0, 2 /* BATCH_MAJOR_UNPACKED */, Int32(time), Int32(lengths.count),
                                                              Int32(features), lengths, &fill), "cudnnSetRNNDataDescriptor")
    }

    deinit { _ = recur_cudnnDestroyRNNDataDescriptor(descriptor) }
}

