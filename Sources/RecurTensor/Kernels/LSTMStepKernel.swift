import CRecurKernels

/// The LSTM step as one C kernel (`recur_lstm_step`, AVX-512), for blocks of more than a few rows: a
/// tile's gate pre-activations z = [x·W + b or the projection] + hₜ₋₁·U stay in registers and go straight
/// through the gates, where the product and gate kernels write z (4·units floats a row) to memory and
/// read it back. W and U are packed once per sequence into blocks of 16 units' four gates.
struct LSTMStepKernel {
    static let available = StepMatrix.kernelAvailable && recur_lstm_step_available() != 0

    private let units: Int
    private let packedRecurrentKernel: Tensor
    /// W (features, 4·units) packed, and the bias (4·units), when the kernel computes x·W + b itself.
    private let input: (packedKernel: Tensor, features: Int, bias: Tensor)?

    /// nil when this CPU has no such kernel or a product has at most 4 rows (then the few-row product
    /// kernel is faster). `inputKernel` and `bias`: given when the step is to read x itself (inference).
    init?(recurrentKernel: Tensor, inputKernel: Tensor?, bias: Tensor, rowsPerProduct: Int) {
        guard Self.available, rowsPerProduct > 4 else { return nil }
        units = recurrentKernel.shape[0]
        packedRecurrentKernel = Self.pack(recurrentKernel.detached)
        input = inputKernel.map { (Self.pack($0.detached), $0.shape[0], bias.detached) }
    }

    private static func pack(_ weight: Tensor) -> Tensor {
        let (k, units) = (weight.shape[0], weight.shape[1] / 4)
        let packed = Tensor(uninitializedShape: [recur_lstm_packed_size(k, units)])
        recur_lstm_pack(weight.base, k, units, packed.base)
        return packed
    }

    /// Whether the step reads x itself (`step(input:…)`).
    var readsInput: Bool { input != nil }

    /// One step of `rows` rows from their projection x·W + b (rows, 4·units), which receives the
    /// activations [i, f, g, o]; writes c, h and tanh(c) (rows, units each).
    func step(projection: UnsafeMutablePointer<Float>, previous: StepCarries<UnsafePointer<Float>>,
              current: StepCarries<UnsafeMutablePointer<Float>>, tanhC: UnsafeMutablePointer<Float>, rows: Int) {
        recur_lstm_step(nil, 0, nil, 0, nil, projection, previous[0], packedRecurrentKernel.base, previous[1],
                        current[1], current[0], projection, tanhC, rows, units)
    }

    /// One step of `rows` rows of x (features floats each, `stride` apart) for inference: writes c and h.
    func step(input x: UnsafePointer<Float>, stride: Int, previous: StepCarries<UnsafePointer<Float>>,
              current: StepCarries<UnsafeMutablePointer<Float>>, rows: Int) {
        guard let input else { preconditionFailure("this LSTM step kernel was built without the input kernel") }
        recur_lstm_step(x, stride, input.packedKernel.base, input.features, input.bias.base, nil, previous[0],
                        packedRecurrentKernel.base, previous[1], current[1], current[0], nil, nil, rows, units)
    }
}
