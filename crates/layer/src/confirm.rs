//! The person's consent: before the agent signs, or tells a page whose key it holds, it asks.

use std::io::{BufRead, Write};

use sha2::{Digest, Sha256};

/// How the agent obtains consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// Ask the person on the agent's terminal (standard error, answer on standard input); no answer, or
    /// anything but yes, refuses.
    Terminal,
    /// Consent to everything: for tests only (`qyzmet layer --yes` refuses to start unless
    /// `QYZMET_LAYER_AUTO_CONSENT_FOR_TEST` names the test).
    Always,
    /// Refuse everything (tests of the refusal path).
    Never,
}

/// What the agent is about to do, as the person is asked about it.
pub struct ConsentRequest<'a> {
    /// The page's `Origin` header, when the browser sent one.
    pub origin: Option<&'a str>,
    /// Whose key, as its certificate names the holder; none when no loaded key fits the request.
    pub holder: Option<String>,
    pub subject: Subject<'a>,
}

/// The object of a consent.
#[derive(Clone, Copy)]
pub enum Subject<'a> {
    /// `getKeyInfo`: the page learns the holder's name and IIN from the certificate.
    ShareCertificate,
    /// A signature over these bytes.
    Document(&'a [u8]),
    /// A signature over a hash the page computed: the person cannot see what it stands for.
    Digest(&'a [u8]),
    /// A request the loaded keys cannot serve, and why: the reason tells the page about the keys, so it
    /// is said only if the person agrees (declined, the page hears the same as for any refusal).
    Unservable(&'a str),
}

/// How much of a text document the question shows.
const PREVIEW_CHARACTERS: usize = 200;

impl ConsentRequest<'_> {
    /// The question put to the person.
    pub fn describe(&self) -> String {
        let from = match self.origin {
            Some(origin) => format!("The page {} asks", printable(origin)),
            None => "A program asks".to_owned(),
        };
        let holder = match &self.holder {
            Some(holder) => printable(holder),
            None => "(none)".to_owned(),
        };
        match self.subject {
            Subject::ShareCertificate => format!(
                "{from} for the certificate of {holder} (your name and IIN).\nShare it? [y/N] "
            ),
            Subject::Document(data) => {
                let preview = match std::str::from_utf8(data) {
                    Ok(text) => {
                        let shown: String = text.chars().take(PREVIEW_CHARACTERS).collect();
                        let rest = text.chars().count().saturating_sub(PREVIEW_CHARACTERS);
                        let more = match rest {
                            0 => String::new(),
                            n => format!("\n  … and {n} more characters"),
                        };
                        format!("Text:\n  {}{more}\n", printable(&shown))
                    }
                    Err(_) => "The data is not text.\n".to_owned(),
                };
                format!(
                    "{from} to sign {} bytes with the key of {holder}.\nSHA-256: {}\n{preview}Sign? [y/N] ",
                    data.len(),
                    hex::encode(Sha256::digest(data)),
                )
            }
            Subject::Digest(digest) => format!(
                "{from} to sign a precomputed SHA-256 hash with the key of {holder}.\nSHA-256: {}\n\
                 The document behind it is not shown: sign only if you know what it is.\nSign? [y/N] ",
                hex::encode(digest),
            ),
            Subject::Unservable(reason) => format!(
                "{from} for a signature this agent cannot make: {}.\nThe key it would use: {holder}.\n\
                 Tell the page so? If not, it is told you declined. [y/N] ",
                printable(reason),
            ),
        }
    }
}

/// The text with every control and direction-changing character escaped: a page chooses the document,
/// and must not be able to redraw the question (ANSI escapes, carriage returns) or reorder what it shows
/// (bidirectional overrides).
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            let deceptive = matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            match c {
                '\n' => "\n  ".to_owned(),
                c if c.is_control() || deceptive => c.escape_unicode().to_string(),
                c => c.to_string(),
            }
        })
        .collect()
}

/// Puts the question on standard error and reads one line from standard input; yes only for "y"/"yes".
pub(crate) async fn ask_on_terminal(question: String) -> bool {
    let answer = tokio::task::spawn_blocking(move || {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\n{question}");
        let _ = err.flush();
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line),
        }
    })
    .await
    .ok()
    .flatten();
    matches!(
        answer
            .as_deref()
            .map(|a| a.trim().to_lowercase())
            .as_deref(),
        Some("y" | "yes" | "и" | "иә" | "д" | "да")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_document_is_shown_escaped_and_cut() {
        let text = format!("Өтініш\u{1b}[2J\u{202E}{}", "а".repeat(300));
        let question = ConsentRequest {
            origin: Some("https://portal.example"),
            holder: Some("CN=ТӨЛЕУОВ ЕРҒАЛИ".into()),
            subject: Subject::Document(text.as_bytes()),
        }
        .describe();
        assert!(question.contains("Өтініш\\u{1b}[2J\\u{202e}"), "{question}");
        assert!(!question.contains('\u{1b}'));
        assert!(question.contains("and 111 more characters"), "{question}");
        assert!(question.contains(&hex::encode(Sha256::digest(text.as_bytes()))));
        assert!(question.starts_with("The page https://portal.example asks"));
    }

    #[test]
    fn binary_data_is_not_shown() {
        let question = ConsentRequest {
            origin: None,
            holder: Some("CN=X".into()),
            subject: Subject::Document(&[0xff, 0xfe, 0x00]),
        }
        .describe();
        assert!(question.contains("The data is not text."));
        assert!(question.contains("3 bytes"));
    }

    #[test]
    fn a_request_the_keys_cannot_serve_is_asked_about_before_the_page_hears_why() {
        let question = ConsentRequest {
            origin: Some("https://portal.example"),
            holder: None,
            subject: Subject::Unservable("the loaded key is not of IIN 000000000000\u{1b}[2J"),
        }
        .describe();
        assert!(
            question.starts_with("The page https://portal.example asks for a signature this agent cannot make: the loaded key is not of IIN 000000000000\\u{1b}[2J."),
            "{question}"
        );
        assert!(
            question.contains("The key it would use: (none)."),
            "{question}"
        );
        assert!(question.contains("If not, it is told you declined."));
    }
}
