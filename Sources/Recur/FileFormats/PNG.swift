import Foundation

/// 8-bit grayscale PNG files (what `recur train --show` writes: the predicted sample).
///
/// Written by hand because the format needed is tiny and zlib is already linked (no listed Swift
/// package writes PNG): the 8-byte signature, then chunks of length, type, data and the CRC-32 of type
/// and data — IHDR (width, height, bit depth 8, colour type 0 = grayscale), IDAT (the zlib stream of
/// the rows, each after a filter byte 0 = none) and IEND (PNG specification, ISO/IEC 15948).
public enum PNGImage {
    static let signature = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])

    /// The PNG file of a grayscale image: one byte per pixel, row by row.
    public static func grayscale(_ pixels: [UInt8], width: Int, height: Int) throws -> Data {
        guard width > 0, height > 0, width <= 1 << 16, height <= 1 << 16, pixels.count == width * height else {
            throw RecurError.invalidArgument(op: "PNGImage", message: "\(pixels.count) pixels for a \(width)×\(height) image")
        }
        var header = Data()
        header.appendBE(UInt32(width))
        header.appendBE(UInt32(height))
        header.append(contentsOf: [8, 0, 0, 0, 0])  // bit depth, grayscale, deflate, filter method 0, no interlace
        var rows = Data(capacity: (width + 1) * height)
        for r in 0..<height {
            rows.append(0)
            rows.append(contentsOf: pixels[(r * width)..<((r + 1) * width)])
        }
        return signature + chunk("IHDR", header) + chunk("IDAT", try Zlib.compress(rows)) + chunk("IEND", Data())
    }

    /// A (height, width) tensor of values in [0, 1] (larger values are clamped) as a grayscale PNG.
    public static func grayscale(_ image: Tensor) throws -> Data {
        let (height, width, values) = try image.grayscaleValues(for: "PNGImage")
        return try grayscale(values.map { UInt8(($0 * 255).rounded()) }, width: width, height: height)
    }

    private static func chunk(_ type: String, _ data: Data) -> Data {
        var out = Data()
        out.appendBE(UInt32(data.count))
        let body = Data(type.utf8) + data
        out.append(body)
        out.appendBE(Zlib.crc32(body))
        return out
    }
}

extension Tensor {
    /// A (height, width) image's values clamped to [0, 1] (NaN as 0), row by row; another rank
    /// throws, naming `op`.
    func grayscaleValues(for op: String) throws -> (height: Int, width: Int, values: [Float]) {
        guard rank == 2 else {
            throw RecurError.shapeMismatch(.op(op), what: "an image", expected: [nil, nil], actual: shape.map(Optional.some))
        }
        return (shape[0], shape[1], scalars.map { Swift.min(Swift.max($0.isNaN ? 0 : $0, 0), 1) })
    }
}

extension Data {
    /// Appends `value` in big-endian byte order (PNG's).
    mutating func appendBE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}
