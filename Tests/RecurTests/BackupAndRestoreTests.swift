import Foundation
import Testing
@testable import Recur

/// BackupAndRestore: a `recur train` process killed (SIGKILL) in the middle of an epoch and started
/// again with the same options ends with exactly the weights of a run that was never interrupted.
@Suite("BackupAndRestore resumes a killed run exactly")
struct BackupAndRestoreTests {
    /// The `recur` executable SwiftPM built beside the tests.
    static let recur = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/recur")

    /// Runs `recur` and returns its exit status and standard output; with `watched`, kills it with
    /// SIGKILL as soon as that file exists.
    static func run(_ arguments: [String], killWhenExists watched: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = recur
        process.arguments = arguments
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("recur-run-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = FileHandle.nullDevice
        try process.run()
        if let watched {
            while process.isRunning && !FileManager.default.fileExists(atPath: watched) { usleep(2_000) }
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: log), as: UTF8.self))
    }

    /// Runs `recur` to its end and returns whether it exited with a non-zero status and its standard
    /// error (for commands that must refuse before doing any work).
    static func refusal(_ arguments: [String]) throws -> (failed: Bool, standardError: String) {
        try #require(FileManager.default.fileExists(atPath: recur.path), "build the recur executable first (swift build)")
        let process = Process()
        process.executableURL = recur
        process.arguments = arguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationReason == .exit && process.terminationStatus != 0, text)
    }

    @Test func aKilledRunResumesBitExact() throws {
        try #require(FileManager.default.fileExists(atPath: Self.recur.path), "build the recur executable first (swift build)")
        try #require(FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory), "needs Debian's dataset-fashion-mnist")
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let common = ["train", "--epochs", "2", "--limit", "3200", "--units", "16", "--batch-size", "32", "--seed", "5", "--optimizer", "adam"]

        #expect(try Self.run(common + ["--save", file("uninterrupted.npz")]).status == 0)

        let resumable = common + ["--resume", file("backup"), "--backup-steps", "10", "--save", file("resumed.npz")]
        _ = try Self.run(resumable, killWhenExists: file("backup/backup.recur"))
        try #require(!FileManager.default.fileExists(atPath: file("resumed.npz")), "the first run was killed before it finished")
        let resumed = try Self.run(resumable)
        #expect(resumed.status == 0)
        #expect(resumed.output.contains("Resuming from the backup at epoch 1, step 10"), "the second run resumed mid-epoch")

        let a = try NumpyFile.loadNpz(path: file("uninterrupted.npz")), b = try NumpyFile.loadNpz(path: file("resumed.npz"))
        #expect(a.keys.sorted() == b.keys.sorted() && !a.isEmpty)
        for (key, t) in a { #expect(t.scalars == b[key]?.scalars, "\(key) differs after resuming") }
        #expect(!FileManager.default.fileExists(atPath: file("backup/backup.recur")), "the backup is removed when training ends")
    }

    @Test func aBackupForOtherDataIsRefused() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = withFreshLayerNames { Sequential([Dense(1)], inputShape: [2]) }
        try model.compile(optimizer: "adam", loss: "mse")
        let backup = BackupAndRestore(directory: dir.path, saveEverySteps: 1, deleteWhenDone: false)
        try model.fit(Tensor.zeros([4, 2]), Tensor.zeros([4, 1]), batchSize: 2, epochs: 1, callbacks: [backup], verbose: 0)
        #expect(throws: RecurError.self) {
            try model.fit(Tensor.zeros([6, 2]), Tensor.zeros([6, 1]), batchSize: 2, epochs: 2, callbacks: [backup], verbose: 0)
        }
    }
}

/// `recur train` checks every option before reading data or training (the crashes and silent
/// successes issue 10 lists), and refuses a --save it could not write.
@Suite("recur train refuses bad options up front")
struct TrainOptionTests {
    @Test(arguments: [
        (["--epochs=-1"], "--epochs must be at least 1"), (["--epochs", "0"], "--epochs must be at least 1"),
        (["--units=-1"], "--units must be in 1...65536"), (["--units", "0"], "--units must be in 1...65536"),
        (["--limit=-5"], "--limit must be 0"), (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--save", "/nonexistent-dir/m.keras"], "does not exist"), (["--save", "m.txt"], "--save must end in"),
        // On a machine without a usable NVIDIA GPU (CI): refused with the reason (no driver, no device, ...).
        (["--device", "cuda"], "--device cuda: "), (["--device", "gpu"], "'auto', 'cpu' or 'cuda'"),
    ])
    func badOptionsFailBeforeAnyWork(_ options: [String], _ message: String) throws {
        let (failed, text) = try BackupAndRestoreTests.refusal(["train", "--data-dir", "/nonexistent-data"] + options)
        #expect(failed)
        // The data directory does not exist: the option error comes first, so nothing was read.
        #expect(text.contains(message), "\(options): \(text)")
    }
}
