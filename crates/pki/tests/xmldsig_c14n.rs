//! Our canonicalisation against libxml2's. The expected outputs in tests/data/xml/c14n were written by
//! `xmllint --c14n` and `xmllint --exc-c14n` (libxml2 2.9.14; both keep comments); where xmllint is
//! installed the test also runs it again, so the files cannot drift from what libxml2 says.

use std::path::{Path, PathBuf};
use std::process::Command;

use qyzmet_pki::xmldsig::c14n::{Method, canonicalize};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/xml/c14n")
}

fn xmllint(flag: &str, file: &Path) -> Option<Vec<u8>> {
    let output = Command::new("xmllint").arg(flag).arg(file).output().ok()?;
    assert!(
        output.status.success(),
        "xmllint {flag} {}: {}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Some(output.stdout)
}

#[test]
fn inclusive_and_exclusive_c14n_agree_with_libxml2() {
    let mut documents: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    documents.sort();
    assert!(documents.len() >= 3, "the c14n fixtures are missing");
    let mut live = 0;
    for document in &documents {
        let input = std::fs::read(document).unwrap();
        for (flag, extension, method) in [
            ("--c14n", "c14n", Method::Inclusive { comments: true }),
            (
                "--exc-c14n",
                "exc-c14n",
                Method::Exclusive {
                    comments: true,
                    inclusive_prefixes: Vec::new(),
                },
            ),
        ] {
            let expected = std::fs::read(document.with_extension(extension)).unwrap();
            let ours = canonicalize(&input, &method).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&expected),
                "{} {flag}",
                document.display()
            );
            if let Some(libxml2) = xmllint(flag, document) {
                assert_eq!(
                    libxml2,
                    expected,
                    "{}: the fixture is stale",
                    document.display()
                );
                live += 1;
            }
        }
    }
    if live == 0 {
        eprintln!("xmllint not installed (libxml2-utils): compared with the stored outputs only");
    }
}

#[test]
fn without_comments_drops_every_comment_and_nothing_else() {
    let input = std::fs::read(fixtures().join("namespaces_and_escapes.xml")).unwrap();
    let with =
        String::from_utf8(canonicalize(&input, &Method::Inclusive { comments: true }).unwrap())
            .unwrap();
    let without =
        String::from_utf8(canonicalize(&input, &Method::Inclusive { comments: false }).unwrap())
            .unwrap();
    assert!(with.contains("<!-- inner -->") && !without.contains("<!--"));
    let stripped = with
        .replace("<!-- before -->\n", "")
        .replace("<!-- inner -->", "")
        .replace("\n<!-- after -->", "");
    assert_eq!(stripped, without);
}
