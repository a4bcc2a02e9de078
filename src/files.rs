//! Opening the files the readers take (IDX, safetensors, GloVe, MR): regular files only, with
//! their size known before a byte is read, and read errors told apart from running out of
//! memory.
//!
//! Why regular files only: a FIFO blocks in `open` until something writes to it (`predict
//! --weights fifo` hung), and a device such as `/dev/zero` never ends (read whole, it grew
//! the process to gigabytes). Both are refused from their metadata, before they are opened.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use crate::error::{Error, Result};

/// Opens `path` for reading if it is a regular file (after following symbolic links), and
/// returns it with its length in bytes. `file` names it in errors.
pub(crate) fn open_regular(path: &Path, file: &str) -> Result<(File, u64)> {
    let metadata = std::fs::metadata(path).map_err(|e| read_error(file, e))?;
    if !metadata.is_file() {
        return Err(Error::Io {
            file: file.to_string(),
            message: format!(
                "cannot read: not a regular file but {}",
                kind_of(&metadata.file_type())
            ),
        });
    }
    let opened = File::open(path).map_err(|e| read_error(file, e))?;
    Ok((opened, metadata.len()))
}

/// What a file that is not a regular file is, in words.
fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// An I/O error while reading `file` as an [`Error`]: [`Error::OutOfMemory`] when the standard
/// library could not grow a buffer (`read_to_end` reports it as `ErrorKind::OutOfMemory`),
/// else [`Error::Io`] with what the system said.
pub(crate) fn read_error(file: &str, e: std::io::Error) -> Error {
    if e.kind() == ErrorKind::OutOfMemory {
        Error::OutOfMemory {
            file: file.to_string(),
        }
    } else {
        Error::Io {
            file: file.to_string(),
            message: format!("cannot read: {e}"),
        }
    }
}

/// Reads at most `limit` bytes of `reader` into a buffer that grows as they arrive (so a file
/// that claims more than it holds costs only what it holds), and says whether more followed.
/// Errors are left to the caller, who knows what they mean (a gzip stream's are format errors).
pub(crate) fn read_at_most(reader: impl Read, limit: u64) -> std::io::Result<(Vec<u8>, bool)> {
    read_at_most_into(Vec::new(), reader, limit)
}

/// [`read_at_most`] into a buffer with room for `expected` bytes reserved first (the length of
/// a regular file): one allocation of the right size, or `ErrorKind::OutOfMemory` at once.
pub(crate) fn read_expected(
    reader: impl Read,
    expected: u64,
    limit: u64,
) -> std::io::Result<(Vec<u8>, bool)> {
    let mut bytes = Vec::new();
    let room = usize::try_from(expected.min(limit)).unwrap_or(usize::MAX);
    bytes
        .try_reserve_exact(room)
        .map_err(|_| std::io::Error::from(ErrorKind::OutOfMemory))?;
    read_at_most_into(bytes, reader, limit)
}

fn read_at_most_into(
    mut bytes: Vec<u8>,
    reader: impl Read,
    limit: u64,
) -> std::io::Result<(Vec<u8>, bool)> {
    let read = reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    let more = read as u64 > limit;
    if more {
        bytes.pop();
    }
    Ok((bytes, more))
}

/// `text` for an error message: at most 60 characters, with the count of the ones left out,
/// so that a line of 64 MiB does not make a 64 MiB message.
pub(crate) fn cut(text: &str) -> String {
    const KEEP: usize = 60;
    match text.char_indices().nth(KEEP) {
        None => text.to_string(),
        Some((end, _)) => {
            let left = text[end..].chars().count();
            format!("{}... ({left} more characters)", &text[..end])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_on_a_character_boundary() {
        assert_eq!(cut("short"), "short");
        let long = "é".repeat(100);
        assert_eq!(
            cut(&long),
            format!("{}... (40 more characters)", "é".repeat(60))
        );
    }

    #[test]
    fn at_most_says_whether_more_followed() {
        assert_eq!(
            read_at_most(&b"abc"[..], 3).unwrap(),
            (b"abc".to_vec(), false)
        );
        assert_eq!(
            read_at_most(&b"abcd"[..], 3).unwrap(),
            (b"abc".to_vec(), true)
        );
        assert_eq!(
            read_at_most(&b"ab"[..], u64::MAX).unwrap(),
            (b"ab".to_vec(), false)
        );
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_directories_are_refused_before_they_are_opened() {
        let err = open_regular(Path::new("/dev/zero"), "/dev/zero").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/dev/zero: cannot read: not a regular file but a character device"
        );
        let dir = std::env::temp_dir();
        let err = open_regular(&dir, "tmp").unwrap_err();
        assert_eq!(
            err.to_string(),
            "tmp: cannot read: not a regular file but a directory"
        );
    }
}
