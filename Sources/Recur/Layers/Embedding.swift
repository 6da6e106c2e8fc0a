/// `Embedding(inputDim:outputDim:)`: maps whole-number ids (batch, time) to vectors (batch, time, outputDim)
/// by looking up rows of `embeddings` (inputDim, outputDim). With `maskZero`, id 0 is padding and the
/// layer emits the mask `ids != 0`.
public final class Embedding: Layer {
    public let inputDim: Int
    public let outputDim: Int
    public let maskZero: Bool
    public let embeddingsInitializer: Initializer
    public private(set) var embeddings: Variable?

    public init(inputDim: Int, outputDim: Int, maskZero: Bool = false,
                embeddingsInitializer: Initializer = .uniform(), name: String? = nil) {
        self.inputDim = inputDim
        self.outputDim = outputDim
        self.maskZero = maskZero
        self.embeddingsInitializer = embeddingsInitializer
        super.init(name: name)
        declaredInputShape = [nil]
    }

    public override var variables: [Variable] { embeddings.map { [$0] } ?? [] }

    public override func build(inputShapes: [[Int?]]) throws {
        embeddings = Variable(name: "embeddings", value: try embeddingsInitializer.make([inputDim, outputDim], for: name))
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        [inputShapes[0] + [outputDim]]
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        guard let embeddings else { throw RecurError.invalidArgument(errorSubject, "not built") }
        let ids = input.tensors[0]
        let out: Tensor
        do { out = try embeddings.value.gather(ids) } catch let error as RecurError {
            throw RecurError.invalidArgument(errorSubject, "input ids must be whole numbers in 0..<\(inputDim) (\(error))")
        }
        let mask = maskZero ? try ids.notEqual(Tensor(0)) : input.mask
        return LayerOutput([out], mask: mask)
    }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["input_dim": KerasValue.number(inputDim), "output_dim": KerasValue.number(outputDim),
         "embeddings_initializer": KerasValue.initializer(embeddingsInitializer), "mask_zero": .bool(maskZero)]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        a.ignore(["input_length", "lora_alpha"])
        return Embedding(inputDim: try a.width("input_dim"), outputDim: try a.width("output_dim"),
                         maskZero: try a.bool("mask_zero", default: false),
                         embeddingsInitializer: try a.initializer("embeddings_initializer", default: .uniform()), name: a.name)
    }
}
