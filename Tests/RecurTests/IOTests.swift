import CZlib
import Foundation
import Testing
@testable import Recur

// MARK: Helpers

/// A fresh temporary directory, removed when `body` returns.
private func withTempDirectory<R>(_ body: (URL) throws -> R) throws -> R {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recur-io-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    return try body(dir)
}

/// Runs `body` and checks it throws `RecurError.io` whose message contains `fragment` (case-insensitive).
private func expectIOError(_ fragment: String, sourceLocation: SourceLocation = #_sourceLocation,
                           _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected RecurError.io mentioning '\(fragment)', got no error", sourceLocation: sourceLocation)
    } catch let error as RecurError where error.kind == .io {
        let message = error.message
        #expect(message.lowercased().contains(fragment.lowercased()), "message: \(message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected RecurError.io, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Compresses with zlib's deflate: windowBits -15 raw deflate, 31 gzip.
private func zlibDeflate(_ input: Data, windowBits: Int32) -> Data {
    var stream = z_stream()
    precondition(deflateInit2_(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY,
                               ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK)
    defer { deflateEnd(&stream) }
    var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 64)
    var bytes = [UInt8](input)
    let produced = bytes.withUnsafeMutableBufferPointer { inp in
        out.withUnsafeMutableBufferPointer { o -> Int in
            stream.next_in = inp.baseAddress
            stream.avail_in = uInt(inp.count)
            stream.next_out = o.baseAddress
            stream.avail_out = uInt(o.count)
            precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END)
            return o.count - Int(stream.avail_out)
        }
    }
    return Data(out[0..<produced])
}

/// `.npy` bytes with an arbitrary header dict, version 1.0, data appended as given.
private func npyBytes(header: String, data: Data, magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) -> Data {
    var h = header
    h += String(repeating: " ", count: (64 - (10 + h.utf8.count + 1) % 64) % 64) + "\n"
    var out = Data(magic)
    out.append(contentsOf: [1, 0, UInt8(h.utf8.count & 0xFF), UInt8(h.utf8.count >> 8)])
    out.append(contentsOf: h.utf8)
    out.append(data)
    return out
}

private func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> Data {
    var d = Data()
    for v in values { d.appendLE(v) }
    return d
}

/// A ZIP archive built by hand with the given entries, deflated (method 8) where asked.
private func handBuiltZip(_ entries: [(name: String, data: Data, deflated: Bool)]) -> Data {
    var body = Data(), central = Data()
    for e in entries {
        let payload = e.deflated ? zlibDeflate(e.data, windowBits: -15) : e.data
        let crc = Zlib.crc32(e.data)
        let offset = UInt32(body.count)
        let name = Data(e.name.utf8)
        func common(_ d: inout Data) {
            d.appendLE(UInt16(20)); d.appendLE(UInt16(0)); d.appendLE(UInt16(e.deflated ? 8 : 0))
            d.appendLE(UInt16(0)); d.appendLE(UInt16(0x21)); d.appendLE(crc)
            d.appendLE(UInt32(payload.count)); d.appendLE(UInt32(e.data.count)); d.appendLE(UInt16(name.count))
        }
        body.appendLE(UInt32(0x0403_4b50)); common(&body); body.appendLE(UInt16(0)); body.append(name); body.append(payload)
        central.appendLE(UInt32(0x0201_4b50)); central.appendLE(UInt16(20)); common(&central)
        central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0))
        central.appendLE(UInt32(0)); central.appendLE(offset); central.append(name)
    }
    var out = body
    out.append(central)
    out.appendLE(UInt32(0x0605_4b50)); out.appendLE(UInt16(0)); out.appendLE(UInt16(0))
    out.appendLE(UInt16(entries.count)); out.appendLE(UInt16(entries.count))
    out.appendLE(UInt32(central.count)); out.appendLE(UInt32(body.count)); out.appendLE(UInt16(0))
    return out
}

