//! The crate's error type: what went wrong, in which op or file, with expected and found values.

use std::fmt;

/// An error from user data: a wrong length or shape for a tensor, or a data file that cannot
/// be read or does not hold what its format promises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    // ---- Tensors from user data ----
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

    // ---- Data files (`crate::data`) ----
    /// A file that cannot be opened or read.
    Io {
        /// The file (a path, or `images`/`labels` for a reader).
        file: String,
        /// What the operating system said.
        message: String,
    },
    /// A file that starts as gzip but does not decompress (corrupt or cut short).
    Gzip {
        /// The file.
        file: String,
        /// What the decoder said.
        message: String,
    },
    /// An IDX file whose magic number is not the one its contents need.
    IdxMagic {
        /// The file.
        file: String,
        /// What the file should hold: `images` or `labels`.
        kind: &'static str,
        /// The magic number an IDX file of that kind starts with.
        expected: u32,
        /// The first four bytes of the file, big-endian.
        found: u32,
    },
    /// An IDX file shorter or longer than its header says (after decompression).
    IdxLength {
        /// The file.
        file: String,
        /// The length in bytes that the header implies.
        expected: usize,
        /// The length in bytes of the file.
        found: usize,
    },
    /// An images file and a labels file that hold different numbers of examples.
    CountMismatch {
        /// The images file.
        images: String,
        /// The number of images it holds.
        image_count: usize,
        /// The labels file.
        labels: String,
        /// The number of labels it holds.
        label_count: usize,
    },
    /// A label outside the classes of its data set.
    LabelRange {
        /// The labels file.
        file: String,
        /// The position of the first bad label.
        index: usize,
        /// Its value.
        found: u8,
        /// The largest label allowed (9 for the digits).
        max: u8,
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
            Error::Io { file, message } => write!(f, "{file}: cannot read: {message}"),
            Error::Gzip { file, message } => {
                write!(f, "{file}: not a readable gzip stream: {message}")
            }
            Error::IdxMagic {
                file,
                kind,
                expected,
                found,
            } => write!(
                f,
                "{file}: not an IDX {kind} file: magic number {expected:#010x} expected, \
                 found {found:#010x}"
            ),
            Error::IdxLength {
                file,
                expected,
                found,
            } if found < expected => write!(
                f,
                "{file}: truncated: its IDX header needs {expected} bytes, the file has {found}"
            ),
            Error::IdxLength {
                file,
                expected,
                found,
            } => write!(
                f,
                "{file}: longer than its IDX header says: the header needs {expected} bytes, \
                 the file has {found}"
            ),
            Error::CountMismatch {
                images,
                image_count,
                labels,
                label_count,
            } => write!(
                f,
                "{images} holds {image_count} images but {labels} holds {label_count} labels"
            ),
            Error::LabelRange {
                file,
                index,
                found,
                max,
            } => write!(
                f,
                "{file}: label {found} at index {index} is outside 0..={max}"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// The crate's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
