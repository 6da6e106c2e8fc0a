/// Recur's version (semantic versioning); `recur --version` prints it and CHANGELOG.md lists what each
/// version changed.
public let recurVersion = "0.16.0"