/// IDX bytes for unsigned-byte data with the given shape.
private func idxBytes(shape: [Int], values: [UInt8]) -> Data {
    var d = Data([0, 0, 8, UInt8(shape.count)])
    for n in shape { d.append(contentsOf: [UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]) }
    d.append(contentsOf: values)
    return d
}

private func fixture(_ name: String) -> String {
    Bundle.module.resourceURL!.appendingPathComponent("Fixtures/io/\(name)").path
}

private func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }

// MARK: npy

@Suite("IOTests npy")
struct NpyIOTests {
    @Test("npy round trip is bit-exact", arguments: [[], [0], [5], [2, 3], [2, 0, 3], [2, 3, 4, 1]] as [[Int]])
    func roundTrip(shape: [Int]) throws {
        let special: [Float] = [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1 / 3]
        let n = shape.reduce(1, *)
        let t = try Tensor(shape: shape, scalars: (0..<n).map { special[$0 % special.count] + ($0 >= special.count ? Float($0) : 0) })
        let data = try NumpyFile.npyData(t)
        // Header padded so the data starts at a multiple of 64.
        #expect((data.count - 4 * n) % 64 == 0)
        let back = try NumpyFile.readNpy(data, path: "memory")
        #expect(back.shape == shape)
        #expect(bits(back) == bits(t))

        try withTempDirectory { dir in
            let path = dir.appendingPathComponent("t.npy").path
            try NumpyFile.saveNpy(t, path: path)
            let loaded = try NumpyFile.loadNpy(path: path)
            #expect(loaded.shape == shape && bits(loaded) == bits(t))
            // Only the destination remains: the temporary file was renamed over it.
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["t.npy"])
        }
    }

    @Test("hand-built npy of other dtypes converts to Float32")
    func otherDtypes() throws {
        var f8 = Data()
        for v in [1.5, -2.25, 1e300] as [Double] { f8.appendLE(v.bitPattern) }
        let a = try NumpyFile.readNpy(npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data: f8), path: "f8")
        #expect(a.shape == [3] && a.scalars == [1.5, -2.25, .infinity])

        let i8 = littleEndianBytes([Int64(-3), 0, 1 << 20, 42, -1, 7])
        let b = try NumpyFile.readNpy(npyBytes(header: "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }", data: i8), path: "i8")
        #expect(b.shape == [2, 3] && b.scalars == [-3, 0, 1_048_576, 42, -1, 7])

        let u1 = npyBytes(header: "{\"descr\": \"|u1\", \"fortran_order\": False, \"shape\": (4,)}", data: Data([0, 1, 128, 255]))
        #expect(try NumpyFile.readNpy(u1, path: "u1").scalars == [0, 1, 128, 255])

        let i1 = npyBytes(header: "{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }", data: Data([0xFF, 0x80]))
        #expect(try NumpyFile.readNpy(i1, path: "i1").scalars == [-1, -128])

        let b1 = npyBytes(header: "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", data: Data([1, 0, 1]))
        #expect(try NumpyFile.readNpy(b1, path: "b1").scalars == [1, 0, 1])

        // A Data slice whose indices do not start at 0.
        let slice = (Data([9, 9, 9]) + b1).dropFirst(3)
        #expect(slice.startIndex == 3)
        #expect(try NumpyFile.readNpy(slice, path: "slice").scalars == [1, 0, 1])

        let i4 = try NumpyFile.loadNpy(path: fixture("numpy_i4.npy"))
        #expect(i4.shape == [2, 2] && i4.scalars == [-1, 2, 3, -4])

        let scalar = npyBytes(header: "{'descr': '<u4', 'fortran_order': False, 'shape': (), }", data: littleEndianBytes([UInt32(9)]))
        let s = try NumpyFile.readNpy(scalar, path: "u4")
        #expect(s.shape == [] && s.scalars == [9])
    }

    @Test("npy versions 2.0 and 3.0 written by numpy are read")
    func laterVersions() throws {
        for name in ["numpy_v2.npy", "numpy_v3.npy"] {
            let t = try NumpyFile.loadNpy(path: fixture(name))
            #expect(t.shape == [2, 1, 3])
            #expect(t.scalars == [0, 1.5, 3, 4.5, 6, 7.5])
        }
    }

    @Test("npy written by numpy in big-endian order, as float16 or in Fortran order reads as numpy reads it")
    func byteOrdersHalfFloatsAndFortranOrder() throws {
        for name in ["numpy_f2", "numpy_be_f4", "numpy_be_f8", "numpy_be_i2", "numpy_be_u4", "numpy_fortran_f4", "numpy_fortran_be_f8"] {
            // numpy's own float32 C-order copy (scripts/make_npy_fixtures.py).
            let expected = try NumpyFile.loadNpy(path: fixture("\(name).expected.npy"))
            let read = try NumpyFile.loadNpy(path: fixture("\(name).npy"))
            #expect(read.shape == expected.shape && read.scalars == expected.scalars, "\(name)")
        }
        // Fortran order by hand: a (2, 3) array stored column by column.
        let columns = littleEndianBytes([1, 4, 2, 5, 3, 6].map { Float($0).bitPattern })
        let f = try NumpyFile.readNpy(npyBytes(header: "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", data: columns), path: "f")
        #expect(f.shape == [2, 3] && f.scalars == [1, 2, 3, 4, 5, 6])
    }

    @Test("bad npy files throw clear errors")
    func errors() {
        let f4 = littleEndianBytes([Float(1).bitPattern, Float(2).bitPattern])
        let good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
        expectIOError("bad magic") {
            _ = try NumpyFile.readNpy(npyBytes(header: good, data: f4, magic: Array("PK\u{3}\u{4}xx".utf8)), path: "m")
        }
        expectIOError("bad magic") { _ = try NumpyFile.readNpy(Data([0x93, 0x4E]), path: "short") }
        expectIOError("fortran_order") {
            _ = try NumpyFile.readNpy(npyBytes(header: "{'descr': '<f4', 'fortran_order': 'yes', 'shape': (2,), }", data: f4), path: "f")
        }
        expectIOError("object") {
            _ = try NumpyFile.readNpy(npyBytes(header: "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", data: Data(count: 16)), path: "o")
        }
        expectIOError("truncated") {
            _ = try NumpyFile.readNpy(npyBytes(header: "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 1), }", data: f4), path: "be")
        }
        expectIOError("truncated") {
            _ = try NumpyFile.readNpy(npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", data: f4), path: "t")
        }
        expectIOError("malformed header") {
            _ = try NumpyFile.readNpy(npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,", data: f4), path: "h")
        }
        expectIOError("malformed header") {
            _ = try NumpyFile.readNpy(npyBytes(header: "{'descr': '<f4', 'shape': (2,), }", data: f4), path: "h2")
        }
        expectIOError("unsupported dtype") {
            _ = try NumpyFile.readNpy(npyBytes(header: "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", data: f4), path: "c")
        }
        expectIOError("not found") { _ = try NumpyFile.loadNpy(path: "/nonexistent/recur/x.npy") }
        // Every truncation of a valid file throws instead of crashing.
        let valid = npyBytes(header: good, data: f4)
        for n in 0..<valid.count {
            #expect(throws: RecurError.self) { _ = try NumpyFile.readNpy(valid.prefix(n), path: "cut\(n)") }
        }
    }
}

// MARK: npz and zip

@Suite("IOTests npz and zip")
struct NpzIOTests {
    @Test("npz round trip with several arrays, read by ZipArchive too")
    func roundTrip() throws {
        let a = try Tensor(shape: [2, 3], scalars: [1, -2, 3.5, .nan, -0.0, .leastNormalMagnitude / 4])
        let b = Tensor(7)
        let c = Tensor.zeros([0, 4])
        try withTempDirectory { dir in
            let path = dir.appendingPathComponent("w.npz").path
            try NumpyFile.saveNpz([("kernel", a), ("step", b), ("empty", c)], path: path)
            let loaded = try NumpyFile.loadNpz(path: path)
            #expect(Set(loaded.keys) == ["kernel", "step", "empty"])
            #expect(loaded["kernel"]!.shape == [2, 3] && bits(loaded["kernel"]!) == bits(a))
            #expect(loaded["step"]!.shape == [] && loaded["step"]!.scalars == [7])
            #expect(loaded["empty"]!.shape == [0, 4])
            let archive = try ZipArchive(path: path)
            #expect(archive.entries.map(\.name) == ["kernel.npy", "step.npy", "empty.npy"])
            #expect(archive.entries.allSatisfy { $0.method == 0 })
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["w.npz"])
        }
        expectIOError("duplicate") {
            _ = try withTempDirectory { dir in try NumpyFile.saveNpz([("x", a), ("x", b)], path: dir.appendingPathComponent("d.npz").path) }
        }
    }

    @Test("npz files written by np.savez and np.savez_compressed are read")
    func numpyWritten() throws {
        for name in ["numpy_savez.npz", "numpy_savez_compressed.npz"] {
            let z = try NumpyFile.loadNpz(path: fixture(name))
            #expect(Set(z.keys) == ["a", "b", "c", "d", "e", "f"], "\(name)")
            #expect(z["a"]!.shape == [3, 4] && z["a"]!.scalars == (0..<12).map { Float($0) / 8 - 0.5 })
            #expect(z["b"]!.shape == [2, 3] && z["b"]!.scalars == [1, -2, 3, 1_048_576, 0, -7])
            #expect(z["c"]!.scalars == [0, 1, 255, 7])
            #expect(z["d"]!.scalars == [1, 0, 1])
            #expect(z["e"]!.shape == [] && z["e"]!.scalars == [3.25])
            #expect(z["f"]!.shape == [2, 1, 3] && z["f"]!.scalars == [0, 1.5, 3, 4.5, 6, 7.5])
        }
        let compressed = try ZipArchive(path: fixture("numpy_savez_compressed.npz"))
        #expect(compressed.entries.allSatisfy { $0.method == 8 })
    }

    @Test("a zip with a deflated entry is read; truncated and corrupt zips throw")
    func deflatedAndCorrupt() throws {
        let text = Data(String(repeating: "recurrent networks ", count: 200).utf8)
        let npy = try NumpyFile.npyData(try Tensor(shape: [3], scalars: [1, 2, 3]))
        let zip = handBuiltZip([("notes.txt", text, true), ("x.npy", npy, true), ("empty", Data(), true)])
        let archive = try ZipArchive(data: zip, path: "memory.zip")
        #expect(archive.entries.map(\.method) == [8, 8, 8])
        #expect(try archive.contents(named: "notes.txt") == text)
        #expect(try archive.contents(named: "empty").isEmpty)
        #expect(try NumpyFile.readNpy(archive.contents(named: "x.npy"), path: "x").scalars == [1, 2, 3])
        expectIOError("no entry") { _ = try archive.contents(named: "missing") }

        for n in 0..<zip.count {
            #expect(throws: RecurError.self) {
                let cut = try ZipArchive(data: zip.prefix(n), path: "cut.zip")
                for e in cut.entries { _ = try cut.contents(of: e) }
            }
        }
        expectIOError("end-of-central-directory") { _ = try ZipArchive(data: Data(count: 100), path: "zeros.zip") }

        // Flipping a byte of compressed data is caught by inflate or the CRC check.
        var corrupt = zip
        corrupt[40] ^= 0x55
        #expect(throws: RecurError.self) { _ = try ZipArchive(data: corrupt, path: "c.zip").contents(named: "notes.txt") }
        // Any single-byte corruption either reads or throws; it never crashes.
        for i in stride(from: 0, to: zip.count, by: 3) {
            var z = zip
            z[i] ^= 0xA5
            if let a = try? ZipArchive(data: z, path: "flip.zip") { for e in a.entries { _ = try? a.contents(of: e) } }
        }
    }

    @Test("ZIP64 archives are refused clearly")
    func zip64() throws {
        var zip = handBuiltZip([("a", Data([1]), false)])
        // Mark the end record's entry count as 0xFFFF, the ZIP64 escape value.
        zip[zip.count - 12] = 0xFF; zip[zip.count - 11] = 0xFF
        zip[zip.count - 14] = 0xFF; zip[zip.count - 13] = 0xFF
        expectIOError("ZIP64") { _ = try ZipArchive(data: zip, path: "z64.zip") }
    }

    @Test("numpy reads what Swift writes", .enabled(if: pythonHasNumpy()))
    func numpyInterop() throws {
        try withTempDirectory { dir in
            let npz = dir.appendingPathComponent("swift.npz").path
            let npy = dir.appendingPathComponent("swift.npy").path
            try NumpyFile.saveNpz([("a", try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4.5])), ("s", Tensor(-1))], path: npz)
            try NumpyFile.saveNpy(try Tensor(shape: [3], scalars: [0.25, -8, 1e-3]), path: npy)
            let script = """
            import numpy as np, zipfile, sys
            assert zipfile.ZipFile(sys.argv[1]).testzip() is None
            z = np.load(sys.argv[1])
            assert sorted(z.files) == ['a', 's'], z.files
            assert z['a'].dtype == np.float32 and z['a'].shape == (2, 2) and z['a'].tolist() == [[1, 2], [3, 4.5]]
            assert z['s'].shape == () and z['s'] == -1
            v = np.load(sys.argv[2])
            assert v.dtype == np.float32 and v.tolist() == np.array([0.25, -8, 1e-3], np.float32).tolist()
            print('ok')
            """
            let (status, output) = runPython(["-c", script, npz, npy])
            #expect(status == 0, "\(output)")
            #expect(output.contains("ok"))
        }
    }
}

