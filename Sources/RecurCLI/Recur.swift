import ArgumentParser
import Recur

@main
struct RecurCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recur",
        abstract: "Keras-style recurrent neural networks in Swift.",
        version: recurVersion,
        subcommands: [Train.self, Guide.self, Bench.self, Predict.self, Fit.self, Summary.self, GPUCheck.self],
        defaultSubcommand: Train.self)
}
