import Foundation

/// TFRecord framing, the container of TensorBoard event files: each record is
///
///     length: UInt64 LE | masked CRC-32C of the 8 length bytes: UInt32 LE | data[length] | masked CRC-32C of data: UInt32 LE
///
/// Written by hand: it is four fields, and no listed package reads or writes it.
enum TFRecord {
    /// One record holding `payload`.
    static func frame(_ payload: Data) -> Data {
        var length = Data()
        length.appendLE(UInt64(payload.count))
        var record = length
        record.appendLE(CRC32C.masked(length))
        record.append(payload)
        record.appendLE(CRC32C.masked(payload))
        return record
    }

    /// The payloads of the records in `data`, read from the file `path` (named in errors). Every length
    /// is checked against the bytes left before it is used and every checksum is verified. A record cut
    /// short at the very end (a writer still running or killed) ends the list when `allowTruncatedTail`.
    static func records(in data: Data, path: String, allowTruncatedTail: Bool = true) throws -> [Data] {
        let bytes = BoundedBytes(data: data, path: path, what: "TFRecord file")
        var payloads: [Data] = []
        var offset = 0
        while offset < bytes.count {
            let header = try? bytes.bytes(offset, 12, "record header")
            guard let header else {
                if allowTruncatedTail { break }
                throw bytes.fail("truncated record header at offset \(offset)")
            }
            let length = UInt64(try bytes.u32(offset)) | UInt64(try bytes.u32(offset + 4)) << 32
            guard try bytes.u32(offset + 8) == CRC32C.masked(header.prefix(8)) else {
                throw bytes.fail("record at offset \(offset): the length's checksum does not match")
            }
            let left = UInt64(bytes.count - offset - 12)
            guard length <= left, left - length >= 4 else {
                if allowTruncatedTail { break }
                throw bytes.fail("record at offset \(offset) claims \(length) bytes, \(left) remain")
            }
            let payload = try bytes.bytes(offset + 12, Int(length), "record data")
            guard try bytes.u32(offset + 12 + Int(length)) == CRC32C.masked(payload) else {
                throw bytes.fail("record at offset \(offset): the data's checksum does not match")
            }
            payloads.append(payload)
            offset += 12 + Int(length) + 4
        }
        return payloads
    }
}
