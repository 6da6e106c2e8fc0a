/// The `compile_config` that Keras writes into a compiled model's config.json: the optimizer (its
/// class, hyperparameters and learning-rate schedule), the losses, loss weights and metrics of
/// `model.compile(...)`. Keras's `load_model` compiles the model it loads with them, so that `fit`
/// goes on training it; `loadModel` does the same with Recur's equivalents, and `save(to:)` writes
/// one for a compiled model whose every part Keras has (not for a user's own optimizer subclass,
/// loss, metric or schedule: then the file is written without one, and loads uncompiled).
///
/// What Recur has no equivalent for (an optimizer option such as `use_ema`, a loss option such as
/// `label_smoothing`, per-output metric lists, a custom object) makes `compile` throw an error that
/// names it; the loader then leaves the model uncompiled and says why, as Keras warns and returns an
/// uncompiled model when it cannot compile one.
enum KerasCompileConfig {
    /// Compiles `model` as `compileConfig` says; `label` names the file in errors.
    static func compile(_ model: Model, from compileConfig: JSONValue, label: String) throws {
        let context = Reader(label: "\(label) compile_config")
        let optimizer = try context.optimizer(compileConfig["optimizer"] ?? .string("rmsprop"))
        let metrics = try context.metrics(compileConfig["metrics"], key: "metrics")
        let weightedMetrics = try context.metrics(compileConfig["weighted_metrics"], key: "weighted_metrics")
        let loss = compileConfig["loss"] ?? .null
        let lossWeights = compileConfig["loss_weights"] ?? .null
        if let byName = loss.object, loss["class_name"] == nil {
            var weights: [String: Float]?
            if !lossWeights.isNull {
                guard let named = lossWeights.object else {
                    throw context.unsupported("loss_weights \(KerasConfig.compactJSON(lossWeights)) with losses by output name")
                }
                weights = try named.mapValues { try context.number($0, "loss_weights") }
            }
            try model.compile(optimizer: optimizer, loss: try byName.mapValues { try context.loss($0) }, lossWeights: weights,
                              metrics: metrics, weightedMetrics: weightedMetrics)
            return
        }
        // No loss at all would train nothing (Keras's fit refuses it); a null in a list is an output without one.
        guard !loss.isNull else { throw context.unsupported("a compile config without a loss") }
        let losses = try (loss.array ?? [loss]).map { try context.loss($0) }
        let weights = try lossWeights.isNull ? nil : (lossWeights.array ?? [lossWeights]).map { try context.number($0, "loss_weights") }
        try model.compile(optimizer: optimizer, loss: losses.count == 1 ? Array(repeating: losses[0], count: max(model.outputShapes.count, 1)) : losses,
                          lossWeights: weights, metrics: metrics, weightedMetrics: weightedMetrics)
    }

    /// The compile config of `compiled` in Keras's form, or nil when a part of it has none.
    static func config(of compiled: CompiledState) -> JSONValue? {
        guard let optimizer = optimizerConfig(compiled.optimizer) else { return nil }
        var losses: [JSONValue] = []
        for loss in compiled.losses {
            guard let config = lossConfig(loss) else { return nil }
            losses.append(config)
        }
        func metricNames(_ perOutput: [[Metric]], weighted: Bool) -> JSONValue? {
            var names: [JSONValue] = []
            for metric in perOutput.first ?? [] {
                let name = weighted && metric.name.hasPrefix("weighted_") ? String(metric.name.dropFirst("weighted_".count)) : metric.name
                guard let entry = KerasMetricConfig.write(metric, loggedName: name) else { return nil }
                names.append(entry)
            }
            return names.isEmpty ? .null : .array(names)
        }
        guard let metrics = metricNames(compiled.metrics, weighted: false),
              let weightedMetrics = metricNames(compiled.weightedMetrics, weighted: true) else { return nil }
        return .object([
            "optimizer": optimizer, "loss": losses.count == 1 ? losses[0] : .array(losses),
            "loss_weights": compiled.lossWeights.allSatisfy { $0 == 1 } ? .null : .array(compiled.lossWeights.map { .float(Double($0)) }),
            "metrics": metrics, "weighted_metrics": weightedMetrics,
            "run_eagerly": .bool(false), "steps_per_execution": .number(1), "jit_compile": .bool(false),
        ])
    }