private func runPython(_ args: [String]) -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3"] + args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    do { try p.run() } catch { return (-1, "\(error)") }
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: out, as: UTF8.self))
}

private func pythonHasNumpy() -> Bool { runPython(["-c", "import numpy"]).0 == 0 }

// MARK: IDX and data sets

@Suite("IOTests IDX and datasets")
struct IDXIOTests {
    @Test("IDX raw and gzip files load with the header's shape")
    func rawAndGzip() throws {
        let pixels = (0..<24).map { UInt8($0 * 10 + 5) }
        let images = idxBytes(shape: [2, 3, 4], values: pixels)
        let labels = idxBytes(shape: [2], values: [9, 0])
        try withTempDirectory { dir in
            let raw = dir.appendingPathComponent("images").path
            let gz = dir.appendingPathComponent("images.gz").path
            let labelsGz = dir.appendingPathComponent("labels.gz").path
            try images.write(to: URL(fileURLWithPath: raw))
            try zlibDeflate(images, windowBits: 31).write(to: URL(fileURLWithPath: gz))
            try zlibDeflate(labels, windowBits: 31).write(to: URL(fileURLWithPath: labelsGz))
            for path in [raw, gz] {
                let t = try IDX.load(path: path)
                #expect(t.shape == [2, 3, 4])
                #expect(t.scalars == pixels.map(Float.init))
            }
            let y = try IDX.load(path: labelsGz)
            #expect(y.shape == [2] && y.scalars == [9, 0])

            // Concatenated gzip members (as `cat a.gz b.gz` makes) are joined.
            var twoMembers = zlibDeflate(images.prefix(10), windowBits: 31)
            twoMembers.append(zlibDeflate(images.dropFirst(10), windowBits: 31))
            #expect(try IDX.read(twoMembers, path: "two.gz").scalars == pixels.map(Float.init))
        }
    }

