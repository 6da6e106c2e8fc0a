/// `StackedRNNCells([cell₁, cell₂, ...])`: one step runs the cells in order, each cell's output feeding
/// the next. States are the concatenation of every cell's states; the output is the last cell's.
public final class StackedRNNCells: RecurrentCell {
    public let cells: [RecurrentCell]

    public init(_ cells: [RecurrentCell], name: String? = nil) {
        self.cells = cells
        super.init(name: name)
    }

    public override var className: String { "StackedRNNCells" }
    public override var stateShapes: [[Int]] { cells.flatMap(\.stateShapes) }
    public override var outputShapes: [[Int]] { cells.last?.outputShapes ?? [] }
    public override var variables: [Variable] { cells.flatMap(\.variables) }
    public override var sublayers: [Layer] { cells }

    public override func build(inputShapes: [[Int?]]) throws {
        var shapes = inputShapes
        for cell in cells {
            try cell.buildIfNeeded(inputShapes: shapes)
            let batch = shapes.first?.first ?? nil
            shapes = cell.outputShapes.map { [batch] + $0.map(Optional.some) }
        }
    }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["cells": .array(try cells.map(KerasLayerRegistry.entry(of:)))]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        guard let list = a.value("cells")?.array else { throw a.invalid("config is missing the list 'cells'") }
        let cells = try list.map { spec -> RecurrentCell in
            guard let cell = try KerasLayerRegistry.layer(from: spec, context: " in \(a.layer)", depth: a.depth + 1) as? RecurrentCell else {
                throw RecurError.unsupported(op: a.layer, message: "'cells' must hold recurrent cells")
            }
            return cell
        }
        return StackedRNNCells(cells, name: a.name)
    }

    public override func resetDropoutMasks() { cells.forEach { $0.resetDropoutMasks() } }

    public override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
        var x = inputs
        var newStates: [Tensor] = []
        var offset = 0
        for cell in cells {
            let n = cell.stateShapes.count
            let result = try cell.step(x, states: Array(states[offset..<(offset + n)]), training: training)
            x = result.outputs
            newStates += result.states
            offset += n
        }
        return (x, newStates)
    }
}
