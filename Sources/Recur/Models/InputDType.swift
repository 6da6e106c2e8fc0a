import Foundation

/// The element type an `Input` declares (Keras's `Input(dtype=...)`). Recur computes in Float32;
/// as Keras converts inputs to the declared type first, values are converted the same way before the
/// first layer sees them: integers are truncated toward zero and saturate at the type's range (as
/// JAX's conversion of the input array does: −1.7 → 0 for uint8, 300 → 127 for int8; NaN → 0),
/// `float16`/`bfloat16` round to that precision.
///
/// An integer input must go straight into an `Embedding` (token ids): elsewhere (a merge layer, an
/// activation, a Dense) Keras keeps integer arithmetic or converts in ways Recur does not imitate, so
/// such a model is refused when it is read.
public enum InputDType: String, Sendable, CaseIterable {
    case float32, float64, float16, bfloat16
    case int8, int16, int32, int64, uint8, uint16, uint32, uint64

    /// Whether values are whole numbers of this type.
    public var isInteger: Bool { ![.float32, .float64, .float16, .bfloat16].contains(self) }

    /// Whether a layer takes integer inputs the way Recur computes them: an Embedding looks ids up.
    /// (Other layers given integers in Keras were seen to differ from float32 inputs of the same values.)
    static func layerComputesInFloat(_ layer: Layer) -> Bool {
        layer is Embedding
    }

    /// `values` converted to this type and back to Float32.
    func convert(_ values: Tensor) throws -> Tensor {
        let converted: [Float]
        switch self {
        case .float32, .float64:
            return values
        case .float16:
            converted = try values.hostScalars().map { Float(Float16($0)) }
        case .bfloat16:
            converted = try values.hostScalars().map { x in
                guard x.isFinite else { return x }
                let bits = x.bitPattern
                let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)  // round to nearest even on the top 16 bits
                return Float(bitPattern: rounded & 0xFFFF_0000)
            }
        default:
            let (low, high) = range
            converted = try values.hostScalars().map { x in x.isNaN ? 0 : Float(Swift.min(Swift.max(Double(x).rounded(.towardZero), low), high)) }
        }
        return try Tensor(shape: values.shape, scalars: converted)
    }

    /// The integer type's range (conversion saturates there, as XLA's does).
    private var range: (Double, Double) {
        switch self {
        case .int8: return (-128, 127)
        case .int16: return (-32768, 32767)
        case .int32: return (-2_147_483_648, 2_147_483_647)
        case .uint8: return (0, 255)
        case .uint16: return (0, 65535)
        case .uint32: return (0, 4_294_967_295)
        case .uint64: return (0, Double(UInt64.max))
        default: return (Double(Int64.min), Double(Int64.max))
        }
    }
}