    @Test("truncated, oversized, wrong-magic and corrupt IDX files throw")
    func errors() {
        let images = idxBytes(shape: [2, 3, 4], values: Array(repeating: 1, count: 24))
        expectIOError("size mismatch") { _ = try IDX.read(images.dropLast(), path: "short") }
        expectIOError("size mismatch") { _ = try IDX.read(images + Data([0]), path: "long") }
        expectIOError("truncated") { _ = try IDX.read(images.prefix(9), path: "header") }
        expectIOError("wrong magic") { _ = try IDX.read(Data([0x12, 0x34, 8, 3]) + images.dropFirst(4), path: "magic") }
        expectIOError("not supported") { _ = try IDX.read(Data([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]), path: "float") }
        let gz = zlibDeflate(images, windowBits: 31)
        expectIOError("truncated") { _ = try IDX.read(gz.prefix(gz.count / 2), path: "cut.gz") }
        var bad = gz
        bad[12] ^= 0xFF
        #expect(throws: RecurError.self) { _ = try IDX.read(bad, path: "bad.gz") }
        for n in 0..<gz.count {
            #expect(throws: RecurError.self) { _ = try IDX.read(gz.prefix(n), path: "cut\(n).gz") }
        }
        expectIOError("not found") { _ = try IDX.load(path: "/nonexistent/recur/idx") }
    }