    private static func object(_ module: String, _ className: String, _ config: [String: JSONValue]) -> JSONValue {
        .object(["module": .string(module), "class_name": .string(className), "config": .object(config), "registered_name": .null])
    }

    /// An optimizer hyperparameter: Keras reads them as Python floats and refuses an int for
    /// `learning_rate` and SGD's `momentum`.
    private static func number(_ value: Float?) -> JSONValue { value.map { .float(Double($0)) } ?? .null }

    /// Keras's form of Recur's built-in optimizers (their exact classes: a subclass may update differently).
    private static func optimizerConfig(_ optimizer: Optimizer) -> JSONValue? {
        var learningRate = number(optimizer.learningRate)
        if let schedule = optimizer.learningRateSchedule {
            guard let config = scheduleConfig(schedule) else { return nil }
            learningRate = config
        }
        var config: [String: JSONValue] = ["learning_rate": learningRate, "clipnorm": number(optimizer.clipNorm),
                                           "clipvalue": number(optimizer.clipValue), "global_clipnorm": number(optimizer.globalClipNorm),
                                           "weight_decay": number(optimizer.weightDecay), "use_ema": .bool(optimizer.movingAverage != nil),
                                           "ema_momentum": number(optimizer.movingAverage?.momentum ?? 0.99),
                                           "ema_overwrite_frequency": optimizer.movingAverage?.overwriteFrequency.map { .number(Double($0)) } ?? .null,
                                           "gradient_accumulation_steps": optimizer.gradientAccumulationSteps.flatMap { $0 > 1 ? .number(Double($0)) : nil } ?? .null,
                                           "loss_scale_factor": number(optimizer.lossScaleFactor)]
        func betas(_ beta1: Float, _ beta2: Float, _ epsilon: Float?) {
            (config["beta_1"], config["beta_2"]) = (number(beta1), number(beta2))
            if let epsilon { config["epsilon"] = number(epsilon) }
        }
        guard let className = kerasClassName(optimizer) else { return nil }
        switch optimizer {
        case let sgd as SGD:
            (config["momentum"], config["nesterov"]) = (number(sgd.momentum), .bool(sgd.nesterov))
        case let adam as Adam:
            betas(adam.beta1, adam.beta2, adam.epsilon)
            config["amsgrad"] = .bool(adam.amsgrad)
        case let rmsprop as RMSprop:
            (config["rho"], config["momentum"], config["epsilon"]) = (number(rmsprop.rho), number(rmsprop.momentum), number(rmsprop.epsilon))
            config["centered"] = .bool(rmsprop.centered)
        case let adagrad as Adagrad:
            (config["initial_accumulator_value"], config["epsilon"]) = (number(adagrad.initialAccumulatorValue), number(adagrad.epsilon))
        case let adadelta as Adadelta:
            (config["rho"], config["epsilon"]) = (number(adadelta.rho), number(adadelta.epsilon))
        case let moments as MomentOptimizer: betas(moments.beta1, moments.beta2, moments.epsilon)
        case let lion as Lion: betas(lion.beta1, lion.beta2, nil)
        case let adafactor as Adafactor:
            (config["beta_2_decay"], config["epsilon_1"], config["epsilon_2"]) =
                (number(adafactor.betaTwoDecay), number(adafactor.epsilon1), number(adafactor.epsilon2))
            (config["clip_threshold"], config["relative_step"]) = (number(adafactor.clipThreshold), .bool(adafactor.relativeStep))
        case let ftrl as Ftrl:
            config["learning_rate_power"] = number(ftrl.learningRatePower)
            config["initial_accumulator_value"] = number(ftrl.initialAccumulatorValue)
            config["l1_regularization_strength"] = number(ftrl.l1RegularizationStrength)
            config["l2_regularization_strength"] = number(ftrl.l2RegularizationStrength)
            config["l2_shrinkage_regularization_strength"] = number(ftrl.l2ShrinkageRegularizationStrength)
            config["beta"] = number(ftrl.beta)
        default:
            return nil
        }
        return object("keras.optimizers", className, config)
    }

