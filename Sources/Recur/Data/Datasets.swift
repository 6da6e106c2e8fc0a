import Foundation

/// Fashion-MNIST (Zalando): 70,000 28×28 grayscale images of clothing in 10 classes, read from
/// the four IDX files that the Debian package `dataset-fashion-mnist` installs.
///
/// Like `keras.datasets.fashion_mnist.load_data()`, `x` holds raw pixel values 0...255 with shape
/// (n, 28, 28) and `y` holds class indices 0...9 with shape (n,), all as Float32.
public enum FashionMNIST {
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"

    public static func load(directory: String = defaultDirectory)
        throws -> (train: (x: Tensor, y: Tensor), test: (x: Tensor, y: Tensor)) {
        try IDXDataset.load(directory: directory, name: "Fashion-MNIST",
                            hint: "install it with: apt-get install dataset-fashion-mnist")
    }
}

/// MNIST handwritten digits, read from the same four IDX file names as Fashion-MNIST
/// (`train-images-idx3-ubyte`, ... each optionally `.gz`) in `directory`.
public enum MNIST {
    public static func load(directory: String)
        throws -> (train: (x: Tensor, y: Tensor), test: (x: Tensor, y: Tensor)) {
        try IDXDataset.load(directory: directory, name: "MNIST",
                            hint: "download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                                + "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz into it")
    }
}

/// Loading of the four-file MNIST layout shared by MNIST and Fashion-MNIST.
enum IDXDataset {
    static let files = (trainX: "train-images-idx3-ubyte", trainY: "train-labels-idx1-ubyte",
                        testX: "t10k-images-idx3-ubyte", testY: "t10k-labels-idx1-ubyte")

    static func load(directory: String, name: String, hint: String)
        throws -> (train: (x: Tensor, y: Tensor), test: (x: Tensor, y: Tensor)) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw RecurError.io(path: directory, message: "\(name) data set directory not found; \(hint)")
        }
        let train = try pair(directory, files.trainX, files.trainY, name: name, hint: hint)
        let test = try pair(directory, files.testX, files.testY, name: name, hint: hint)
        return (train, test)
    }

    /// Images and labels, checked to be (n, rows, cols) and (n,).
    static func pair(_ directory: String, _ images: String, _ labels: String, name: String, hint: String)
        throws -> (x: Tensor, y: Tensor) {
        let xPath = try locate(directory, images, name: name, hint: hint)
        let yPath = try locate(directory, labels, name: name, hint: hint)
        let x = try IDX.load(path: xPath), y = try IDX.load(path: yPath)
        guard x.shape.count == 3 else {
            throw RecurError.io(path: xPath, message: "expected images of shape (n, rows, cols), found \(x.shape)")
        }
        guard y.shape.count == 1 else {
            throw RecurError.io(path: yPath, message: "expected labels of shape (n,), found \(y.shape)")
        }
        guard x.shape[0] == y.shape[0] else {
            throw RecurError.io(path: yPath, message: "\(y.shape[0]) labels for \(x.shape[0]) images in \(xPath)")
        }
        return (x, y)
    }

    /// `base.gz` if present, else `base`.
    static func locate(_ directory: String, _ base: String, name: String, hint: String) throws -> String {
        let dir = URL(fileURLWithPath: directory)
        for candidate in [base + ".gz", base] {
            let path = dir.appendingPathComponent(candidate).path
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw RecurError.io(path: dir.appendingPathComponent(base + ".gz").path,
                            message: "\(name) file \(base)(.gz) not found in \(directory); \(hint)")
    }
}
