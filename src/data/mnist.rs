//! The MNIST reader: the standard IDX files (gzip'd or raw) of 28×28 grey digits and their
//! labels 0..=9, checked on the way in.
//!
//! An IDX file is a big-endian header and then the data: images start with the magic number
//! `0x00000803` (unsigned bytes, 3 dims), then the count, rows and columns, then one byte per
//! pixel, row-major (0 background, 255 full ink); labels start with `0x00000801` (1 dim), then
//! the count, then one byte per label. A file that starts with gzip's `1f 8b` is decompressed
//! first, whatever its name. Everything that can be wrong with a file is an [`Error`] naming
//! the file, what was expected and what was found, never a panic.
//!
//! ```
//! use shapetorch::data::mnist::Mnist;
//! // Two 2x3 images and their labels as IDX bytes: header (big-endian u32s), then data.
//! let mut images = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3];
//! images.extend([0, 255, 0, 0, 255, 0, /* second image */ 255, 255, 255, 0, 0, 0]);
//! let labels = [0, 0, 8, 1, 0, 0, 0, 2, /* data */ 1, 7];
//! let set = Mnist::read(&images[..], &labels[..])?; // any `impl Read`: a slice, a file
//! assert_eq!((set.count, set.rows, set.cols), (2, 2, 3));
//! assert_eq!(set.image(1), &[255, 255, 255, 0, 0, 0]);
//! assert_eq!(set.labels, [1, 7]);
//!
//! // A label outside 0..=9 is an error that says where:
//! let bad = [0, 0, 8, 1, 0, 0, 0, 2, 1, 12];
//! let err = Mnist::read(&images[..], &bad[..]).unwrap_err();
//! assert_eq!(err.to_string(), "labels: label 12 at index 1 is outside 0..=9");
//! # Ok::<(), shapetorch::Error>(())
//! ```
//!
//! The repository ships the full data set in `data/mnist/` (`Mnist::load_dir("data/mnist")`
//! from the repository root gives the 60,000 training and 10,000 test digits).

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::error::{Error, Result};
use crate::files::{open_regular, read_at_most, read_error, read_expected};

/// The magic number of an IDX file of unsigned bytes with 3 dims (images).
const IMAGES_MAGIC: u32 = 0x0000_0803;
/// The magic number of an IDX file of unsigned bytes with 1 dim (labels).
const LABELS_MAGIC: u32 = 0x0000_0801;
/// The largest digit label.
const MAX_LABEL: u8 = 9;

/// Images and their labels, as read from a pair of IDX files: plain bytes, no tensors yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mnist {
    /// Pixels, row-major `[count, rows, cols]`: image `n`, row `r`, column `c` at
    /// `(n * rows + r) * cols + c`; 0 is background, 255 full ink.
    pub images: Vec<u8>,
    /// One label per image, each in `0..=9`.
    pub labels: Vec<u8>,
    /// The number of images (and labels).
    pub count: usize,
    /// Rows per image (28 for MNIST).
    pub rows: usize,
    /// Columns per image (28 for MNIST).
    pub cols: usize,
}

/// Which half of the standard MNIST files: 60,000 training or 10,000 test digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// `train-images-idx3-ubyte` and `train-labels-idx1-ubyte`.
    Train,
    /// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`.
    Test,
}

impl Split {
    /// The standard names of the images and labels files, without `.gz`.
    pub fn file_names(self) -> (&'static str, &'static str) {
        match self {
            Split::Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            Split::Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        }
    }
}

impl Mnist {
    /// Reads an images file and a labels file from any readers (a `File`, a byte slice
    /// `&bytes[..]`), each raw IDX or gzip'd IDX. Errors name the readers `images` and `labels`.
    ///
    /// Each header is read and checked first, and the data after it is read up to the length
    /// the header declares, into memory that grows as the bytes arrive: a file that claims
    /// more than it holds costs only what it holds. A gzip'd file is held compressed and
    /// inflated after its header is checked against the most its compressed bytes can hold.
    pub fn read(images: impl Read, labels: impl Read) -> Result<Mnist> {
        let images = read_idx(images, None, "images", IMAGES)?;
        let labels = read_idx(labels, None, "labels", LABELS)?;
        Self::from_parts(images, "images", labels, "labels")
    }

