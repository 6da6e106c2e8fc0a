import CRecurKernels

/// The LSTM step as one C kernel (`recur_lstm_step`, AVX-512 or AVX2), for blocks of more than a few rows: a
/// tile's gate pre-activations z = x·W + b + hₜ₋₁·U, from x read in place, stay in registers and go
/// straight through the gates, where a projection GEMM, the step product and the gate kernel write
/// x·W + b and z (4·units floats a row each) to memory and read them back. W and U are packed once per
/// sequence into blocks of 16 units' four gates.
struct LSTMStepKernel {
    static let available = StepMatrix.kernelAvailable && recur_lstm_step_available() != 0

    private let units: Int
    private let packedRecurrentKernel: Tensor
    /// W (features, 4·units) packed, and the bias (4·units), for steps that compute x·W + b themselves.
    private let packedKernel: Tensor
    private let features: Int
    private let bias: Tensor

    /// nil when this CPU has no such kernel or a product has at most 4 rows (then the few-row product
    /// kernel is faster).
    init?(recurrentKernel: Tensor, inputKernel: Tensor, bias: Tensor, rowsPerProduct: Int) {
        guard Self.available, rowsPerProduct > 4 else { return nil }
        units = recurrentKernel.shape[0]
        packedRecurrentKernel = Self.pack(recurrentKernel.detached)
        packedKernel = Self.pack(inputKernel.detached)
        features = inputKernel.shape[0]
        self.bias = bias.detached
    }

    private static func pack(_ weight: Tensor) -> Tensor {
        let (k, units) = (weight.shape[0], weight.shape[1] / 4)
        let packed = Tensor(uninitializedShape: [recur_lstm_packed_size(k, units)])
        recur_lstm_pack(weight.base, k, units, packed.base)
        return packed
    }

    /// One step of `rows` rows of x (features floats each, `stride` apart): writes c and h, and for a
    /// backward pass the activations [i, f, g, o] (rows, 4·units) and tanh(c) (rows, units).
    func step(input x: UnsafePointer<Float>, stride: Int, previous: StepCarries<UnsafePointer<Float>>,
              current: StepCarries<UnsafeMutablePointer<Float>>, rows: Int, activations: UnsafeMutablePointer<Float>?,
              tanhC: UnsafeMutablePointer<Float>?) {
        recur_lstm_step(x, stride, packedKernel.base, features, bias.base, previous[0], packedRecurrentKernel.base,
                        previous[1], current[1], current[0], activations, tanhC, rows, units)
    }
}
