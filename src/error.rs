//! The crate's error type: what went wrong, in which op or file, with expected and found values.

use std::fmt;

/// An error from user data: a wrong length, shape or index for a tensor; a data, text or
/// weights file that cannot be read or does not hold what its format promises.
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
    /// Sizes whose product overflows `usize`: no tensor of that shape can exist.
    TooLarge {
        /// The operation that got the sizes.
        op: &'static str,
        /// The sizes given.
        dims: Vec<usize>,
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

    /// An argument outside the values an operation accepts (a split fraction above 1, a
    /// length of 0), named with its value.
    InvalidArgument {
        /// The operation (or settings struct) that got it.
        op: &'static str,
        /// Which argument, its value and what it must be, in words.
        message: String,
    },

    // ---- Files ----
    /// A file that cannot be opened, read or written.
    Io {
        /// The file (a path, or `images`/`labels` for a reader).
        file: String,
        /// What failed and what the operating system said (`cannot read: ...`).
        message: String,
    },
    /// The memory to hold a file's contents could not be allocated (the standard library
    /// reports a failed allocation while reading as out of memory, not as a read error).
    OutOfMemory {
        /// The file.
        file: String,
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

    // ---- Data sets (`crate::data`) ----
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
    /// A gzip'd IDX file whose header declares more data than its compressed bytes can hold:
    /// deflate inflates a byte to at most [`MAX_DEFLATE_RATIO`](crate::data::mnist::MAX_DEFLATE_RATIO)
    /// bytes, so the file is refused before anything past its header is inflated.
    IdxTooLarge {
        /// The file.
        file: String,
        /// The length in bytes that the header implies.
        declared: u128,
        /// The gzip'd file's length in bytes.
        compressed: usize,
    },
    /// Images whose size is not the one a model takes (MNIST's are 28 x 28).
    ImageSize {
        /// Where the images came from (a file or a directory).
        file: String,
        /// The `[rows, cols]` the model takes.
        expected: [usize; 2],
        /// The `[rows, cols]` of the images.
        found: [usize; 2],
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

    // ---- Weights files (`crate::nn::weights`) ----
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
            Error::TooLarge { op, dims } => write!(
                f,
                "{op}: shape {dims:?} has more elements than a usize can count \
                 (the product of its sizes overflows)"
            ),
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
            Error::InvalidArgument { op, message } => write!(f, "{op}: {message}"),
            Error::Io { file, message } => write!(f, "{file}: {message}"),
            Error::OutOfMemory { file } => write!(
                f,
                "{file}: out of memory: its contents do not fit in the memory left"
            ),
            Error::Parse {
                file,
                line,
                message,
            } => write!(f, "{file}:{line}: {message}"),
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
            Error::IdxTooLarge {
                file,
                declared,
                compressed,
            } => write!(
                f,
                "{file}: its IDX header declares {declared} bytes, more than a gzip stream of \
                 {compressed} bytes can inflate to"
            ),
            Error::ImageSize {
                file,
                expected: [er, ec],
                found: [fr, fc],
            } => write!(
                f,
                "{file}: the images are {fr} x {fc}, the model takes {er} x {ec}"
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
        }
    }
}

impl std::error::Error for Error {}

/// The crate's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
