//! Why an artifact was refused: raised by the loader and the header check.

/// Why an artifact was refused.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// Reading the file failed.
    #[error("cannot read artifact `{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// No memory could be mapped to load the artifact into.
    #[error("cannot map memory for the artifact: {0}")]
    Map(std::io::Error),
    /// The bytes are not a cmc artifact at all.
    #[error("not a cmc artifact: {0}")]
    NotAnArtifact(String),
    /// A header field does not match this runtime.
    #[error("artifact was built for {field} `{found}`, but this runtime expects `{expected}`")]
    Mismatch {
        /// The field.
        field: &'static str,
        /// The artifact's value.
        found: String,
        /// What the runtime expects.
        expected: String,
    },
    /// The artifact was built with other code-changing settings than the
    /// engine's, in a way that needs more than a field and a value to say.
    #[error("{0}")]
    Settings(String),
    /// The artifact is damaged (truncated or tampered with).
    #[error("corrupt artifact: {0}")]
    Corrupt(String),
}
