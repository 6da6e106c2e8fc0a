import Foundation

/// `model.summary()` in Keras 3's table format (as Keras prints it on an 80-column terminal):
/// one row per layer with "name (Class)", output shape (`None` for unknown), parameter count and, for
/// functional models that are not a plain chain (`isSequentialLike`), the "Connected to" column; then
/// total, trainable and non-trainable counts with their memory size, and the optimizer's once it is
/// built (`optimizerParameterCount`).
extension Model {
    /// The summary text.
    public func summaryText() -> String {
        let functional = !isSequentialLike
        let columns = functional ? [19, 17, 10, 17] : [31, 22, 13]
        let headers = functional ? ["Layer (type)", "Output Shape", "Param #", "Connected to"] : ["Layer (type)", "Output Shape", "Param #"]
        var lines = ["Model: \"\(name)\""]
        func border(_ left: String, _ fill: String, _ mid: String, _ right: String) -> String {
            left + columns.map { String(repeating: fill, count: $0 + 2) }.joined(separator: mid) + right
        }
        func row(_ cells: [[String]], vertical: String) -> [String] {
            let height = cells.map(\.count).max() ?? 1
            return (0..<height).map { i in
                let parts = cells.enumerated().map { (k, cell) -> String in
                    let text = i < cell.count ? cell[i] : ""
                    let pad = String(repeating: " ", count: max(0, columns[k] - TerminalCells.count(Substring(text))))
                    return " " + (k == 2 ? pad + text : text + pad) + " "
                }
                return vertical + parts.joined(separator: vertical) + vertical
            }
        }
        lines.append(border("┏", "━", "┳", "┓"))
        lines += row(headers.map { [$0] }, vertical: "┃")
        lines.append(border("┡", "━", "╇", "┩"))
        let rows = summaryRows()
        for (i, r) in rows.enumerated() {
            var cells = [wrapWords("\(r.name) (\(r.className))", width: columns[0]),
                         wrapWords(r.shape, width: columns[1]),
                         [groupedThousands(r.parameters)]]
            if functional {
                // One cell listing every call's inputs, wrapped like the other cells.
                cells.append(wrapWords(r.connections.isEmpty ? "-" : r.connections.joined(separator: ", "), width: columns[3]))
            }
            lines += row(cells, vertical: "│")
            lines.append(i < rows.count - 1 ? border("├", "─", "┼", "┤") : border("└", "─", "┴", "┘"))
        }
        if rows.isEmpty { lines.append(border("└", "─", "┴", "┘")) }
        let weights = parameterCount, optimizerScalars = optimizerParameterCount
        let total = weights + (optimizerScalars ?? 0)
        let trainable = trainableVariables.reduce(0) { $0 + $1.value.count }
        lines.append(" Total params: \(groupedThousands(total)) (\(readableBytes(total * 4)))")
        lines.append(" Trainable params: \(groupedThousands(trainable)) (\(readableBytes(trainable * 4)))")
        lines.append(" Non-trainable params: \(groupedThousands(weights - trainable)) (\(readableBytes((weights - trainable) * 4)))")
        if let optimizerScalars { lines.append(" Optimizer params: \(groupedThousands(optimizerScalars)) (\(readableBytes(optimizerScalars * 4)))") }
        return lines.joined(separator: "\n")
    }

    /// Whether Keras prints the summary as a Sequential's, without "Connected to" (its `print_summary`
    /// rule): a Sequential, or a functional model whose calls each take at most one tensor (no initial
    /// state, no mask argument: no mask ops in its Keras file), call no layer twice and lie at distinct
    /// depths (a node's depth is its longest distance to an output) — a chain from one input, whose
    /// outputs may be taken along the way.
    var isSequentialLike: Bool {
        if self is Sequential { return true }
        guard !KerasWeightsFile.hasMaskOps(self) else { return false }
        func parents(_ node: GraphNode) -> [SymbolicTensor] { node.layer is InputLayer ? [] : node.inputs + node.initialState }
        var depth: [ObjectIdentifier: Int] = [:], calledLayers = Set<ObjectIdentifier>()
        for t in outputs { depth[ObjectIdentifier(t.node)] = 0 }
        // `nodes` runs parents first: from the last, a node's depth is final before its parents'.
        for node in nodes.reversed() {
            guard parents(node).count <= 1, calledLayers.insert(ObjectIdentifier(node.layer)).inserted else { return false }
            guard let d = depth[ObjectIdentifier(node)] else { continue }
            for parent in parents(node) { depth[ObjectIdentifier(parent.node)] = Swift.max(depth[ObjectIdentifier(parent.node)] ?? 0, d + 1) }
        }
        return Set(depth.values).count == depth.count
    }

