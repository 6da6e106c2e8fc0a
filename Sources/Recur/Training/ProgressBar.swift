import Foundation

/// Keras's progress bar for `fit`/`evaluate`/`predict`:
///
///     938/938 [==============================] - 6s 5ms/step - loss: 0.9510 - accuracy: 0.7029
///
/// On a terminal it is redrawn in place after each step (with an ETA); when output is not a terminal
/// (pipes, CI logs, `tee`) the finished line is printed, and before it a short line every
/// `heartbeatInterval` seconds (10) so that long runs show life:
///
///     300/938 - 12s - ETA: 25s - loss: 1.0412 - accuracy: 0.6630
///
/// `verbose: 2` prints one short line per epoch.
public final class ProgressBar {
    public let target: Int
    public let verbose: Int
    public let isTerminal: Bool
    private let write: (String) -> Void
    private let start = Date()
    private var lastLength = 0
    /// Seconds between the short progress lines printed when output is not a terminal.
    public var heartbeatInterval: TimeInterval = 10
    private var lastHeartbeat: TimeInterval = 0

    public init(target: Int, verbose: Int = 1, isTerminal: Bool = isatty(STDOUT_FILENO) != 0,
                write: @escaping (String) -> Void = writeToStandardOutput) {
        self.target = target
        self.verbose = verbose
        self.isTerminal = isTerminal
        self.write = write
    }

    /// Reports progress after step `current` (1-based) with the running values.
    public func update(_ current: Int, values: Logs, finalize: Bool = false, elapsed: TimeInterval? = nil) {
        let seconds = elapsed ?? Date().timeIntervalSince(start)
        let done = finalize || (target > 0 && current >= target)
        switch verbose {
        case 1 where isTerminal || done:
            let line = ProgressBar.line(current: current, target: target, seconds: seconds, done: done, values: values)
            if isTerminal {
                let padding = String(repeating: " ", count: max(0, lastLength - line.count))
                write("\r" + line + padding + (done ? "\n" : ""))
                lastLength = line.count
            } else {
                write(line + "\n")
            }
        case 1 where seconds - lastHeartbeat >= heartbeatInterval:
            lastHeartbeat = seconds
            let eta = seconds / Double(max(current, 1)) * Double(max(target - current, 0))
            let text = values.description
            write("\(current)/\(target <= 0 ? "Unknown" : String(target)) - \(Int(seconds.rounded()))s"
                  + (target > 0 ? " - ETA: \(ProgressBar.formatETA(eta))" : "") + (text.isEmpty ? "" : " - " + text) + "\n")
        case 2 where done:
            let stepTime = ProgressBar.formatStepTime(seconds / Double(max(current, 1)))
            let text = values.description
            write("\(current)/\(target) - \(Int(seconds.rounded()))s - \(stepTime)\(text.isEmpty ? "" : " - " + text)\n")
        default:
            break
        }
    }

    /// The text of one progress line (public for tests and custom loggers).
    public static func line(current: Int, target: Int, seconds: TimeInterval, done: Bool, values: Logs) -> String {
        // An unknown number of steps (a data source without `stepsPerEpoch`), as Keras prints it.
        if target <= 0 && !done {
            return "\(String(repeating: " ", count: max(0, 7 - String(current).count)))\(current)/Unknown - \(Int(seconds.rounded()))s"
        }
        let target = target <= 0 ? current : target
        let digits = String(target).count
        let count = String(repeating: " ", count: max(0, digits - String(current).count)) + String(current)
        let width = 30
        let filled = Int(Double(width) * Double(current) / Double(max(target, 1)))
        var bar = "["
        if filled > 0 {
            bar += String(repeating: "=", count: filled - 1)
            bar += current < target ? ">" : "="
        }
        bar += String(repeating: ".", count: width - filled) + "]"
        var text = "\(count)/\(target) \(bar)"
        if done {
            text += " - \(Int(seconds.rounded()))s \(formatStepTime(seconds / Double(max(current, 1))))"
        } else {
            let eta = seconds / Double(max(current, 1)) * Double(target - current)
            text += " - ETA: \(formatETA(eta))"
        }
        let logged = values.description
        if !logged.isEmpty { text += " - " + logged }
        return text
    }

    static func formatStepTime(_ perStep: TimeInterval) -> String {
        if perStep >= 1 { return "\(Int(perStep.rounded()))s/step" }
        if perStep >= 1e-3 { return "\(Int((perStep * 1e3).rounded()))ms/step" }
        return "\(Int((perStep * 1e6).rounded()))us/step"
    }

    static func formatETA(_ eta: TimeInterval) -> String {
        let s = Int(eta.rounded())
        if s > 3600 { return String(format: "%d:%02d:%02d", s / 3600, (s % 3600) / 60, s % 60) }
        if s > 60 { return String(format: "%d:%02d", s / 60, s % 60) }
        return "\(s)s"
    }
}

/// Writes to standard output through the same buffer as `print`, then flushes, so progress lines and
/// printed text stay in order when output goes to a file or pipe.
public func writeToStandardOutput(_ text: String) {
    print(text, terminator: "")
    fflush(nil)  // every output stream: stdout is a C global Swift 6 will not read concurrently
}