    @Test("FashionMNIST and MNIST from a missing directory name what to install")
    func missing() throws {
        expectIOError("apt-get install dataset-fashion-mnist") {
            _ = try FashionMNIST.load(directory: "/nonexistent/recur/fashion-mnist")
        }
        try withTempDirectory { dir in
            // Directory present but a file missing.
            try idxBytes(shape: [1, 2, 2], values: [1, 2, 3, 4]).write(to: dir.appendingPathComponent("train-images-idx3-ubyte"))
            expectIOError("dataset-fashion-mnist") { _ = try FashionMNIST.load(directory: dir.path) }

            // All four files present, raw and gzip mixed.
            try zlibDeflate(idxBytes(shape: [1], values: [3]), windowBits: 31)
                .write(to: dir.appendingPathComponent("train-labels-idx1-ubyte.gz"))
            try idxBytes(shape: [2, 2, 2], values: Array(0..<8)).write(to: dir.appendingPathComponent("t10k-images-idx3-ubyte"))
            try idxBytes(shape: [2], values: [5, 6]).write(to: dir.appendingPathComponent("t10k-labels-idx1-ubyte"))
            let d = try MNIST.load(directory: dir.path)
            #expect(d.train.x.shape == [1, 2, 2] && d.train.y.scalars == [3])
            #expect(d.test.x.shape == [2, 2, 2] && d.test.y.scalars == [5, 6])

            // Label count must match image count.
            try idxBytes(shape: [3], values: [5, 6, 7]).write(to: dir.appendingPathComponent("t10k-labels-idx1-ubyte"))
            expectIOError("labels for 2 images") { _ = try MNIST.load(directory: dir.path) }
        }
    }

    @Test("the installed Fashion-MNIST loads with Keras's shapes",
          .enabled(if: FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory)))
    func installed() throws {
        let d = try FashionMNIST.load()
        #expect(d.train.x.shape == [60000, 28, 28])
        #expect(d.train.y.shape == [60000])
        #expect(d.test.x.shape == [10000, 28, 28])
        #expect(d.test.y.shape == [10000])
        for y in [d.train.y, d.test.y] {
            let labels = y.scalars
            #expect(labels.allSatisfy { $0 >= 0 && $0 <= 9 && $0 == $0.rounded() })
            #expect(Set(labels).count == 10)
        }
        let pixels = d.test.x.scalars
        #expect(pixels.min() == 0 && pixels.max() == 255)
    }
}