    /// The scalars of the optimizer's variables once it is built, which Keras's summary counts (its
    /// `optimizer.variables`, each 4 bytes): the step count, the learning rate unless a schedule sets
    /// it, every slot of every trainable weight, Nadam's schedule product. nil while it is not built.
    var optimizerParameterCount: Int? {
        guard let optimizer = compiled?.optimizer, optimizer.isBuilt else { return nil }
        let slots = KerasOptimizerState.trainableVariables(of: self).reduce(0) { total, v in
            total + optimizer.stateShapes(for: v.shape).reduce(0) { $0 + $1.reduce(1, *) }
        }
        return KerasOptimizerState.headCount(optimizer) + slots + KerasOptimizerState.trailingScalars(optimizer).count
    }

    /// Prints the summary (Keras's `summary(print_fn=)`: `printer` receives the whole table).
    public func summary(print printer: (String) -> Void = { Swift.print($0) }) { printer(summaryText()) }

    struct SummaryRow {
        let name: String
        let className: String
        let shape: String
        let parameters: Int
        let connections: [String]
    }

    /// One row per layer (per node for functional models, InputLayers included; none for a Sequential's
    /// input), and for a functional model whose masks Keras computes with ops, one per op as well.
    func summaryRows() -> [SummaryRow] {
        if let sequential = self as? Sequential {
            return sequential.layers.enumerated().map { i, layer in
                let shape = i < sequential.layerOutputShapes.count ? describeShapes([sequential.layerOutputShapes[i]]) : "?"
                return SummaryRow(name: layer.name, className: layer.className, shape: shape, parameters: layer.parameterCount, connections: [])
            }
        }
        // Keras's `model.layers` order; a layer called several times lists the inputs of every call.
        let order = KerasWeightsFile.kerasLayerOrder(self)
        if KerasWeightsFile.hasMaskOps(self), let rows = rowsWithMaskOps(order: order) { return rows }
        let callsOf = callsByLayer
        return order.compactMap { layer in
            guard let calls = callsOf[ObjectIdentifier(layer)] else { return nil }
            let links = calls.flatMap { node in
                (node.inputs + node.initialState).map { "\($0.node.layer.name)[\($0.node.callIndex)][\($0.index)]" }
            }
            return SummaryRow(name: layer.name, className: layer.className, shape: describeShapes(calls[0].outputShapes),
                              parameters: layer.parameterCount, connections: links)
        }
    }
}

extension Model {
    /// The rows Keras lists for a functional model whose masks it computes with ops (`NotEqual`, `Any`,
    /// ... as `KerasMaskOpWriter` writes them): from the config Recur writes, every entry in Keras's
    /// order with the mask ops among the layers, and each call's inputs the mask arguments included.
    /// nil when that config cannot be written or ordered.
    func rowsWithMaskOps(order: [Layer]) -> [SummaryRow]? {
        guard let config = try? KerasConfig.functionalConfig(of: self, order: order), let entries = config["config"]?["layers"]?.array,
              let names = KerasLayerOrder.names(functionalConfig: config, includingOps: true) else { return nil }
        var entryNamed: [String: JSONValue] = [:], outputShape: [String: [Int?]] = [:]
        for entry in entries {
            guard let name = KerasConfig.entryName(entry) else { return nil }
            entryNamed[name] = entry
            for reference in KerasLayerOrder.callInputs(of: entry).joined() where reference.call == 0 && reference.index == 0 {
                if let shape = reference.shape { outputShape[reference.producer] = shape }
            }
        }
        let layerNamed = Dictionary(order.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let callsOf = callsByLayer
        let opName = fileMaskOpNames(writtenEntries: entries)
        var rows: [SummaryRow] = []
        for name in names {
            guard let entry = entryNamed[name] else { return nil }
            let links = KerasLayerOrder.callInputs(of: entry).joined().map { reference in
                var renamed = reference
                renamed.producer = opName[reference.producer] ?? reference.producer
                return renamed.description
            }
            if KerasMaskGraph.isMaskOp(entry) {
                guard let className = entry["class_name"]?.string, let shape = outputShape[name] else { return nil }
                rows.append(SummaryRow(name: opName[name] ?? name, className: className, shape: summaryShape(shape), parameters: 0,
                                       connections: links))
            } else {
                guard let layer = layerNamed[name], let calls = callsOf[ObjectIdentifier(layer)] else { return nil }
                rows.append(SummaryRow(name: name, className: layer.className, shape: describeShapes(calls[0].outputShapes),
                                       parameters: layer.parameterCount, connections: links))
            }
        }
        return rows
    }
}

/// A mask op of the Keras file a model was read from: its name, class and the tensors it reads,
/// by which the ops Recur writes find theirs.
struct FileMaskOp {
    let name: String
    let className: String
    let inputs: [KerasLayerOrder.TensorReference]
}

extension Model {
    /// The names of the mask ops Recur writes (`entries`, its config's layers) as the Keras file the
    /// model was read from names them. A written op takes the file's first op of its class that reads
    /// the same tensors, so the two may list them in different orders; where some op finds none, the
    /// file's ops are taken in order when the two lists agree class by class, else none are renamed.
    func fileMaskOpNames(writtenEntries entries: [JSONValue]) -> [String: String] {
        guard let fileOps = kerasFileMaskOps else { return [:] }
        let written = entries.filter(KerasMaskGraph.isMaskOp).map { entry in
            FileMaskOp(name: KerasConfig.entryName(entry) ?? "", className: entry["class_name"]?.string ?? "",
                       inputs: Array(KerasLayerOrder.callInputs(of: entry).joined()))
        }
        guard written.count == fileOps.count else { return [:] }
        if let matched = matchMaskOpsByInputs(written: written, file: fileOps) { return matched }
        guard zip(written, fileOps).allSatisfy({ $0.className == $1.className }) else { return [:] }
        return Dictionary(zip(written.map(\.name), fileOps.map(\.name)), uniquingKeysWith: { first, _ in first })
    }

