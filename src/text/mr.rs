//! The MR sentence file (`data/mr/mr.tsv`): `label<TAB>fold<TAB>sentence` per line after a
//! header, labels 0/1, folds 0..9.

use std::io::BufRead;
use std::path::Path;

use crate::error::{Error, Result};

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
/// names the file, the line (from 1) and what is wrong (a missing field, a label other than
/// 0/1, a fold outside 0..9).
pub fn read_mr(path: impl AsRef<Path>) -> Result<Vec<MrSentence>> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::Io {
        file: name.clone(),
        message: format!("cannot read: {e}"),
    })?;
    parse_mr(std::io::BufReader::new(file), &name)
}

/// Parses MR lines from `reader`; `file` names it in errors.
pub(crate) fn parse_mr(reader: impl BufRead, file: &str) -> Result<Vec<MrSentence>> {
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let error = |message: String| Error::Parse {
            file: file.to_string(),
            line: i + 1,
            message,
        };
        let line = line.map_err(|e| error(e.to_string()))?;
        if i == 0 {
            if line != "label\tfold\tsentence" {
                return Err(error(format!(
                    "expected the header `label<TAB>fold<TAB>sentence`, found `{line}`"
                )));
            }
            continue;
        }
        let mut fields = line.splitn(3, '\t');
        let (Some(label), Some(fold), Some(text)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(error("expected three TAB-separated fields".into()));
        };
        let label = match label {
            "0" => 0,
            "1" => 1,
            _ => return Err(error(format!("the label is `{label}`, not 0 or 1"))),
        };
        let fold = match fold.parse::<u8>() {
            Ok(f) if f < 10 => f,
            _ => return Err(error(format!("the fold is `{fold}`, not 0..9"))),
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
}
