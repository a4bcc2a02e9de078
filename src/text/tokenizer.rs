//! The MR tokenizer (`data/mr/README.md`, "Tokenizer"): lowercase, split on whitespace, words
//! are runs of letters, digits and apostrophes, every other character is a token; then quote
//! marks and clitics (`n't`, `'s`, `'ll`, ...) are split off as GloVe's vocabulary expects.

/// A word character: the apostrophe (U+0027), a letter or a digit.
fn is_word_char(c: char) -> bool {
    c == '\'' || c.is_alphanumeric()
}

/// The clitics split off after `n't` (their endings never overlap).
const CLITICS: [&str; 6] = ["'s", "'m", "'d", "'re", "'ve", "'ll"];

/// Splits one maximal run of word characters (lowercase) into tokens, appending them to `out`.
fn split_word(mut w: &str, out: &mut Vec<String>) {
    // a. leading quote marks: '' or ', but '80s keeps its apostrophe
    while let Some(rest) = w.strip_prefix('\'') {
        if let Some(rest2) = rest.strip_prefix('\'') {
            out.push("''".into());
            w = rest2;
        } else if rest.starts_with(|c: char| c.is_ascii_digit()) {
            break;
        } else {
            out.push("'".into());
            w = rest;
        }
    }
    // b. trailing quote marks, cut right to left, emitted after the word in their order
    let mut tail = Vec::new();
    while w.ends_with('\'') {
        if let Some(rest) = w.strip_suffix("''") {
            tail.push("''");
            w = rest;
        } else {
            tail.push("'");
            w = &w[..w.len() - 1];
        }
    }
    // c. the clitic of what remains
    if !w.is_empty() {
        if w.ends_with("n't") && w.chars().count() > 3 {
            out.push(w[..w.len() - 3].into()); // doesn't -> does n't, can't -> ca n't
            out.push("n't".into());
        } else if let Some(c) = CLITICS
            .iter()
            .find(|c| w.ends_with(*c) && w.len() > c.len())
        {
            out.push(w[..w.len() - c.len()].into()); // he's -> he 's
            out.push((*c).into());
        } else {
            out.push(w.into());
        }
    }
    out.extend(tail.iter().rev().map(|t| t.to_string()));
}

/// Splits a sentence into tokens by the MR rule (matching GloVe 6B's vocabulary: `'s`, `n't`,
/// `ca`, `''`, ...).
///
/// ```
/// use shapetorch::text::tokenize;
/// assert_eq!(
///     tokenize("Even if you can't pronounce ''gyro'' correctly"),
///     ["even", "if", "you", "ca", "n't", "pronounce", "''", "gyro", "''", "correctly"]
/// );
/// ```
pub fn tokenize(sentence: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in sentence.to_lowercase().split_whitespace() {
        let mut rest = chunk;
        while let Some(c) = rest.chars().next() {
            if is_word_char(c) {
                let end = rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len());
                split_word(&rest[..end], &mut out);
                rest = &rest[end..];
            } else {
                out.push(c.to_string());
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::tokenize;

    fn joined(s: &str) -> String {
        tokenize(s).join(" ")
    }

    #[test]
    fn the_readme_worked_examples() {
        // rows 0, 325 and 8845 of mr.tsv, with the token counts the README gives
        let cases = [
            ("The Rock is destined to be the 21st Century's new ''Conan'' and that he's going to make a splash even greater than Arnold Schwarzenegger, Jean Claud Van Damme or Steven Segal.",
             "the rock is destined to be the 21st century 's new '' conan '' and that he 's going to make a splash even greater than arnold schwarzenegger , jean claud van damme or steven segal .", 37),
            ("Even if you can't pronounce ''gyro'' correctly, you'll appreciate much of Vardalos' humor, which transcends ethnic boundaries.",
             "even if you ca n't pronounce '' gyro '' correctly , you 'll appreciate much of vardalos ' humor , which transcends ethnic boundaries .", 25),
            ("A movie that harps on media constructed 'issues' like whether compromise is the death of self... this Orgasm (won't be an) exceedingly memorable one for most people.",
             "a movie that harps on media constructed ' issues ' like whether compromise is the death of self . . . this orgasm ( wo n't be an ) exceedingly memorable one for most people .", 36),
        ];
        for (sentence, expected, count) in cases {
            assert_eq!(joined(sentence), expected);
            assert_eq!(tokenize(sentence).len(), count);
        }
    }

    #[test]
    fn the_readme_edge_cases() {
        assert_eq!(
            joined("`Memento'...wasn't it?'' We\u{2019}ve seen J.R.R. Tolkien's '80s 1/2 \u{2013} \u{bd}."),
            "` memento ' . . . was n't it ? '' we \u{2019} ve seen j . r . r . tolkien 's '80s 1 / 2 \u{2013} \u{bd} ."
        );
        assert_eq!(joined("o'brien"), "o'brien");
        assert_eq!(joined("n't 's"), "n't ' s"); // as tokenizer.py: a leading ' splits off
        assert_eq!(joined("''''"), "'' ''");
        assert_eq!(joined("  "), "");
    }
}
