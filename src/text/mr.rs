//! The MR sentence file (`data/mr/mr.tsv`): `label<TAB>fold<TAB>sentence` per line after a
//! header, labels 0/1, folds 0..9.

use std::io::BufRead;
use std::path::Path;

use crate::error::{Error, Result};
use crate::files::{cut, open_regular, read_error};

/// One sentence of MR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MrSentence {
    /// 0 negative, 1 positive.
    pub label: u8,
    /// The cross-validation fold, 0..9.
    pub fold: u8,
    /// The sentence as written.
    pub text: String,
}

/// Reads an MR file: the header `label\tfold\tsentence`, then one sentence per line. An error
/// names the file, the line (from 1) and what is wrong (no header, a missing field, a label
/// other than 0/1, a fold outside 0..9), quoting at most 60 characters of the text at fault.
/// Only a regular file is read (a FIFO or a device is an error).
pub fn read_mr(path: impl AsRef<Path>) -> Result<Vec<MrSentence>> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let (file, _) = open_regular(path, &name)?;
    parse_mr(std::io::BufReader::new(file), &name)
}

/// Parses MR lines from `reader` (the file's format, from any reader: a slice, a socket);
/// `file` names it in errors.
///
/// ```
/// use shapetorch::text::parse_mr;
/// let rows = parse_mr("label\tfold\tsentence\n1\t3\tGood.\n".as_bytes(), "mr.tsv")?;
/// assert_eq!((rows[0].label, rows[0].fold, rows[0].text.as_str()), (1, 3, "Good."));
/// # Ok::<(), shapetorch::Error>(())
/// ```
pub fn parse_mr(reader: impl BufRead, file: &str) -> Result<Vec<MrSentence>> {
    let mut out = Vec::new();
    let mut lines = reader.lines();
    let error = |line: usize, message: String| Error::Parse {
        file: file.to_string(),
        line,
        message,
    };
    let read = |line: usize, text: std::io::Result<String>| {
        text.map_err(|e| match read_error(file, e) {
            Error::Io { message, .. } => error(line, message),
            out_of_memory => out_of_memory,
        })
    };
    // The header comes first: an empty file has none (it was read as no sentences).
    match lines.next().map(|text| read(1, text)).transpose()? {
        Some(header) if header == "label\tfold\tsentence" => {}
        Some(header) => {
            return Err(error(
                1,
                format!(
                    "expected the header `label<TAB>fold<TAB>sentence`, found `{}`",
                    cut(&header)
                ),
            ))
        }
        None => {
            return Err(error(
                1,
                "expected the header `label<TAB>fold<TAB>sentence`, found an empty file".into(),
            ))
        }
    }
    for (i, line) in lines.enumerate() {
        let line_no = i + 2;
        let error = |message: String| error(line_no, message);
        let line = read(line_no, line)?;
        let mut fields = line.splitn(3, '\t');
        let (Some(label), Some(fold), Some(text)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(error("expected three TAB-separated fields".into()));
        };
        let label = match label {
            "0" => 0,
            "1" => 1,
            _ => return Err(error(format!("the label is `{}`, not 0 or 1", cut(label)))),
        };
        let fold = match fold.parse::<u8>() {
            Ok(f) if f < 10 => f,
            _ => return Err(error(format!("the fold is `{}`, not 0..9", cut(fold)))),
        };
        out.push(MrSentence {
            label,
            fold,
            text: text.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_and_names_bad_lines() {
        let ok = "label\tfold\tsentence\n1\t3\tGood.\n0\t9\tBad, bad\tfilm.\n";
        let rows = parse_mr(ok.as_bytes(), "mr.tsv").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].text, "Bad, bad\tfilm.");
        assert_eq!((rows[0].label, rows[0].fold), (1, 3));
        for (text, message) in [
            (
                "x\n",
                "mr.tsv:1: expected the header `label<TAB>fold<TAB>sentence`, found `x`",
            ),
            (
                "label\tfold\tsentence\n2\t1\ta\n",
                "mr.tsv:2: the label is `2`, not 0 or 1",
            ),
            (
                "label\tfold\tsentence\n1\t10\ta\n",
                "mr.tsv:2: the fold is `10`, not 0..9",
            ),
            (
                "label\tfold\tsentence\n1\t1\n",
                "mr.tsv:2: expected three TAB-separated fields",
            ),
        ] {
            assert_eq!(
                parse_mr(text.as_bytes(), "mr.tsv").unwrap_err().to_string(),
                message
            );
        }
    }

    /// A 0-byte file has no header: an error (it was `Ok([])`, and the example reported an
    /// accuracy of 0.00 % and exited 0). A header alone is an empty corpus, which is fine here.
    #[test]
    fn an_empty_file_is_an_error() {
        let err = parse_mr("".as_bytes(), "mr.tsv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "mr.tsv:1: expected the header `label<TAB>fold<TAB>sentence`, found an empty file"
        );
        assert!(parse_mr("label\tfold\tsentence\n".as_bytes(), "mr.tsv")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn long_fields_are_cut_in_messages() {
        let long = "x".repeat(1 << 20);
        for text in [
            format!("{long}\n"),
            format!("label\tfold\tsentence\n{long}\t1\ta\n"),
            format!("label\tfold\tsentence\n1\t{long}\ta\n"),
        ] {
            let message = parse_mr(text.as_bytes(), "mr.tsv").unwrap_err().to_string();
            assert!(message.len() < 200, "{}", &message[..200]);
        }
    }
}
