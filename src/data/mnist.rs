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

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::error::{Error, Result};

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
    pub fn read(images: impl Read, labels: impl Read) -> Result<Mnist> {
        Self::read_named(images, "images", labels, "labels")
    }

    /// Reads the images file and the labels file at these paths, raw IDX or gzip'd IDX.
    pub fn open(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<Mnist> {
        let (images, labels) = (images.as_ref(), labels.as_ref());
        let (images_name, labels_name) = (display(images), display(labels));
        let images_file = File::open(images).map_err(|e| io_error(&images_name, e))?;
        let labels_file = File::open(labels).map_err(|e| io_error(&labels_name, e))?;
        Self::read_named(images_file, &images_name, labels_file, &labels_name)
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

    fn read_named(
        images: impl Read,
        images_name: &str,
        labels: impl Read,
        labels_name: &str,
    ) -> Result<Mnist> {
        let (count, rows, cols, images) = parse_images(&decode(images, images_name)?, images_name)?;
        let labels = parse_labels(&decode(labels, labels_name)?, labels_name)?;
        if labels.len() != count {
            return Err(Error::CountMismatch {
                images: images_name.to_string(),
                image_count: count,
                labels: labels_name.to_string(),
                label_count: labels.len(),
            });
        }
        Ok(Mnist {
            images,
            labels,
            count,
            rows,
            cols,
        })
    }
}

/// All bytes of `reader`, gunzipped if they start with gzip's magic bytes `1f 8b` (an IDX file
/// starts with `00 00`, so the two cannot be confused).
fn decode(mut reader: impl Read, file: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(file, e))?;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    // MultiGzDecoder: a gzip file may hold several members, read one after the other. It
    // checks each member's CRC and length, so a cut-short download is an error here.
    let mut raw = Vec::new();
    MultiGzDecoder::new(&bytes[..])
        .read_to_end(&mut raw)
        .map_err(|e| Error::Gzip {
            file: file.to_string(),
            message: e.to_string(),
        })?;
    Ok(raw)
}

/// The header of an IDX file: its magic number checked against `magic`, then `dims` sizes.
fn header(
    bytes: &[u8],
    file: &str,
    kind: &'static str,
    magic: u32,
    dims: usize,
) -> Result<Vec<usize>> {
    let header_len = 4 * (1 + dims);
    let word = |i: usize| u32::from_be_bytes(bytes[4 * i..4 * i + 4].try_into().unwrap());
    if bytes.len() < 4 {
        return Err(length_error(file, header_len, bytes.len()));
    }
    if word(0) != magic {
        return Err(Error::IdxMagic {
            file: file.to_string(),
            kind,
            expected: magic,
            found: word(0),
        });
    }
    if bytes.len() < header_len {
        return Err(length_error(file, header_len, bytes.len()));
    }
    let sizes: Vec<usize> = (1..=dims).map(|i| word(i) as usize).collect();
    // Sizes are u32s, so the product fits a u128; saturate for the message on 32-bit targets.
    let data_len = sizes.iter().map(|&n| n as u128).product::<u128>();
    let expected = usize::try_from(header_len as u128 + data_len).unwrap_or(usize::MAX);
    if bytes.len() != expected {
        return Err(length_error(file, expected, bytes.len()));
    }
    Ok(sizes)
}

/// `(count, rows, cols, pixels)` of an IDX images file.
fn parse_images(bytes: &[u8], file: &str) -> Result<(usize, usize, usize, Vec<u8>)> {
    let sizes = header(bytes, file, "images", IMAGES_MAGIC, 3)?;
    Ok((sizes[0], sizes[1], sizes[2], bytes[16..].to_vec()))
}

/// The labels of an IDX labels file, each checked to be a digit.
fn parse_labels(bytes: &[u8], file: &str) -> Result<Vec<u8>> {
    header(bytes, file, "labels", LABELS_MAGIC, 1)?;
    let labels = &bytes[8..];
    if let Some(index) = labels.iter().position(|&l| l > MAX_LABEL) {
        return Err(Error::LabelRange {
            file: file.to_string(),
            index,
            found: labels[index],
            max: MAX_LABEL,
        });
    }
    Ok(labels.to_vec())
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

fn io_error(file: &str, e: std::io::Error) -> Error {
    Error::Io {
        file: file.to_string(),
        message: format!("cannot read: {e}"),
    }
}

fn length_error(file: &str, expected: usize, found: usize) -> Error {
    Error::IdxLength {
        file: file.to_string(),
        expected,
        found,
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
        // A flipped bit in the compressed data: the CRC or the deflate stream catches it.
        let mut corrupt = gzip(&labels);
        let mid = corrupt.len() / 2;
        corrupt[mid] ^= 0x55;
        let err = Mnist::read(&images[..], &corrupt[..]).unwrap_err();
        assert!(
            matches!(&err, Error::Gzip { file, .. } if file == "labels"),
            "{err}"
        );
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