    /// Written op name → file op name, matching class and inputs (an input that is itself a written
    /// op is compared under its matched name); nil when some op stays unmatched. Recur writes an op
    /// after those it reads, so one pass in its order matches them all; the file's ops are looked up
    /// by class and inputs (linear in the number of ops, which a file may make large).
    private func matchMaskOpsByInputs(written: [FileMaskOp], file: [FileMaskOp]) -> [String: String]? {
        func key(_ className: String, _ inputs: [String]) -> String { ([className] + inputs).joined(separator: "\u{0}") }
        var unmatched: [String: [String]] = [:]
        for op in file.reversed() { unmatched[key(op.className, op.inputs.map(\.description)), default: []].append(op.name) }
        let writtenNames = Set(written.map(\.name))
        var names: [String: String] = [:]
        for op in written {
            var inputs: [String] = []
            for input in op.inputs {
                guard writtenNames.contains(input.producer) else { inputs.append(input.description); continue }
                guard let renamed = names[input.producer] else { return nil }
                var reference = input
                reference.producer = renamed
                inputs.append(reference.description)
            }
            guard let name = unmatched[key(op.className, inputs)]?.popLast() else { return nil }
            names[op.name] = name
        }
        return names.count == written.count ? names : nil
    }
}

/// `(None, 64)` for one output, `[(None, 64), (None, 64)]` for several.
func describeShapes(_ shapes: [[Int?]]) -> String {
    shapes.count == 1 ? summaryShape(shapes[0]) : "[" + shapes.map(summaryShape).joined(separator: ", ") + "]"
}

/// A shape as Keras's summary writes it: `(None, 64)`, and `(None)` for one axis (its `format_shape`
/// joins the axes, without Python's trailing comma of a one-element tuple).
func summaryShape(_ shape: [Int?]) -> String { "(" + shape.map { $0.map(String.init) ?? "None" }.joined(separator: ", ") + ")" }

/// Greedy word wrap at spaces, as Keras's table (rich) wraps a cell, measuring in terminal cells
/// (`TerminalCells`): a word wider than the width gets a line of its own, cut to width − 1 cells and
/// "…" (a wide character that would straddle the cut becomes a space). Linear in the text's length.
func wrapWords(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    var current = "", currentCells = 0
    for word in text.split(separator: " ", omittingEmptySubsequences: false) {
        let cells = TerminalCells.count(word)
        let (fitted, fittedCells) = cells > width ? (cut(word, toCells: width - 1) + "…", width) : (String(word), cells)
        if current.isEmpty {
            (current, currentCells) = (fitted, fittedCells)
        } else if currentCells + 1 + fittedCells <= width {
            current += " " + fitted
            currentCells += 1 + fittedCells
        } else {
            lines.append(current)
            (current, currentCells) = (fitted, fittedCells)
        }
    }
    lines.append(current)
    return lines
}

/// The longest start of `word` that takes at most `cells` terminal cells, padded with spaces to
/// exactly `cells` (where the next character is wide and would not fit).
private func cut(_ word: Substring, toCells cells: Int) -> String {
    var kept = "", used = 0
    for character in word {
        let width = TerminalCells.count(Substring(String(character)))
        if used + width > cells { break }
        kept.append(character)
        used += width
    }
    return kept + String(repeating: " ", count: cells - used)
}

/// 164106 → "164,106".
func groupedThousands(_ n: Int) -> String {
    let digits = String(abs(n))
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}

/// Keras's memory size text: 656424 → "641.04 KB" (powers of 1024, two decimals).
func readableBytes(_ bytes: Int) -> String {
    var size = Double(bytes)
    for unit in ["B", "KB", "MB", "GB", "TB"] {
        if size / 1024 < 1 { return String(format: "%.2f", size) + " " + unit }
        size /= 1024
    }
    return String(format: "%.2f", size) + " PB"
}
