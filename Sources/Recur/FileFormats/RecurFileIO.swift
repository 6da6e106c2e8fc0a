import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads and atomic writes with `RecurError.io` errors.
///
/// An atomic write goes to a temporary file beside the destination — created with `O_EXCL` and mode
/// 0600, so nobody else can read a half-written model — then is flushed and renamed over the
/// destination, so readers see either the old file or the complete new one. The temporary file is
/// removed on every error path, and on SIGINT, SIGTERM or SIGHUP once
/// `RecurFileIO.removeTemporaryFilesOnSignals()` has been called (the `recur` CLI does); only SIGKILL
/// can leave one behind, named `.NAME.recur-tmp-UUID`.
public enum RecurFileIO {
    /// The contents of the file at `path`.
    static func read(path: String) throws -> Data {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw RecurError.io(path: path, message: "file not found")
        }
        guard !isDir.boolValue else { throw RecurError.io(path: path, message: "is a directory, not a file") }
        // Devices, pipes and sockets could block or never end: only regular files are read.
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw RecurError.io(path: path, message: "is not a regular file (a device, pipe or socket)")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw RecurError.io(path: path, message: "cannot read: \(error.localizedDescription)")
        }
    }

    /// Throws unless a file can be created at `path`: its directory exists and is writable, and
    /// `path` is not a directory. For checking a destination before long work.
    public static func checkWritable(_ path: String) throws {
        let dest = URL(fileURLWithPath: path)
        let dir = dest.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw RecurError.io(path: path, message: "directory \(dir) does not exist")
        }
        guard access(dir, W_OK | X_OK) == 0 else {
            throw RecurError.io(path: path, message: "directory \(dir) is not writable")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw RecurError.io(path: path, message: "is a directory, not a file")
        }
    }

    /// Writes `data` to a private temporary file in the destination's directory, then renames it over
    /// `path`. The finished file gets the usual mode (0666 less the umask).
    public static func writeAtomically(_ data: Data, path: String) throws {
        let dest = URL(fileURLWithPath: path)
        let tmp = dest.deletingLastPathComponent()
            .appendingPathComponent(".\(dest.lastPathComponent).recur-tmp-\(UUID().uuidString)").path
        func fail(_ what: String) -> RecurError {
            RecurError.io(path: path, message: "\(what): \(String(cString: strerror(errno)))")
        }
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail("cannot create a temporary file in its directory") }
        TemporaryFiles.shared.add(tmp)
        defer { TemporaryFiles.shared.remove(tmp) }
        var closed = false
        do {
            try data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw fail("cannot write") }
                    offset += n
                }
            }
            let mask = umask(0)
            umask(mask)
            guard fchmod(fd, 0o666 & ~mask) == 0, fsync(fd) == 0 else { throw fail("cannot finish writing") }
            closed = true
            guard Glibc.close(fd) == 0 else { throw fail("cannot finish writing") }
            guard rename(tmp, dest.path) == 0 else { throw fail("cannot move the finished file into place") }
        } catch {
            if !closed { _ = Glibc.close(fd) }
            unlink(tmp)
            throw error
        }
    }

    /// Removes unfinished temporary files when the process gets SIGINT, SIGTERM or SIGHUP, then exits
    /// with status 128 + the signal, as the default action would. Call once, early (the CLI does).
    public static func removeTemporaryFilesOnSignals() {
        TemporaryFiles.shared.installSignalHandlers()
    }
}

/// The temporary files being written now, for removal on a signal.
final class TemporaryFiles: @unchecked Sendable {
    static let shared = TemporaryFiles()
    private var paths = Set<String>()
    private let lock = NSLock()
    private var sources: [DispatchSourceSignal] = []

    func add(_ path: String) { lock.lock(); paths.insert(path); lock.unlock() }
    func remove(_ path: String) { lock.lock(); paths.remove(path); lock.unlock() }

    func installSignalHandlers() {
        lock.lock(); defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [unowned self] in
                self.lock.lock()
                for path in self.paths { unlink(path) }
                self.lock.unlock()
                exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}