    /// The Keras class of one of Recur's built-in optimizers, nil for a subclass (which may update
    /// differently from the class Keras would build).
    static func kerasClassName(_ optimizer: Optimizer) -> String? {
        let builtIn: [Optimizer.Type] = [SGD.self, Adam.self, AdamW.self, RMSprop.self, Adagrad.self, Adadelta.self, Adamax.self, Nadam.self,
                                         Lamb.self, Lion.self, Ftrl.self, Adafactor.self]
        guard builtIn.contains(where: { $0 == type(of: optimizer) }) else { return nil }
        return optimizer.name
    }

    private static func scheduleConfig(_ schedule: any LearningRateSchedule) -> JSONValue? {
        let module = "keras.optimizers.schedules"
        switch schedule {
        case let s as ExponentialDecay:
            return object(module, "ExponentialDecay", ["initial_learning_rate": number(s.initialLearningRate), "decay_steps": .number(Double(s.decaySteps)),
                                                       "decay_rate": number(s.decayRate), "staircase": .bool(s.staircase)])
        case let s as CosineDecay:
            return object(module, "CosineDecay", ["initial_learning_rate": number(s.initialLearningRate), "decay_steps": .number(Double(s.decaySteps)),
                                                  "alpha": number(s.alpha), "warmup_target": number(s.warmupTarget),
                                                  "warmup_steps": .number(Double(s.warmupSteps))])
        case let s as PiecewiseConstantDecay:
            return object(module, "PiecewiseConstantDecay", ["boundaries": .array(s.boundaries.map { .number(Double($0)) }),
                                                             "values": .array(s.values.map { number($0) })])
        default:
            return nil
        }
    }

    private static func lossConfig(_ loss: any Loss) -> JSONValue? {
        let module = "keras.losses", reduction = JSONValue.string("sum_over_batch_size")
        func withLogits(_ className: String, _ fromLogits: Bool) -> JSONValue {
            object(module, className, ["name": .string(loss.name), "reduction": reduction, "from_logits": .bool(fromLogits)])
        }
        switch loss {
        case let l as SparseCategoricalCrossentropy: return withLogits("SparseCategoricalCrossentropy", l.fromLogits)
        case let l as CategoricalCrossentropy: return withLogits("CategoricalCrossentropy", l.fromLogits)
        case let l as BinaryCrossentropy: return withLogits("BinaryCrossentropy", l.fromLogits)
        case is MeanSquaredError: return object(module, "MeanSquaredError", ["name": .string(loss.name), "reduction": reduction])
        case is MeanAbsoluteError: return object(module, "MeanAbsoluteError", ["name": .string(loss.name), "reduction": reduction])
        case let l as Huber: return object(module, "Huber", ["name": .string(loss.name), "reduction": reduction, "delta": .float(Double(l.delta))])
        case is CosineSimilarity: return object(module, "CosineSimilarity", ["name": .string(loss.name), "reduction": reduction, "axis": .number(-1)])
        case is LogCosh, is MeanSquaredLogarithmicError, is MeanAbsolutePercentageError, is KLDivergence, is Poisson, is Hinge,
             is SquaredHinge, is CategoricalHinge, is CTC:
            return object(module, String(describing: type(of: loss)), ["name": .string(loss.name), "reduction": reduction])
        case let l as BinaryFocalCrossentropy:
            return object(module, "BinaryFocalCrossentropy", ["name": .string(loss.name), "reduction": reduction, "from_logits": .bool(l.fromLogits),
                                                              "apply_class_balancing": .bool(l.applyClassBalancing), "alpha": KerasValue.number(l.alpha),
                                                              "gamma": KerasValue.number(l.gamma), "label_smoothing": .float(0), "axis": .number(-1)])
        case let l as CategoricalFocalCrossentropy:
            return object(module, "CategoricalFocalCrossentropy", ["name": .string(loss.name), "reduction": reduction, "from_logits": .bool(l.fromLogits),
                                                                   "alpha": KerasValue.number(l.alpha), "gamma": KerasValue.number(l.gamma),
                                                                   "label_smoothing": .float(0), "axis": .number(-1)])
        case is ZeroLoss: return .null
        default: return nil
        }
    }

    /// Reads the parts of a compile config, naming the file in its errors.
    private struct Reader {
        let label: String

        func unsupported(_ what: String) -> RecurError {
            RecurError.unsupported(op: label, message: what)
        }

        func number(_ value: JSONValue?, _ key: String) throws -> Float {
            guard let number = value?.double, number.isFinite else {
                throw RecurError.invalidArgument(op: label, message: "'\(key)' must be a finite number, got \(value.map(KerasConfig.compactJSON) ?? "nothing")")
            }
            return Float(number)
        }