    /// Reads the images file and the labels file at these paths, raw IDX or gzip'd IDX. Only
    /// regular files are read (a FIFO or a device is an error before it is opened), and a raw
    /// file's length is checked against its header before its data is read.
    pub fn open(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<Mnist> {
        let (images, labels) = (images.as_ref(), labels.as_ref());
        let (images_name, labels_name) = (display(images), display(labels));
        let (images_file, images_len) = open_regular(images, &images_name)?;
        let (labels_file, labels_len) = open_regular(labels, &labels_name)?;
        let images = read_idx(images_file, Some(images_len), &images_name, IMAGES)?;
        let labels = read_idx(labels_file, Some(labels_len), &labels_name, LABELS)?;
        Self::from_parts(images, &images_name, labels, &labels_name)
    }

    /// Reads one split from a directory holding the standard file names, each either gzip'd
    /// (`train-images-idx3-ubyte.gz`, preferred when both exist) or raw
    /// (`train-images-idx3-ubyte`).
    pub fn load(dir: impl AsRef<Path>, split: Split) -> Result<Mnist> {
        let (images, labels) = split.file_names();
        let dir = dir.as_ref();
        Self::open(find(dir, images)?, find(dir, labels)?)
    }

    /// Reads the training and the test split from a directory holding the four standard files
    /// (see [`load`](Self::load)): `(train, test)`.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<(Mnist, Mnist)> {
        let dir = dir.as_ref();
        Ok((
            Self::load(dir, Split::Train)?,
            Self::load(dir, Split::Test)?,
        ))
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The pixels of image `n`, row-major `[rows, cols]`. Panics if `n >= count`.
    pub fn image(&self, n: usize) -> &[u8] {
        let size = self.rows * self.cols;
        &self.images[n * size..][..size]
    }

    /// `Ok` when the images are `rows x cols` (what a model takes: 28 x 28 for the MNIST
    /// models), else an error naming `source` (the file or directory they came from) and both
    /// sizes. Call it after loading, before batches are made ([`batch`](Self::batch) panics on
    /// another size).
    ///
    /// ```
    /// use shapetorch::data::mnist::Mnist;
    /// let images = [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4];
    /// let set = Mnist::read(&images[..], &[0, 0, 8, 1, 0, 0, 0, 1, 5][..]).unwrap();
    /// let err = set.check_image_size("tiny", 28, 28).unwrap_err();
    /// assert_eq!(err.to_string(), "tiny: the images are 2 x 2, the model takes 28 x 28");
    /// ```
    pub fn check_image_size(&self, source: &str, rows: usize, cols: usize) -> Result<()> {
        if (self.rows, self.cols) == (rows, cols) {
            return Ok(());
        }
        Err(Error::ImageSize {
            file: source.to_string(),
            expected: [rows, cols],
            found: [self.rows, self.cols],
        })
    }

    fn from_parts(images: Idx, images_name: &str, labels: Idx, labels_name: &str) -> Result<Mnist> {
        let [count, rows, cols] = images.sizes[..] else {
            unreachable!("an images header has 3 sizes")
        };
        if let Some(index) = labels.data.iter().position(|&l| l > MAX_LABEL) {
            return Err(Error::LabelRange {
                file: labels_name.to_string(),
                index,
                found: labels.data[index],
                max: MAX_LABEL,
            });
        }
        if labels.data.len() != count {
            return Err(Error::CountMismatch {
                images: images_name.to_string(),
                image_count: count,
                labels: labels_name.to_string(),
                label_count: labels.data.len(),
            });
        }
        Ok(Mnist {
            images: images.data,
            labels: labels.data,
            count,
            rows,
            cols,
        })
    }
}

/// The most bytes deflate (gzip's compression) can inflate one compressed byte to: a match of
/// 258 bytes costs at least two bits, so 258 * 4 = 1032. A gzip'd IDX file whose header
/// declares more than this many times the file's length cannot hold that data.
pub const MAX_DEFLATE_RATIO: u128 = 1032;

/// What an IDX file should hold: its name in messages, its magic number and its rank.
struct Kind {
    name: &'static str,
    magic: u32,
    dims: usize,
}

/// Images: unsigned bytes, 3 dims (count, rows, cols).
const IMAGES: Kind = Kind {
    name: "images",
    magic: IMAGES_MAGIC,
    dims: 3,
};

/// Labels: unsigned bytes, 1 dim (count).
const LABELS: Kind = Kind {
    name: "labels",
    magic: LABELS_MAGIC,
    dims: 1,
};

/// An IDX file's sizes (from its header) and data (everything after it).
struct Idx {
    sizes: Vec<usize>,
    data: Vec<u8>,
}

/// Reads an IDX file of `kind` from `reader`, raw or gzip'd (a file that starts with gzip's
/// magic bytes `1f 8b`; an IDX file starts with `00 00`, so the two cannot be confused).
/// `len` is the file's length when known (a regular file): a raw file's header is checked
/// against it before the data is read.
fn read_idx(mut reader: impl Read, len: Option<u64>, file: &str, kind: Kind) -> Result<Idx> {
    let mut start = [0u8; 2];
    let got = read_full(&mut reader, &mut start).map_err(|e| read_error(file, e))?;
    let start = &start[..got];
    if start != [0x1f, 0x8b] {
        return parse_idx(start.chain(reader), Source::Raw { len }, file, &kind);
    }
    // gzip: the compressed bytes (as long as the file, at most) are held, and only the header
    // is inflated before the declared size is checked against what they can hold.
    let mut compressed = start.to_vec();
    reader
        .read_to_end(&mut compressed)
        .map_err(|e| read_error(file, e))?;
    // MultiGzDecoder: a gzip file may hold several members, read one after the other. It
    // checks each member's CRC and length, so a cut-short download is an error here.
    let source = Source::Gzip {
        compressed: compressed.len(),
    };
    parse_idx(MultiGzDecoder::new(&compressed[..]), source, file, &kind)
}

/// Where the IDX bytes come from, for the checks before the data is read and for what a read
/// error means.
#[derive(Clone, Copy)]
enum Source {
    /// The file itself, of this length if known.
    Raw { len: Option<u64> },
    /// Inflated from a gzip stream of this many bytes.
    Gzip { compressed: usize },
}

impl Source {
    /// A read error: a format error for a gzip stream (a corrupt or cut-short stream is
    /// reported by the decoder as a read error), else the system's.
    fn error(self, file: &str, e: std::io::Error) -> Error {
        match self {
            Source::Gzip { .. } if e.kind() != std::io::ErrorKind::OutOfMemory => Error::Gzip {
                file: file.to_string(),
                message: e.to_string(),
            },
            _ => read_error(file, e),
        }
    }
}

/// Reads and checks the header (magic number, then `kind.dims` big-endian sizes), then the
/// data: exactly as many bytes as the sizes' product.
fn parse_idx(mut bytes: impl Read, source: Source, file: &str, kind: &Kind) -> Result<Idx> {
    let header_len = 4 * (1 + kind.dims);
    let mut header = vec![0u8; header_len];
    let got = read_full(&mut bytes, &mut header).map_err(|e| source.error(file, e))?;
    let word = |i: usize| u32::from_be_bytes(header[4 * i..4 * i + 4].try_into().unwrap());
    if got < 4 {
        return Err(length_error(file, header_len as u128, got as u128));
    }
    if word(0) != kind.magic {
        return Err(Error::IdxMagic {
            file: file.to_string(),
            kind: kind.name,
            expected: kind.magic,
            found: word(0),
        });
    }
    if got < header_len {
        return Err(length_error(file, header_len as u128, got as u128));
    }
    // Sizes are u32s, so the product of three fits a u128.
    let sizes: Vec<u128> = (1..=kind.dims).map(|i| u128::from(word(i))).collect();
    let data_len: u128 = sizes.iter().product();
    let expected = header_len as u128 + data_len;
    match source {
        Source::Raw { len: Some(len) } if u128::from(len) != expected => {
            return Err(length_error(file, expected, u128::from(len)));
        }
        Source::Gzip { compressed } if expected > MAX_DEFLATE_RATIO * compressed as u128 => {
            return Err(Error::IdxTooLarge {
                file: file.to_string(),
                declared: expected,
                compressed,
            });
        }
        _ => {}
    }
    let limit = u64::try_from(data_len).unwrap_or(u64::MAX);
    let read = match source {
        // a regular file of the right length: one buffer of the data's size
        Source::Raw { len: Some(_) } => read_expected(&mut bytes, limit, limit),
        // else the buffer grows as the bytes arrive, up to what the header declares
        _ => read_at_most(&mut bytes, limit),
    };
    let (data, more) = read.map_err(|e| source.error(file, e))?;
    if more {
        // count the rest (without keeping it) to say how long the file is
        let rest =
            std::io::copy(&mut bytes, &mut std::io::sink()).map_err(|e| source.error(file, e))?;
        let found = expected + 1 + u128::from(rest);
        return Err(length_error(file, expected, found));
    }
    if data.len() as u128 != data_len {
        return Err(length_error(
            file,
            expected,
            (header_len + data.len()) as u128,
        ));
    }
    Ok(Idx {
        sizes: sizes.iter().map(|&n| n as usize).collect(),
        data,
    })
}

/// Fills `buf` from `reader` as far as the reader goes; returns how many bytes it got (less
/// than `buf.len()` only at the end of the data).
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// `dir/name.gz` if it exists, else `dir/name`, else an error naming both.
fn find(dir: &Path, name: &str) -> Result<PathBuf> {
    let gz = dir.join(format!("{name}.gz"));
    let raw = dir.join(name);
    if gz.is_file() {
        Ok(gz)
    } else if raw.is_file() {
        Ok(raw)
    } else {
        Err(Error::Io {
            file: display(&raw),
            message: format!("cannot read: no such file, nor {}", display(&gz)),
        })
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// An [`Error::IdxLength`]; lengths past `usize` (from a header's sizes) are shown as
/// `usize::MAX`.
fn length_error(file: &str, expected: u128, found: u128) -> Error {
    let clamp = |n: u128| usize::try_from(n).unwrap_or(usize::MAX);
    Error::IdxLength {
        file: file.to_string(),
        expected: clamp(expected),
        found: clamp(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    /// An IDX images file of `count` images of `rows x cols`, pixel `i` of the data = `i % 256`.
    fn images_idx(count: u32, rows: u32, cols: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        for word in [IMAGES_MAGIC, count, rows, cols] {
            bytes.extend(word.to_be_bytes());
        }
        bytes.extend((0..count * rows * cols).map(|i| (i % 256) as u8));
        bytes
    }

    fn labels_idx(labels: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend(LABELS_MAGIC.to_be_bytes());
        bytes.extend((labels.len() as u32).to_be_bytes());
        bytes.extend(labels);
        bytes
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// A fresh, empty directory under the system's temporary directory.
    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("shapetorch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn reads_raw_and_gzip_alike() {
        let (images, labels) = (images_idx(3, 2, 2), labels_idx(&[4, 0, 9]));
        let raw = Mnist::read(&images[..], &labels[..]).unwrap();
        assert_eq!((raw.count, raw.rows, raw.cols), (3, 2, 2));
        // image 2 holds data bytes 8..12
        assert_eq!(raw.image(2), &[8, 9, 10, 11]);
        assert_eq!(raw.labels, [4, 0, 9]);
        let gz = Mnist::read(&gzip(&images)[..], &gzip(&labels)[..]).unwrap();
        assert_eq!(gz, raw);
        let mixed = Mnist::read(&gzip(&images)[..], &labels[..]).unwrap();
        assert_eq!(mixed, raw);
    }

    #[test]
    fn empty_set_is_fine() {
        let set = Mnist::read(&images_idx(0, 28, 28)[..], &labels_idx(&[])[..]).unwrap();
        assert!(set.is_empty());
        assert_eq!((set.len(), set.rows, set.cols), (0, 28, 28));
    }

    #[test]
    fn wrong_magic() {
        let labels = labels_idx(&[1]);
        // The files swapped: a labels file where images belong.
        let err = Mnist::read(&labels[..], &images_idx(1, 1, 1)[..]).unwrap_err();
        assert_eq!(
            err,
            Error::IdxMagic {
                file: "images".into(),
                kind: "images",
                expected: 0x803,
                found: 0x801
            }
        );
        assert_eq!(
            err.to_string(),
            "images: not an IDX images file: magic number 0x00000803 expected, found 0x00000801"
        );
        let err = Mnist::read(&images_idx(1, 1, 1)[..], &images_idx(1, 1, 1)[..]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "labels: not an IDX labels file: magic number 0x00000801 expected, found 0x00000803"
        );
        // Text where IDX belongs, gzip'd or not.
        let text = b"<html>not found</html>";
        for file in [text.to_vec(), gzip(text)] {
            let err = Mnist::read(&file[..], &labels[..]).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::IdxMagic {
                        found: 0x3c68_746d,
                        ..
                    }
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn truncated_and_overlong() {
        let images = images_idx(2, 3, 3); // 16 + 18 bytes
        let labels = labels_idx(&[1, 2]);
        let err = Mnist::read(&images[..33], &labels[..]).unwrap_err();
        assert_eq!(
            err,
            Error::IdxLength {
                file: "images".into(),
                expected: 34,
                found: 33
            }
        );
        assert_eq!(
            err.to_string(),
            "images: truncated: its IDX header needs 34 bytes, the file has 33"
        );
        // Cut inside the header, and before the magic number is complete.
        let err = Mnist::read(&images[..10], &labels[..]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "images: truncated: its IDX header needs 16 bytes, the file has 10"
        );
        let err = Mnist::read(&images[..], &labels[..3]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "labels: truncated: its IDX header needs 8 bytes, the file has 3"
        );
        let err = Mnist::read(&images[..], &labels[..9]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "labels: truncated: its IDX header needs 10 bytes, the file has 9"
        );
        // Bytes after the data: the header describes another file.
        let mut long = labels.clone();
        long.push(3);
        let err = Mnist::read(&images[..], &long[..]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "labels: longer than its IDX header says: the header needs 10 bytes, the file has 11"
        );
        // A header whose sizes multiply past any real file.
        let mut huge = images_idx(0, 0, 0);
        huge[4..16].copy_from_slice(&[0xff; 12]);
        let err = Mnist::read(&huge[..], &labels[..]).unwrap_err();
        assert!(matches!(err, Error::IdxLength { found: 16, .. }), "{err}");
    }

    #[test]
    fn count_mismatch() {
        let err = Mnist::read(&images_idx(3, 2, 2)[..], &labels_idx(&[1, 2])[..]).unwrap_err();
        assert_eq!(
            err,
            Error::CountMismatch {
                images: "images".into(),
                image_count: 3,
                labels: "labels".into(),
                label_count: 2
            }
        );
        assert_eq!(
            err.to_string(),
            "images holds 3 images but labels holds 2 labels"
        );
    }

    #[test]
    fn label_out_of_range() {
        let err = Mnist::read(&images_idx(3, 1, 1)[..], &labels_idx(&[9, 0, 10])[..]).unwrap_err();
        assert_eq!(
            err,
            Error::LabelRange {
                file: "labels".into(),
                index: 2,
                found: 10,
                max: 9
            }
        );
    }

    #[test]
    fn unreadable_gzip() {
        let images = images_idx(2, 2, 2);
        let labels = labels_idx(&[1, 2]);
        let gz = gzip(&images);
        // Cut short: the member's trailer (CRC and length) is missing.
        let err = Mnist::read(&gz[..gz.len() - 6], &labels[..]).unwrap_err();
        assert!(
            matches!(&err, Error::Gzip { file, .. } if file == "images"),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("images: not a readable gzip stream: "),
            "{err}"
        );
        // A flipped bit in the CRC: the data inflates, and the check at the end catches it.
        let mut corrupt = gzip(&labels);
        let crc = corrupt.len() - 8;
        corrupt[crc] ^= 0x55;
        let err = Mnist::read(&images[..], &corrupt[..]).unwrap_err();
        assert!(
            matches!(&err, Error::Gzip { file, .. } if file == "labels"),
            "{err}"
        );
        // A flipped bit in the middle: the deflate stream, the CRC or the header it inflates
        // to (which the reader checks before the data) catches it.
        let mut corrupt = gzip(&labels);
        let mid = corrupt.len() / 2;
        corrupt[mid] ^= 0x55;
        let err = Mnist::read(&images[..], &corrupt[..]).unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Gzip { .. }
                    | Error::IdxTooLarge { .. }
                    | Error::IdxMagic { .. }
                    | Error::IdxLength { .. }
            ),
            "{err}"
        );
    }

    /// The issue's case: a small gzip'd file whose header declares 2^31 images. It was
    /// inflated whole (1.1 GB for 1 MB of zeros) before its header was read; now the header is
    /// inflated first and the file refused, as no 1 MB gzip stream holds 1.7 TB.
    #[test]
    fn a_gzip_file_that_declares_more_than_it_can_hold_is_refused_before_it_is_inflated() {
        let mut bytes = Vec::new();
        for word in [IMAGES_MAGIC, 1 << 31, 28, 28] {
            bytes.extend(word.to_be_bytes());
        }
        bytes.extend(vec![0u8; 1 << 20]); // 1 MiB of data, 1 KiB compressed
        let gz = gzip(&bytes);
        let err = Mnist::read(&gz[..], &labels_idx(&[])[..]).unwrap_err();
        assert_eq!(
            err,
            Error::IdxTooLarge {
                file: "images".into(),
                declared: 16 + (1u128 << 31) * 784,
                compressed: gz.len(),
            }
        );
        assert!(
            err.to_string().starts_with(
                "images: its IDX header declares 1683627180048 bytes, more than a gzip stream of"
            ),
            "{err}"
        );
        // A header that the compressed bytes could hold, but whose data is not there: the
        // reader stops where the data ends, and memory held only what was inflated.
        let mut small = Vec::new();
        for word in [IMAGES_MAGIC, 1000, 28, 28] {
            small.extend(word.to_be_bytes());
        }
        // ten images of noise (noise does not compress: the bound is not what stops it)
        let mut state = 1u32;
        small.extend((0..784 * 10).map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        }));
        let gz = gzip(&small);
        let err = Mnist::read(&gz[..], &labels_idx(&[])[..]).unwrap_err();
        assert_eq!(err, length_error("images", 16 + 784_000, 16 + 7840));
    }

    /// A raw file's length is compared with its header before the data is read.
    #[test]
    fn a_raw_file_is_checked_against_its_header_before_its_data_is_read() {
        let dir = temp_dir("mnist-raw-size");
        let path = dir.join("images");
        let mut bytes = images_idx(2, 2, 2);
        bytes[4..8].copy_from_slice(&u32::MAX.to_be_bytes()); // 2^32 - 1 images of 2 x 2
        std::fs::write(&path, &bytes).unwrap();
        let labels = dir.join("labels");
        std::fs::write(&labels, labels_idx(&[1, 2])).unwrap();
        let err = Mnist::open(&path, &labels).unwrap_err();
        assert_eq!(
            err,
            length_error(
                &path.display().to_string(),
                16 + 4 * u128::from(u32::MAX),
                24
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Devices and FIFOs are refused before they are opened: `/dev/zero` never ends, and a FIFO
    /// blocks in `open` until something writes to it.
    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_refused() {
        let labels = temp_dir("mnist-devices").join("labels");
        std::fs::write(&labels, labels_idx(&[])).unwrap();
        let err = Mnist::open("/dev/zero", &labels).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/dev/zero: cannot read: not a regular file but a character device"
        );
        let fifo = labels.with_file_name("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let err = Mnist::open(&fifo, &labels).unwrap_err();
            assert!(
                err.to_string()
                    .ends_with("not a regular file but a FIFO (named pipe)"),
                "{err}"
            );
        }
        std::fs::remove_dir_all(labels.parent().unwrap()).unwrap();
    }

    #[test]
    fn unreadable_reader() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        let err = Mnist::read(Broken, &labels_idx(&[])[..]).unwrap_err();
        assert_eq!(err.to_string(), "images: cannot read: disk on fire");
    }

    #[test]
    fn files_and_directories() {
        let dir = temp_dir("mnist-dir");
        // Train raw, test gzip'd: the loader takes either.
        std::fs::write(dir.join("train-images-idx3-ubyte"), images_idx(3, 2, 2)).unwrap();
        std::fs::write(dir.join("train-labels-idx1-ubyte"), labels_idx(&[1, 2, 3])).unwrap();
        std::fs::write(
            dir.join("t10k-images-idx3-ubyte.gz"),
            gzip(&images_idx(1, 2, 2)),
        )
        .unwrap();
        std::fs::write(
            dir.join("t10k-labels-idx1-ubyte.gz"),
            gzip(&labels_idx(&[7])),
        )
        .unwrap();
        let (train, test) = Mnist::load_dir(&dir).unwrap();
        assert_eq!((train.len(), test.len()), (3, 1));
        assert_eq!((train.labels, test.labels), (vec![1, 2, 3], vec![7]));

        // Errors from files name the path.
        let labels = dir.join("t10k-labels-idx1-ubyte.gz");
        let images = dir.join("train-images-idx3-ubyte");
        let err = Mnist::open(&images, &labels).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{} holds 3 images but {} holds 1 labels",
                images.display(),
                labels.display()
            )
        );
        std::fs::remove_file(&labels).unwrap();
        let err = Mnist::load(&dir, Split::Test).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: cannot read: no such file, nor {}",
                dir.join("t10k-labels-idx1-ubyte").display(),
                labels.display()
            )
        );
        let err = Mnist::open(dir.join("nothing"), &images).unwrap_err();
        assert!(
            matches!(&err, Error::Io { file, .. } if file.ends_with("nothing")),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
