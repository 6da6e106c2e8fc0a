/// The limits Recur applies to everything it reads from files it did not write (`.keras`, `.weights.h5`,
/// `.npy`/`.npz`, IDX, `config.json`), in one place.
///
/// Sizes, counts, indices and string lengths taken from a file are checked against these limits and
/// against the file's own size *before* any allocation or loop. A file beyond a limit is refused with a
/// `RecurError` that names the file, the field, the limit and the value found; none of them is reached
/// by any model Keras itself writes for a machine of this size.
///
/// | limit | value | why |
/// |---|---|---|
/// | `maxArchiveEntryBytes` | 4 GiB | an inflated ZIP entry (ZIP without ZIP64 cannot declare more) |
/// | `maxConfigBytes` | 64 MiB | `config.json`, `metadata.json` (real ones are kilobytes) |
/// | `maxDecompressedBytes` | 2 GiB | a gzip stream (IDX data sets); Fashion-MNIST is 47 MB |
/// | `maxRank` | 8 | any tensor shape read from a file |
/// | `maxElements` | 2³⁰ | one tensor (4 GiB of Float32) |
/// | `maxUnits` | 2²⁴ | a width from `config.json` (`units`, `input_dim`, `output_dim`, ...) |
/// | `maxRepeats` | 2¹⁶ | `RepeatVector`'s `n` (each repeat is a time step the next layer runs) |
/// | `maxLayers` | 100,000 | layers or layer calls in one `config.json` |
/// | `maxHDF5Objects` | 1,000,000 | groups and datasets visited in one weights file |
/// | `maxNestingDepth` | 64 | nested layers (wrappers, models) and `.npy` header literals |
///
/// Parameters: a model read from a file may hold at most as many weights as its weights file can
/// store (each weight needs at least two bytes, as float16), so a 1 KB file cannot declare a
/// 100 GB model. Weights are never initialised on load: the file's values replace zeros.
public enum UntrustedLimits {
    public static let maxArchiveEntryBytes = 1 << 32
    public static let maxConfigBytes = 64 << 20
    public static let maxDecompressedBytes = 2 << 30
    public static let maxRank = 8
    public static let maxElements = 1 << 30
    public static let maxUnits = 1 << 24
    public static let maxRepeats = 1 << 16
    public static let maxLayers = 100_000
    public static let maxHDF5Objects = 1_000_000
    public static let maxNestingDepth = 64

    /// The number of elements of `shape`, or nil when a dimension is negative or the product
    /// overflows or exceeds `maxElements`.
    public static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (m, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, m <= maxElements else { return nil }
            count = m
        }
        return count
    }
}