        func integer(_ value: JSONValue?, _ key: String, atLeast least: Int = Int.min) throws -> Int {
            guard let number = value?.double, number.isFinite, number.rounded() == number, abs(number) < 1e15, Int(number) >= least else {
                let bound = least == Int.min ? "" : " of at least \(least)"
                throw RecurError.invalidArgument(op: label, message: "'\(key)' must be an integer\(bound), got \(value.map(KerasConfig.compactJSON) ?? "nothing")")
            }
            return Int(number)
        }

        /// An optimizer by name, or a Keras optimizer object (`optimizerNamed`'s eleven) with the options
        /// Recur implements; any other option must have its default.
        func optimizer(_ value: JSONValue) throws -> Optimizer {
            if let name = value.string { return try optimizerNamed(name) }
            guard let className = value["class_name"]?.string, let config = value["config"]?.object else {
                throw unsupported("optimizer \(KerasConfig.compactJSON(value))")
            }
            func option(_ key: String, _ fallback: Float) throws -> Float {
                guard let v = config[key], !v.isNull else { return fallback }
                return try number(v, key)
            }
            /// An option Keras refuses below `least` (or above `most`), refused here too.
            func bounded(_ key: String, _ fallback: Float, least: Float = -.infinity, most: Float = .infinity) throws -> Float {
                let v = try option(key, fallback)
                guard v >= least, v <= most else {
                    throw RecurError.invalidArgument(op: label, message: "\(className) '\(key)' must be in [\(least), \(most)], got \(v)")
                }
                return v
            }
            func flag(_ key: String) -> Bool { config[key]?.bool ?? false }
            func optional(_ key: String) throws -> Float? { try config[key].flatMap { $0.isNull ? nil : try number($0, key) } }
            func count(_ key: String, atLeast least: Int) throws -> Int? {
                guard let v = config[key], !v.isNull else { return nil }
                return try integer(v, "\(className) \(key)", atLeast: least)
            }
            let (clipNorm, clipValue, globalClipNorm) = (try optional("clipnorm"), try optional("clipvalue"), try optional("global_clipnorm"))
            let weightDecay = try optional("weight_decay")
            let rate = config["learning_rate"] ?? .null
            let learningRate = rate.object == nil ? try option("learning_rate", className == "SGD" ? 0.01 : 0.001) : 0.001
            let (beta1, beta2, epsilon) = (try option("beta_1", 0.9), try option("beta_2", className == "Lion" ? 0.99 : 0.999), try option("epsilon", 1e-7))
            let optimizer: Optimizer
            switch className {
            case "SGD":
                optimizer = SGD(learningRate: learningRate, momentum: try option("momentum", 0), nesterov: flag("nesterov"), clipNorm: clipNorm,
                                clipValue: clipValue, globalClipNorm: globalClipNorm, weightDecay: weightDecay)
            case "Adam":
                optimizer = Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: flag("amsgrad"), clipNorm: clipNorm,
                                 clipValue: clipValue, globalClipNorm: globalClipNorm, weightDecay: weightDecay)
            case "AdamW":
                optimizer = AdamW(learningRate: learningRate, weightDecay: try option("weight_decay", 0.004), beta1: beta1, beta2: beta2, epsilon: epsilon,
                                  amsgrad: flag("amsgrad"), clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm)
            case "RMSprop":
                optimizer = RMSprop(learningRate: learningRate, rho: try option("rho", 0.9), momentum: try option("momentum", 0), epsilon: epsilon,
                                    centered: flag("centered"), clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm,
                                    weightDecay: weightDecay)
            case "Adagrad":
                optimizer = Adagrad(learningRate: learningRate, initialAccumulatorValue: try bounded("initial_accumulator_value", 0.1, least: 0),
                                    epsilon: epsilon, clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm, weightDecay: weightDecay)
            case "Adadelta":
                optimizer = Adadelta(learningRate: learningRate, rho: try option("rho", 0.95), epsilon: epsilon, clipNorm: clipNorm, clipValue: clipValue,
                                     globalClipNorm: globalClipNorm, weightDecay: weightDecay)
            case "Adamax":
                optimizer = Adamax(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, clipNorm: clipNorm, clipValue: clipValue,
                                   globalClipNorm: globalClipNorm, weightDecay: weightDecay)
            case "Nadam":
                optimizer = Nadam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, clipNorm: clipNorm, clipValue: clipValue,
                                  globalClipNorm: globalClipNorm, weightDecay: weightDecay)
            case "Lamb":
                optimizer = Lamb(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, clipNorm: clipNorm, clipValue: clipValue,
                                 globalClipNorm: globalClipNorm, weightDecay: weightDecay)
            case "Lion":
                optimizer = Lion(learningRate: learningRate, beta1: try bounded("beta_1", 0.9, least: .ulpOfOne, most: 1), beta2: beta2,
                                 clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm, weightDecay: weightDecay)
            case "Ftrl":
                optimizer = Ftrl(learningRate: learningRate, learningRatePower: try bounded("learning_rate_power", -0.5, most: 0),
                                 initialAccumulatorValue: try bounded("initial_accumulator_value", 0.1, least: 0),
                                 l1RegularizationStrength: try bounded("l1_regularization_strength", 0, least: 0),
                                 l2RegularizationStrength: try bounded("l2_regularization_strength", 0, least: 0),
                                 l2ShrinkageRegularizationStrength: try bounded("l2_shrinkage_regularization_strength", 0, least: 0),
                                 beta: try option("beta", 0), clipNorm: clipNorm, clipValue: clipValue, globalClipNorm: globalClipNorm,
                                 weightDecay: weightDecay)
            case "Adafactor":
                optimizer = Adafactor(learningRate: learningRate, betaTwoDecay: try option("beta_2_decay", -0.8),
                                      epsilon1: try bounded("epsilon_1", 1e-30, least: 0), epsilon2: try bounded("epsilon_2", 1e-3, least: 0),
                                      clipThreshold: try bounded("clip_threshold", 1, least: .leastNormalMagnitude),
                                      relativeStep: config["relative_step"]?.bool ?? true, clipNorm: clipNorm, clipValue: clipValue,
                                      globalClipNorm: globalClipNorm, weightDecay: weightDecay)
            default:
                throw unsupported("optimizer \(className) (supported: SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lamb, Lion, Ftrl, Adafactor)")
            }
            optimizer.gradientAccumulationSteps = try count("gradient_accumulation_steps", atLeast: 2)
            if let factor = try optional("loss_scale_factor") {
                guard factor > 0 else { throw RecurError.invalidArgument(op: label, message: "\(className) 'loss_scale_factor' must be positive, got \(factor)") }
                optimizer.lossScaleFactor = factor
            }
            if config["use_ema"]?.bool == true {
                let momentum = try bounded("ema_momentum", 0.99, least: 0, most: 1)
                optimizer.movingAverage = .init(momentum: momentum, overwriteFrequency: try count("ema_overwrite_frequency", atLeast: 1))
            }
            if rate.object != nil { return optimizer.scheduled(by: try schedule(rate)) }
            return optimizer
        }

        /// A Keras learning-rate schedule object: ExponentialDecay, CosineDecay or PiecewiseConstantDecay.
        func schedule(_ value: JSONValue) throws -> any LearningRateSchedule {
            guard let className = value["class_name"]?.string, let config = value["config"] else {
                throw unsupported("learning_rate \(KerasConfig.compactJSON(value))")
            }
            switch className {
            case "ExponentialDecay":
                return ExponentialDecay(initialLearningRate: try number(config["initial_learning_rate"], "initial_learning_rate"),
                                        decaySteps: try integer(config["decay_steps"], "decay_steps", atLeast: 1),
                                        decayRate: try number(config["decay_rate"], "decay_rate"), staircase: config["staircase"]?.bool ?? false)
            case "CosineDecay":
                let target = config["warmup_target"]
                return CosineDecay(initialLearningRate: try number(config["initial_learning_rate"], "initial_learning_rate"),
                                   decaySteps: try integer(config["decay_steps"], "decay_steps", atLeast: 1),
                                   alpha: try config["alpha"].map { try number($0, "alpha") } ?? 0,
                                   warmupTarget: target == nil || target!.isNull ? nil : try number(target, "warmup_target"),
                                   warmupSteps: try config["warmup_steps"].map { try integer($0, "warmup_steps", atLeast: 0) } ?? 0)
            case "PiecewiseConstantDecay":
                let boundaries = try (config["boundaries"]?.array ?? []).map { try integer($0, "boundaries") }
                let values = try (config["values"]?.array ?? []).map { try number($0, "values") }
                guard values.count == boundaries.count + 1 else {
                    throw RecurError.invalidArgument(op: label, message: "PiecewiseConstantDecay: expected \(boundaries.count + 1) values for \(boundaries.count) boundaries, got \(values.count)")
                }
                return PiecewiseConstantDecay(boundaries: boundaries, values: values)
            default:
                throw unsupported("learning-rate schedule \(className) (supported: ExponentialDecay, CosineDecay, PiecewiseConstantDecay)")
            }
        }

        /// A loss by name, or a Keras loss object with its options at the values Recur implements.
        func loss(_ value: JSONValue) throws -> any LossConvertible {
            if let name = value.string { return name }
            if value.isNull { return ZeroLoss() }
            guard let className = value["class_name"]?.string, let config = value["config"] else {
                throw unsupported("loss \(KerasConfig.compactJSON(value))")
            }
            if let reduction = config["reduction"]?.string, reduction != "sum_over_batch_size" {
                throw unsupported("\(className) reduction '\(reduction)' (Recur averages over the batch, Keras's sum_over_batch_size)")
            }
            // A label smoothing of 0 is none; an ignored class of 0 is class 0.
            if let v = config["label_smoothing"], !v.isNull, v.double != 0 { throw unsupported("\(className) option label_smoothing \(KerasConfig.compactJSON(v))") }
            if let v = config["ignore_class"], !v.isNull { throw unsupported("\(className) option ignore_class \(KerasConfig.compactJSON(v))") }
            if let axis = config["axis"], axis.double != -1 { throw unsupported("\(className) option axis \(KerasConfig.compactJSON(axis))") }
            let fromLogits = config["from_logits"]?.bool ?? false
            switch className {
            case "SparseCategoricalCrossentropy": return SparseCategoricalCrossentropy(fromLogits: fromLogits)
            case "CategoricalCrossentropy": return CategoricalCrossentropy(fromLogits: fromLogits)
            case "BinaryCrossentropy": return BinaryCrossentropy(fromLogits: fromLogits)
            case "MeanSquaredError": return MeanSquaredError()
            case "MeanAbsoluteError": return MeanAbsoluteError()
            case "Huber": return Huber(delta: try config["delta"].map { try number($0, "Huber delta") } ?? 1)
            case "LogCosh": return LogCosh()
            case "MeanSquaredLogarithmicError": return MeanSquaredLogarithmicError()
            case "MeanAbsolutePercentageError": return MeanAbsolutePercentageError()
            case "CosineSimilarity": return CosineSimilarity()
            case "KLDivergence": return KLDivergence()
            case "Poisson": return Poisson()
            case "Hinge": return Hinge()
            case "SquaredHinge": return SquaredHinge()
            case "CategoricalHinge": return CategoricalHinge()
            case "CTC": return CTC()
            case "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy":
                let alpha = try config["alpha"].map { try number($0, "\(className) alpha") } ?? 0.25
                let gamma = try config["gamma"].map { try number($0, "\(className) gamma") } ?? 2
                guard gamma >= 0 else { throw RecurError.invalidArgument(op: label, message: "\(className) 'gamma' must be at least 0, got \(gamma)") }
                if className == "CategoricalFocalCrossentropy" { return CategoricalFocalCrossentropy(alpha: alpha, gamma: gamma, fromLogits: fromLogits) }
                return BinaryFocalCrossentropy(applyClassBalancing: config["apply_class_balancing"]?.bool ?? false, alpha: alpha, gamma: gamma,
                                               fromLogits: fromLogits)
            default: throw unsupported("loss \(className)")
            }
        }

        /// Metrics for every output: a flat list of names or Keras metric objects (`KerasMetricConfig`).
        func metrics(_ value: JSONValue?, key: String) throws -> [any MetricConvertible] {
            guard let value, !value.isNull else { return [] }
            guard let list = value.array else { throw unsupported("\(key) \(KerasConfig.compactJSON(value)) (Recur takes one list for every output)") }
            return try list.map { try KerasMetricConfig.read($0, key: key, label: label) }
        }
    }
}
