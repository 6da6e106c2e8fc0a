import Foundation

/// Bounds-checked little/big-endian reads from a byte buffer; every failure is a `RecurError.io`
/// naming `path`, never a trap.
struct BoundedBytes {
    let data: Data
    let path: String
    /// What is being read, for error messages ("ZIP archive", "npy file", ...).
    let what: String

    var count: Int { data.count }

    func fail(_ message: String) -> RecurError { .io(path: path, message: "\(what): \(message)") }

    /// Throws unless `count` bytes starting at `offset` lie inside the buffer.
    func check(_ offset: Int, _ count: Int, _ field: String) throws {
        guard offset >= 0, count >= 0, offset <= data.count, count <= data.count - offset else {
            throw fail("truncated: \(field) needs \(count) bytes at offset \(offset), file has \(data.count)")
        }
    }

    func u8(_ offset: Int, _ field: String = "byte") throws -> UInt8 {
        try check(offset, 1, field)
        return data[data.startIndex + offset]
    }

    func u16(_ offset: Int, _ field: String = "16-bit field") throws -> UInt16 {
        try check(offset, 2, field)
        let b = data.startIndex + offset
        return UInt16(data[b]) | UInt16(data[b + 1]) << 8
    }

    func u32(_ offset: Int, _ field: String = "32-bit field") throws -> UInt32 {
        try check(offset, 4, field)
        let b = data.startIndex + offset
        return UInt32(data[b]) | UInt32(data[b + 1]) << 8 | UInt32(data[b + 2]) << 16 | UInt32(data[b + 3]) << 24
    }

    func u32BigEndian(_ offset: Int, _ field: String = "32-bit field") throws -> UInt32 {
        try check(offset, 4, field)
        let b = data.startIndex + offset
        return UInt32(data[b]) << 24 | UInt32(data[b + 1]) << 16 | UInt32(data[b + 2]) << 8 | UInt32(data[b + 3])
    }

    func bytes(_ offset: Int, _ count: Int, _ field: String) throws -> Data {
        try check(offset, count, field)
        let b = data.startIndex + offset
        return data.subdata(in: b..<(b + count))
    }
}

extension Data {
    /// Appends `value` in little-endian byte order.
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
