//! The person's consent: before the agent signs, or tells a page whose key it holds, it asks — in English,
//! Kazakh or Russian, as the page's `locale` (or `changeLocale`) says.

use std::io::{BufRead, Write};

use sha2::{Digest, Sha256};

use crate::generation::KeyPurpose;

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

/// The language of the questions. NCALayer's pages name `kk` or `ru`; a page that names none gets the
/// agent's own language, English, so the person sees the same language until a page asks otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    English,
    Kazakh,
    Russian,
}

impl Locale {
    /// The locale a page names: `kk` (NCALayer's own `changeLocale` also sends `kz`), `ru`, `en`. Any other
    /// name is English: NCALayer accepts any locale, and a page must not stop because this agent does
    /// not speak its language.
    pub fn named(name: &str) -> Locale {
        match name.trim().to_ascii_lowercase().as_str() {
            "kk" | "kz" => Locale::Kazakh,
            "ru" => Locale::Russian,
            _ => Locale::English,
        }
    }
}

/// What the agent is about to do, as the person is asked about it.
pub struct ConsentRequest<'a> {
    /// The page's `Origin` header, when the browser sent one.
    pub origin: Option<&'a str>,
    /// Whose key, as its certificate names the holder; none when no loaded key fits the request.
    pub holder: Option<String>,
    pub subject: Subject<'a>,
    pub locale: Locale,
}

