//! The crate's error type: what went wrong, in which op or file, with expected and found values.

use std::fmt;

/// An error from user data: a wrong length, a wrong shape, a bad index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Data of the wrong length for the shape it should fill.
    Length {
        /// The operation that got the data.
        op: &'static str,
        /// The shape's sizes.
        shape: Vec<usize>,
        /// The element count the shape needs.
        expected: usize,
        /// The element count given.
        found: usize,
    },
    /// Sizes that do not fit the shape's static dims or rank.
    Shape {
        /// The operation that got the sizes.
        op: &'static str,
        /// What the type allows, in words (`[usize, 3]` for a runtime batch of 3-vectors).
        expected: String,
        /// The sizes given.
        found: Vec<usize>,
    },
    /// An index (a class label, a token id) outside `0..bound`.
    IndexOutOfRange {
        /// The operation that got the index.
        op: &'static str,
        /// Where the index sits in its tensor (a multi-index).
        position: Vec<usize>,
        /// The index (negative ones come from signed integer inputs).
        value: i128,
        /// The exclusive upper bound (the number of classes, the vocabulary size).
        bound: usize,
    },
    /// A file that could not be read or written.
    Io {
        /// The file.
        path: String,
        /// What the system said.
        message: String,
    },
    /// A line of a text file (word vectors, sentences) that does not parse.
    Parse {
        /// The file.
        file: String,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A weights file that is not a well-formed safetensors file (truncated, corrupt header).
    WeightsFormat {
        /// The file (or `<bytes>` for an in-memory buffer).
        file: String,
        /// What is wrong, as the safetensors reader put it.
        message: String,
    },
    /// A tensor in a weights file whose shape differs from the model's parameter.
    WeightShape {
        /// The file.
        file: String,
        /// The parameter's name (`conv1.weight`).
        tensor: String,
        /// The shape the model's type has.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A tensor in a weights file whose element type differs from the model's.
    WeightDtype {
        /// The file.
        file: String,
        /// The parameter's name.
        tensor: String,
        /// The model's element type (`F32`).
        expected: String,
        /// The file's (`F64`, `BF16`, ...).
        found: String,
    },
    /// A parameter of the model that the weights file lacks.
    MissingWeight {
        /// The file.
        file: String,
        /// The parameter's name.
        tensor: String,
    },
    /// A tensor in the weights file that the model has no parameter for.
    UnexpectedWeight {
        /// The file.
        file: String,
        /// The tensor's name.
        tensor: String,
    },
    /// Sizes whose product overflows `usize`: no tensor of that shape can exist.
    TooLarge {
        /// The operation that got the sizes.
        op: &'static str,
        /// The sizes given.
        dims: Vec<usize>,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Length {
                op,
                shape,
                expected,
                found,
            } => write!(
                f,
                "{op}: shape {shape:?} needs {expected} elements, but {found} were given"
            ),
            Error::Shape {
                op,
                expected,
                found,
            } => {
                write!(f, "{op}: sizes {found:?} do not fit the shape {expected}")
            }
            Error::IndexOutOfRange {
                op,
                position,
                value,
                bound,
            } => write!(
                f,
                "{op}: index {value} at {position:?} is out of range: the values must lie in \
                 0..{bound}"
            ),
            Error::Io { path, message } => write!(f, "{path}: {message}"),
            Error::Parse {
                file,
                line,
                message,
            } => write!(f, "{file}:{line}: {message}"),
            Error::WeightsFormat { file, message } => {
                write!(f, "{file}: not a valid safetensors file: {message}")
            }
            Error::WeightShape {
                file,
                tensor,
                expected,
                found,
            } => write!(
                f,
                "{file}: tensor `{tensor}` has shape {found:?}, the model's has {expected:?}"
            ),
            Error::WeightDtype {
                file,
                tensor,
                expected,
                found,
            } => write!(
                f,
                "{file}: tensor `{tensor}` holds {found} values, the model holds {expected}"
            ),
            Error::MissingWeight { file, tensor } => {
                write!(f, "{file}: no tensor `{tensor}`, which the model needs")
            }
            Error::UnexpectedWeight { file, tensor } => write!(
                f,
                "{file}: tensor `{tensor}` is not a parameter of the model"
            ),
            Error::TooLarge { op, dims } => write!(
                f,
                "{op}: shape {dims:?} has more elements than a usize can count \
                 (the product of its sizes overflows)"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// The crate's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
