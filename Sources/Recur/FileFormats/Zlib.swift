import Foundation
import CZlib

/// zlib helpers: CRC-32 and inflate of raw deflate (windowBits -15), zlib (15) or gzip (31) streams.
enum Zlib {
    /// The CRC-32 (ISO-HDLC, as used by ZIP and gzip) of `data`.
    static func crc32(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { raw -> UInt32 in
            var crc = CZlib.crc32(0, nil, 0)
            guard var p = raw.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return UInt32(crc) }
            var left = raw.count
            while left > 0 {
                let n = min(left, 1 << 30)
                crc = CZlib.crc32(crc, p, uInt(n))
                p += n
                left -= n
            }
            return UInt32(crc)
        }
    }

    /// `input` as a zlib stream (RFC 1950: what PNG's IDAT holds), at the default compression level.
    static func compress(_ input: Data) throws -> Data {
        var size = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(size))
        let status = input.withUnsafeBytes { raw in
            CZlib.compress2(&output, &size, raw.baseAddress?.assumingMemoryBound(to: Bytef.self), uLong(input.count), Z_DEFAULT_COMPRESSION)
        }
        guard status == Z_OK else { throw RecurError.io(path: "zlib", message: "compress2 failed (status \(status))") }
        return Data(output[0..<Int(size)])
    }

    /// Decompresses `input`. `windowBits` -15 is raw deflate, 15+16 gzip (concatenated gzip members
    /// are joined). `sizeHint` only sizes the first output buffer; output beyond `limit` bytes stops
    /// the inflation with an error (a "zip bomb" never allocates more than `limit` + 1 bytes). Corrupt
    /// or truncated streams throw `RecurError.io` naming `path`.
    ///
    /// With `prefixOnly`, inflation stops once `limit` bytes are out and returns them (the stream may
    /// go on): for reading a header that sizes the rest.
    static func inflate(_ input: Data, windowBits: Int32, sizeHint: Int = 0, limit: Int, prefixOnly: Bool = false,
                        path: String, what: String) throws -> Data {
        func fail(_ message: String) -> RecurError { .io(path: path, message: "\(what): \(message)") }
        guard !input.isEmpty else { throw fail("compressed stream is empty (truncated)") }
        guard input.count <= Int(UInt32.max) else { throw fail("compressed stream over 4 GiB is not supported") }

        var stream = z_stream()
        let initStatus = inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { throw fail("zlib inflateInit2 failed (status \(initStatus))") }
        defer { inflateEnd(&stream) }

        let capacity = limit < Int.max ? limit + 1 : limit
        var output = [UInt8](repeating: 0, count: min(max(sizeHint, 1 << 16), capacity))
        var produced = 0
        try input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: raw.baseAddress!.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(raw.count)
            while true {
                if prefixOnly, produced >= limit { return }
                if produced == output.count {
                    guard output.count < capacity else {
                        throw fail("decompresses to more than \(limit) bytes (declared size exceeded, or a decompression bomb)")
                    }
                    output.append(contentsOf: repeatElement(0, count: min(output.count, capacity - output.count)))
                }
                let status = output.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress! + produced
                    stream.avail_out = uInt(out.count - produced)
                    let s = CZlib.inflate(&stream, Z_NO_FLUSH)
                    produced = out.count - Int(stream.avail_out)
                    return s
                }
                switch status {
                case Z_STREAM_END where produced > limit:
                    throw fail("decompresses to more than \(limit) bytes (declared size exceeded, or a decompression bomb)")
                case Z_STREAM_END:
                    // Another gzip member may follow (as `cat a.gz b.gz` produces).
                    let rest = Int(stream.avail_in)
                    if windowBits > 15, rest >= 2 {
                        let at = raw.count - rest
                        if raw[at] == 0x1f, raw[at + 1] == 0x8b {
                            guard CZlib.inflateReset(&stream) == Z_OK else { throw fail("zlib inflateReset failed") }
                            continue
                        }
                    }
                    return
                case Z_OK:
                    if stream.avail_in == 0, stream.avail_out > 0 {
                        throw fail("compressed stream is truncated (ended before its end marker)")
                    }
                case Z_BUF_ERROR:
                    if stream.avail_out > 0 {
                        throw fail("compressed stream is truncated (ended before its end marker)")
                    }
                case Z_DATA_ERROR, Z_NEED_DICT:
                    let reason = stream.msg.map { String(cString: $0) } ?? "invalid data"
                    throw fail("corrupt compressed data (\(reason))")
                case Z_MEM_ERROR:
                    throw fail("zlib ran out of memory")
                default:
                    throw fail("zlib inflate failed (status \(status))")
                }
            }
        }
        return Data(output[0..<min(produced, prefixOnly ? limit : produced)])
    }
}