/// The object of a consent.
#[derive(Clone, Copy)]
pub enum Subject<'a> {
    /// `getKeyInfo`: the page learns the holder's name and IIN from the certificate.
    ShareCertificate,
    /// Signatures over these documents (one question for all of them).
    Documents(&'a [Vec<u8>]),
    /// Signatures over hashes the page computed: the person cannot see what they stand for.
    Digests(&'a [Vec<u8>]),
    /// A request the loaded keys cannot serve, and why: the reason tells the page about the keys, so it
    /// is said only if the person agrees (declined, the page hears the same as for any refusal).
    Unservable(&'a str),
    /// `generateRequest`: a new key pair of this purpose and algorithm, kept encrypted in the key
    /// directory until its certificate is installed, and a certificate request for it.
    NewKey {
        purpose: KeyPurpose,
        algorithm: &'a str,
    },
    /// `installCertificate`: the certificate (its holder in [`ConsentRequest::holder`]) saved with the key
    /// generated for it as a new key store file.
    Install { serial: &'a str, file: &'a str },
    /// `installCertificate` of a certificate no key generated here matches: whether the page may be told.
    NoGeneratedKey,
}

/// How much of a text document the question shows.
const PREVIEW_CHARACTERS: usize = 200;
/// How many documents of a batch the question shows one by one; the rest are counted.
const DOCUMENTS_SHOWN: usize = 10;

/// The words of one language.
struct Words {
    page_asks: fn(&str) -> String,
    program_asks: &'static str,
    share: fn(&str, &str) -> String,
    sign_one: fn(&str, usize, &str) -> String,
    sign_many: fn(&str, usize, &str) -> String,
    document: fn(usize, usize) -> String,
    text: &'static str,
    more_characters: fn(usize) -> String,
    not_text: &'static str,
    more_documents: fn(usize) -> String,
    sign: &'static str,
    sign_all: &'static str,
    digests: fn(&str, usize, &str) -> String,
    digests_warning: &'static str,
    unservable: fn(&str, &str, &str) -> String,
    purpose: fn(KeyPurpose) -> &'static str,
    new_key: fn(&str, &str, &str) -> String,
    install: fn(&str, &str, &str, &str) -> String,
    no_generated_key: fn(&str) -> String,
}

const ENGLISH: Words = Words {
    page_asks: |origin| format!("The page {origin} asks"),
    program_asks: "A program asks",
    share: |who, holder| {
        format!("{who} for the certificate of {holder} (your name and IIN).\nShare it? [y/N] ")
    },
    sign_one: |who, bytes, holder| format!("{who} to sign {bytes} bytes with the key of {holder}."),
    sign_many: |who, count, holder| {
        format!("{who} to sign {count} documents with the key of {holder}.")
    },
    document: |number, bytes| format!("Document {number}: {bytes} bytes."),
    text: "Text:",
    more_characters: |n| format!("… and {n} more characters"),
    not_text: "The data is not text.",
    more_documents: |n| format!("… and {n} more documents."),
    sign: "Sign? [y/N] ",
    sign_all: "Sign them all? [y/N] ",
    digests: |who, count, holder| {
        format!("{who} to sign {count} precomputed hash(es) with the key of {holder}.")
    },
    digests_warning: "The document behind a hash is not shown: sign only if you know what it is.",
    unservable: |who, reason, holder| {
        format!(
            "{who} for a signature this agent cannot make: {reason}.\nThe key it would use: {holder}.\n\
             Tell the page so? If not, it is told you declined. [y/N] "
        )
    },
    purpose: |purpose| match purpose {
        KeyPurpose::Sign => "signing",
        KeyPurpose::Auth => "authentication",
        KeyPurpose::Tls => "TLS server",
    },
    new_key: |who, purpose, algorithm| {
        format!(
            "{who} to create a new {purpose} key ({algorithm}) and a certificate request for it.\n\
             The key stays on this computer, encrypted with your key stores' password, until its \
             certificate is installed.\nCreate it? [y/N] "
        )
    },
    install: |who, holder, serial, file| {
        format!(
            "{who} to save the certificate of {holder} (serial number {serial}) with the key made for it, \
             as the key store {file}.\nSave it? [y/N] "
        )
    },
    no_generated_key: |who| {
        format!(
            "{who} to install a certificate for which this agent made no key.\n\
             Tell the page so? If not, it is told you declined. [y/N] "
        )
    },
};

const KAZAKH: Words = Words {
    page_asks: |origin| format!("{origin} беті"),
    program_asks: "Бағдарлама",
    share: |who, holder| {
        format!("{who} {holder} сертификатын (атыңыз бен ЖСН) сұрайды.\nБөлісесіз бе? [y/N] ")
    },
    sign_one: |who, bytes, holder| {
        format!("{who} {holder} кілтімен {bytes} байтқа қол қоюды сұрайды.")
    },
    sign_many: |who, count, holder| {
        format!("{who} {holder} кілтімен {count} құжатқа қол қоюды сұрайды.")
    },
    document: |number, bytes| format!("{number}-құжат: {bytes} байт."),
    text: "Мәтін:",
    more_characters: |n| format!("… және тағы {n} таңба"),
    not_text: "Деректер мәтін емес.",
    more_documents: |n| format!("… және тағы {n} құжат."),
    sign: "Қол қоясыз ба? [y/N] ",
    sign_all: "Барлығына қол қоясыз ба? [y/N] ",
    digests: |who, count, holder| {
        format!("{who} {holder} кілтімен алдын ала есептелген {count} хэшке қол қоюды сұрайды.")
    },
    digests_warning: "Хэштің артындағы құжат көрсетілмейді: не екенін білсеңіз ғана қол қойыңыз.",
    unservable: |who, reason, holder| {
        format!(
            "{who} бұл агент жасай алмайтын қолтаңбаны сұрайды: {reason}.\nҚолданылатын кілт: {holder}.\n\
             Бетке осыны айтасыз ба? Әйтпесе, бас тартқаныңыз айтылады. [y/N] "
        )
    },
    purpose: |purpose| match purpose {
        KeyPurpose::Sign => "қол қою",
        KeyPurpose::Auth => "аутентификация",
        KeyPurpose::Tls => "TLS сервер",
    },
    new_key: |who, purpose, algorithm| {
        format!(
            "{who} жаңа {purpose} кілтін ({algorithm}) және оған сертификатқа сұрау салуды жасауды сұрайды.\n\
             Кілт сертификаты орнатылғанша осы компьютерде кілт қоймаларыңыздың құпиясөзімен шифрланып \
             сақталады.\nЖасайсыз ба? [y/N] "
        )
    },
    install: |who, holder, serial, file| {
        format!(
            "{who} {holder} сертификатын (сериялық нөмірі {serial}) оған жасалған кілтпен бірге {file} \
             кілт қоймасы ретінде сақтауды сұрайды.\nСақтайсыз ба? [y/N] "
        )
    },
    no_generated_key: |who| {
        format!(
            "{who} бұл агент кілт жасамаған сертификатты орнатуды сұрайды.\n\
             Бетке осыны айтасыз ба? Әйтпесе, бас тартқаныңыз айтылады. [y/N] "
        )
    },
};

const RUSSIAN: Words = Words {
    page_asks: |origin| format!("Страница {origin} просит"),
    program_asks: "Программа просит",
    share: |who, holder| format!("{who} сертификат {holder} (ваши имя и ИИН).\nПоделиться? [y/N] "),
    sign_one: |who, bytes, holder| format!("{who} подписать {bytes} байт ключом {holder}."),
    sign_many: |who, count, holder| format!("{who} подписать {count} документов ключом {holder}."),
    document: |number, bytes| format!("Документ {number}: {bytes} байт."),
    text: "Текст:",
    more_characters: |n| format!("… и ещё {n} символов"),
    not_text: "Данные — не текст.",
    more_documents: |n| format!("… и ещё {n} документов."),
    sign: "Подписать? [y/N] ",
    sign_all: "Подписать все? [y/N] ",
    digests: |who, count, holder| {
        format!("{who} подписать заранее вычисленные хеши ({count}) ключом {holder}.")
    },
    digests_warning: "Документ, из которого получен хеш, не показан: подписывайте, только если знаете, что это.",
    unservable: |who, reason, holder| {
        format!(
            "{who} подпись, которую этот агент сделать не может: {reason}.\nБыл бы использован ключ: {holder}.\n\
             Сообщить это странице? Если нет, ей будет сказано, что вы отказались. [y/N] "
        )
    },
    purpose: |purpose| match purpose {
        KeyPurpose::Sign => "подписи",
        KeyPurpose::Auth => "аутентификации",
        KeyPurpose::Tls => "TLS-сервера",
    },
    new_key: |who, purpose, algorithm| {
        format!(
            "{who} создать новый ключ {purpose} ({algorithm}) и запрос на сертификат для него.\n\
             Ключ останется на этом компьютере, зашифрованный паролем ваших хранилищ ключей, пока не \
             будет установлен его сертификат.\nСоздать? [y/N] "
        )
    },
    install: |who, holder, serial, file| {
        format!(
            "{who} сохранить сертификат {holder} (серийный номер {serial}) вместе с созданным для него \
             ключом как хранилище ключей {file}.\nСохранить? [y/N] "
        )
    },
    no_generated_key: |who| {
        format!(
            "{who} установить сертификат, для которого этот агент не создавал ключа.\n\
             Сообщить это странице? Если нет, ей будет сказано, что вы отказались. [y/N] "
        )
    },
};

impl ConsentRequest<'_> {
    /// The question put to the person.
    pub fn describe(&self) -> String {
        let words = match self.locale {
            Locale::English => &ENGLISH,
            Locale::Kazakh => &KAZAKH,
            Locale::Russian => &RUSSIAN,
        };
        let who = match self.origin {
            Some(origin) => (words.page_asks)(&printable(origin)),
            None => words.program_asks.to_owned(),
        };
        let holder = match &self.holder {
            Some(holder) => printable(holder),
            None => "(none)".to_owned(),
        };
        match self.subject {
            Subject::ShareCertificate => (words.share)(&who, &holder),
            Subject::Documents([document]) => format!(
                "{}\nSHA-256: {}\n{}{}",
                (words.sign_one)(&who, document.len(), &holder),
                hex::encode(Sha256::digest(document)),
                preview(words, document),
                words.sign,
            ),
            Subject::Documents(documents) => {
                let mut question = (words.sign_many)(&who, documents.len(), &holder);
                question.push('\n');
                for (index, document) in documents.iter().take(DOCUMENTS_SHOWN).enumerate() {
                    question.push_str(&format!(
                        "{}\nSHA-256: {}\n{}",
                        (words.document)(index + 1, document.len()),
                        hex::encode(Sha256::digest(document)),
                        preview(words, document),
                    ));
                }
                if documents.len() > DOCUMENTS_SHOWN {
                    question.push_str(&(words.more_documents)(documents.len() - DOCUMENTS_SHOWN));
                    question.push('\n');
                }
                question.push_str(words.sign_all);
                question
            }
            Subject::Digests(digests) => {
                let mut question = (words.digests)(&who, digests.len(), &holder);
                question.push('\n');
                for digest in digests.iter().take(DOCUMENTS_SHOWN) {
                    question.push_str(&format!("  {}\n", hex::encode(digest)));
                }
                if digests.len() > DOCUMENTS_SHOWN {
                    question.push_str(&(words.more_documents)(digests.len() - DOCUMENTS_SHOWN));
                    question.push('\n');
                }
                format!("{question}{}\n{}", words.digests_warning, words.sign)
            }
            Subject::Unservable(reason) => (words.unservable)(&who, &printable(reason), &holder),
            Subject::NewKey { purpose, algorithm } => {
                (words.new_key)(&who, (words.purpose)(purpose), &printable(algorithm))
            }
            Subject::Install { serial, file } => {
                (words.install)(&who, &holder, &printable(serial), &printable(file))
            }
            Subject::NoGeneratedKey => (words.no_generated_key)(&who),
        }
    }
}

/// The start of a text document, or a word that it is not text.
fn preview(words: &Words, data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) => {
            let shown: String = text.chars().take(PREVIEW_CHARACTERS).collect();
            let rest = text.chars().count().saturating_sub(PREVIEW_CHARACTERS);
            let more = match rest {
                0 => String::new(),
                n => format!("\n  {}", (words.more_characters)(n)),
            };
            format!("{}\n  {}{more}\n", words.text, printable(&shown))
        }
        Err(_) => format!("{}\n", words.not_text),
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

/// Puts the question on standard error and reads one line from standard input; yes only for "y"/"yes"
/// (or the Kazakh and Russian words for it).
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

    fn question(subject: Subject<'_>, locale: Locale) -> String {
        ConsentRequest {
            origin: Some("https://portal.example"),
            holder: Some("CN=ТӨЛЕУОВ ЕРҒАЛИ".into()),
            subject,
            locale,
        }
        .describe()
    }

    #[test]
    fn a_text_document_is_shown_escaped_and_cut() {
        let text = format!("Өтініш\u{1b}[2J\u{202E}{}", "а".repeat(300));
        let documents = [text.clone().into_bytes()];
        let question = question(Subject::Documents(&documents), Locale::English);
        assert!(question.contains("Өтініш\\u{1b}[2J\\u{202e}"), "{question}");
        assert!(!question.contains('\u{1b}'));
        assert!(question.contains("and 111 more characters"), "{question}");
        assert!(question.contains(&hex::encode(Sha256::digest(text.as_bytes()))));
        assert!(question.starts_with(&format!(
            "The page https://portal.example asks to sign {} bytes with the key of CN=ТӨЛЕУОВ ЕРҒАЛИ.",
            text.len()
        )));
        assert!(question.ends_with("Sign? [y/N] "));
    }

    #[test]
    fn binary_data_is_not_shown() {
        let documents = [vec![0xff, 0xfe, 0x00]];
        let question = ConsentRequest {
            origin: None,
            holder: Some("CN=X".into()),
            subject: Subject::Documents(&documents),
            locale: Locale::English,
        }
        .describe();
        assert!(question.contains("The data is not text."));
        assert!(question.contains("3 bytes"));
    }

    #[test]
    fn a_batch_is_one_question_showing_ten_documents_and_counting_the_rest() {
        let documents: Vec<Vec<u8>> = (0..12)
            .map(|i| format!("document {i}").into_bytes())
            .collect();
        let question = question(Subject::Documents(&documents), Locale::English);
        assert!(question.contains("to sign 12 documents"), "{question}");
        assert!(question.contains("Document 10: 10 bytes."), "{question}");
        assert!(!question.contains("Document 11"), "{question}");
        assert!(question.contains("… and 2 more documents."), "{question}");
        assert!(question.ends_with("Sign them all? [y/N] "));
    }

    #[test]
    fn the_question_is_in_the_pages_language() {
        let documents = [b"x".to_vec()];
        let kazakh = question(Subject::Documents(&documents), Locale::Kazakh);
        assert!(
            kazakh.starts_with(
                "https://portal.example беті CN=ТӨЛЕУОВ ЕРҒАЛИ кілтімен 1 байтқа қол қоюды сұрайды."
            ),
            "{kazakh}"
        );
        assert!(kazakh.ends_with("Қол қоясыз ба? [y/N] "), "{kazakh}");
        let russian = question(Subject::ShareCertificate, Locale::Russian);
        assert!(
            russian
                .starts_with("Страница https://portal.example просит сертификат CN=ТӨЛЕУОВ ЕРҒАЛИ"),
            "{russian}"
        );
        let digests = [vec![0xab; 32]];
        let russian = question(Subject::Digests(&digests), Locale::Russian);
        assert!(russian.contains(&"ab".repeat(32)), "{russian}");
        assert!(russian.ends_with("Подписать? [y/N] "), "{russian}");
        assert_eq!(Locale::named("KK"), Locale::Kazakh);
        assert_eq!(Locale::named("kz"), Locale::Kazakh);
        assert_eq!(Locale::named("ru"), Locale::Russian);
        assert_eq!(Locale::named("de"), Locale::English);
    }

    #[test]
    fn new_keys_and_installs_are_asked_in_the_pages_language() {
        let new_key = Subject::NewKey {
            purpose: KeyPurpose::Sign,
            algorithm: "RSA2048",
        };
        let kazakh = question(new_key, Locale::Kazakh);
        assert!(
            kazakh.starts_with("https://portal.example беті жаңа қол қою кілтін (RSA2048)"),
            "{kazakh}"
        );
        assert!(kazakh.ends_with("Жасайсыз ба? [y/N] "), "{kazakh}");
        let russian = question(
            Subject::Install {
                serial: "01AB",
                file: "sign-900101400001-01AB.p12\u{1b}[2J",
            },
            Locale::Russian,
        );
        assert!(
            russian.starts_with(
                "Страница https://portal.example просит сохранить сертификат CN=ТӨЛЕУОВ ЕРҒАЛИ (серийный номер 01AB)"
            ),
            "{russian}"
        );
        assert!(russian.contains("01AB.p12\\u{1b}[2J"), "{russian}");
        let english = question(Subject::NoGeneratedKey, Locale::English);
        assert!(
            english.contains("for which this agent made no key"),
            "{english}"
        );
        assert!(english.contains("If not, it is told you declined."));
    }

    #[test]
    fn a_request_the_keys_cannot_serve_is_asked_about_before_the_page_hears_why() {
        let question = ConsentRequest {
            origin: Some("https://portal.example"),
            holder: None,
            subject: Subject::Unservable("the loaded key is not of IIN 000000000000\u{1b}[2J"),
            locale: Locale::English,
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
