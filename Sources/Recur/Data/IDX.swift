import Foundation

/// The IDX file format of MNIST-style data sets, raw or gzip-compressed.
///
/// Layout (big-endian): two zero bytes, a type byte (0x08 = unsigned byte, the only type
/// supported here), a rank byte, then one UInt32 per dimension, then the elements in row-major
/// order. MNIST images are `00 00 08 03` (n, rows, cols) and labels `00 00 08 01` (n).
///
/// A file starting with the gzip magic `1f 8b` is inflated first (zlib, windowBits 15+16).
public enum IDX {
    /// Loads the IDX file at `path`; values are the raw bytes 0...255 as Float32 (no scaling).
    public static func load(path: String) throws -> Tensor {
        try read(RecurFileIO.read(path: path), path: path)
    }

    /// Parses IDX bytes (raw or gzip); `path` only names the source in errors.
    public static func read(_ data: Data, path: String) throws -> Tensor {
        var bytes = data
        if data.count >= 2, data[data.startIndex] == 0x1f, data[data.startIndex + 1] == 0x8b {
            // The IDX header inside sizes the data exactly: inflate it first, then inflate the whole
            // stream with that size as the cap, so a small file cannot decompress into gigabytes.
            let what = "gzip IDX file"
            let header = try Zlib.inflate(data, windowBits: 15 + 16, limit: 4 + 4 * 255, prefixOnly: true, path: path, what: what)
            let (shape, start) = try parseHeader(BoundedBytes(data: header, path: path, what: what))
            let total = start + UntrustedLimits.elementCount(shape)!
            bytes = try Zlib.inflate(data, windowBits: 15 + 16, sizeHint: total, limit: total, path: path, what: what)
        }
        let b = BoundedBytes(data: bytes, path: path, what: "IDX file")
        let (shape, start) = try parseHeader(b)
        let count = UntrustedLimits.elementCount(shape)!
        guard bytes.count - start == count else {
            throw b.fail("size mismatch: shape \(shape) needs \(count) data bytes, file has \(bytes.count - start)"
                         + (bytes.count - start < count ? " (truncated)" : ""))
        }
        let scalars = bytes.withUnsafeBytes { raw in
            [Float](unsafeUninitializedCapacity: count) { out, initialized in
                let src = raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + start
                for i in 0..<count { out[i] = Float(src[i]) }
                initialized = count
            }
        }
        return try Tensor(shape: shape, scalars: scalars)
    }

    /// The shape in an IDX header and the offset of the data after it; the element count is checked
    /// against `UntrustedLimits.maxElements`.
    static func parseHeader(_ b: BoundedBytes) throws -> (shape: [Int], dataStart: Int) {
        guard b.count >= 4 else { throw b.fail("truncated: \(b.count) bytes, too short for the 4-byte magic") }
        let magic = try b.u32BigEndian(0)
        let typeCode = (magic >> 8) & 0xFF, rank = Int(magic & 0xFF)
        guard magic >> 16 == 0 else {
            throw b.fail("wrong magic 0x\(String(magic, radix: 16, uppercase: true)) (not an IDX file; expected 0x00000801 labels or 0x00000803 images)")
        }
        guard typeCode == 0x08 else {
            throw b.fail("element type 0x\(String(typeCode, radix: 16)) is not supported (only 0x08, unsigned byte)")
        }
        guard rank >= 1 else { throw b.fail("wrong magic 0x\(String(magic, radix: 16)): rank 0") }
        var shape: [Int] = []
        for d in 0..<rank {
            shape.append(Int(try b.u32BigEndian(4 + 4 * d, "dimension \(d) of \(rank)")))
        }
        guard UntrustedLimits.elementCount(shape) != nil else {
            throw b.fail("shape \(shape) has more than \(UntrustedLimits.maxElements) elements")
        }
        return (shape, 4 + 4 * rank)
    }
}
