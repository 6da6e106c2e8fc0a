import CRecurCUDA
import Foundation

/// One cuDNN RNN configuration — a kind, D inputs, U units — with its descriptor and weight-space
/// layout (../shared/GPU.md §3, §5): where each linear layer's matrix and bias lie in the weight space,
/// asked of cuDNN (`cudnnGetRNNWeightParams`) and checked against the shapes cuDNN must give.
final class CuDNNRNN {
    let kind: RecurrenceKind
    let descriptor: recur_cudnn_rnn_desc
    let weightBytes: Int
    /// Per linear layer (linLayerID order): the scalar offsets of its matrix and bias in the weight space.
    private let matrixOffsets: [Int], biasOffsets: [Int]
    private let inputs: Int, units: Int
    private unowned let backend: CUDABackend

    init(_ backend: CUDABackend, kind: RecurrenceKind, inputs: Int, units: Int) throws {
        self.backend = backend
        self.kind = kind
        self.inputs = inputs
        self.units = units
        let cudnn = backend.context.cudnn
        var descriptor: recur_cudnn_rnn_desc?
        try CUDAContext.check(recur_cudnnCreateRNNDescriptor(&descriptor), "cudnnCreateRNNDescriptor")
        self.descriptor = descriptor!
        let cell: Int32 = switch kind {
        case .simpleRNN: 1 // RNN_TANH
        case .lstm: 2
        case .gru: 3
        }
        // ALGO_STANDARD, DOUBLE_BIAS, UNIDIRECTIONAL, LINEAR_INPUT, FLOAT data and math, FMA_MATH (no TF32),
        // projection = units, one layer, no dropout, padded IO enabled.
        try CUDAContext.check(recur_cudnnSetRNNDescriptor_v8(descriptor, 0, cell, 2, 0, 0, 0, 0, 3, Int32(inputs), Int32(units), Int32(units), 1,
                                                             backend.noDropout(), 1), "cudnnSetRNNDescriptor_v8")
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

    /// Keras's kernel (D, G), recurrent kernel (U, G) and bias in a new weight space.
    func packedWeights(kernel: Tensor, recurrentKernel: Tensor, bias: Tensor) throws -> Tensor {
        let space = backend.filled(0, shape: [weightBytes / 4])
        let n = kerasGates.count, G = n * units
        for id in 0..<(2 * n) {
            let (source, rows) = id < n ? (kernel, inputs) : (recurrentKernel, units)
            backend.context.launch("recur_block_transpose", total: units * rows,
                                   [.pointer(backend.address(source)), .int(G), .int(kerasGates[id % n] * units), .int(rows), .int(units),
                                    .pointer(backend.address(space) + UInt64(matrixOffsets[id] * 4))])
            if let offset = kerasBiasOffset(layer: id) {
                try CUDAContext.check(recur_cuMemcpyDtoDAsync_v2(backend.address(space) + UInt64(biasOffsets[id] * 4),
                                                                 backend.address(bias) + UInt64(offset * 4), units * 4, backend.context.stream), "cuMemcpyDtoD")
            }
        }
        return space
    }

    /// Keras's (dKernel, dRecurrentKernel, dBias) from a weight-space gradient. Both cuDNN biases of one
    /// Keras bias get the same gradient, so Keras's is that of the slot it was packed into.
    func kerasGradients(_ dWeights: Tensor, kernelShape: [Int], biasShape: [Int]) -> (Tensor, Tensor, Tensor) {
        let n = kerasGates.count, G = n * units
        let dKernel = backend.make(kernelShape), dRecurrent = backend.make([units, G]), dBias = backend.make(biasShape)
        for id in 0..<(2 * n) {
            let (target, rows) = id < n ? (dKernel, inputs) : (dRecurrent, units)
            backend.context.launch("recur_block_untranspose", total: units * rows,
                                   [.pointer(backend.address(dWeights) + UInt64(matrixOffsets[id] * 4)), .pointer(backend.address(target)),
                                    .int(G), .int(kerasGates[id % n] * units), .int(rows), .int(units)])
            if let offset = kerasBiasOffset(layer: id) {
                CUDAContext.require(recur_cuMemcpyDtoDAsync_v2(backend.address(dBias) + UInt64(offset * 4),
                                                               backend.address(dWeights) + UInt64(biasOffsets[id] * 4), units * 4,
                                                               backend.context.stream), "cuMemcpyDtoD")
            }
        }
        return (dKernel, dRecurrent, dBias)
    }

    /// A batch-major padded sequence descriptor of `features` per step with each row's length.
    func sequence(features: Int, lengths: [Int32], time: Int) throws -> CuDNNSequenceDescriptor {
        try CuDNNSequenceDescriptor(features: features, lengths: lengths, time: time)
    }

    /// The (1, B, U) descriptor of h and c.
    func stateDescriptor(batch: Int) throws -> CuDNNTensorDescriptor {
        let d = try CuDNNTensorDescriptor()
        try CUDAContext.check(recur_cudnnSetTensorNdDescriptor(d.descriptor, 0, 3, [1, Int32(batch), Int32(units)],
                                                               [Int32(batch * units), Int32(units), 1]), "cudnnSetTensorNdDescriptor")
        return d
    }

    /// The workspace and (for training, mode 1) the reserve space a call with these inputs needs.
    func temporarySpaces(mode: Int32, data: recur_cudnn_rnn_data_desc) throws -> (workspace: CUDAScratch, reserve: CUDAScratch?) {
        var workspace = 0, reserve = 0
        try CUDAContext.check(recur_cudnnGetRNNTempSpaceSizes(backend.context.cudnn, descriptor, mode, data, &workspace, &reserve),
                              "cudnnGetRNNTempSpaceSizes")
        return (CUDAScratch(backend, bytes: workspace), mode == 1 ? CUDAScratch(backend, bytes: reserve) : nil)
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

