//! `qyzmet sign` and `qyzmet verify` (issue 3): CMS SignedData in and out, exit 0 valid / 1 invalid /
//! 2 usage or I/O error.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use jiff::Timestamp;
use qyzmet_domain::ids::{Bin, Iin};
use qyzmet_pki::fetch::{NetworkIssuers, NetworkRevocation};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::report::{Report, RevocationStatus};
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::verify::{Budget, Expectation, Purpose, Verifier};

use super::{read_secret, write_output};
use crate::Outcome;

#[derive(Args)]
pub struct SignArgs {
    /// The signer's PKCS#12 key store.
    #[arg(long)]
    p12: PathBuf,
    /// File whose first line is the PKCS#12 password.
    #[arg(long)]
    password_file: PathBuf,
    /// Leave the document out of the signature.
    #[arg(long)]
    detached: bool,
    /// Add a signature time-stamp from this RFC 3161 TSA (e.g. http://127.0.0.1:8080/pki/tsa).
    #[arg(long)]
    tsa: Option<String>,
    /// Where to write the DER CMS; standard output by default.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The document to sign.
    document: PathBuf,
}

pub fn sign(args: SignArgs) -> anyhow::Result<Outcome> {
    let (document, store) = match read_signer(&args) {
        Ok(inputs) => inputs,
        Err(Usage(message)) => return Ok(usage(message)),
    };
    let mut cms = qyzmet_pki::cms::sign(&document, &store, args.detached, Timestamp::now())?;
    if let Some(tsa) = &args.tsa {
        let digest = qyzmet_pki::cms::signature_value_digest(&cms)?;
        let token = match qyzmet_pki::fetch::time_stamp(tsa, &digest) {
            Ok(token) => token,
            Err(e) => return Ok(usage(format!("--tsa {tsa}: {e}"))),
        };
        cms = qyzmet_pki::cms::add_signature_time_stamp(&cms, &token)?;
    }
    write_output(args.output.as_deref(), &cms)?;
    Ok(Outcome::Done)
}

/// A usage or I/O error, with its message.
struct Usage(String);

fn read(path: &PathBuf) -> Result<Vec<u8>, Usage> {
    std::fs::read(path).map_err(|e| Usage(format!("cannot read {}: {e}", path.display())))
}

fn read_signer(args: &SignArgs) -> Result<(Vec<u8>, KeyStore), Usage> {
    let document = read(&args.document)?;
    let p12 = read(&args.p12)?;
    let password = read_secret(&args.password_file)
        .map_err(|e| Usage(format!("{e:#}")))
        .and_then(|bytes| {
            String::from_utf8(bytes).map_err(|_| {
                Usage(format!(
                    "{}: the password is not UTF-8",
                    args.password_file.display()
                ))
            })
        })?;
    let store = KeyStore::from_pkcs12(&p12, &password)
        .map_err(|e| Usage(format!("--p12 {}: {e}", args.p12.display())))?;
    Ok((document, store))
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PurposeArg {
    /// A document signature (a signing key: nonRepudiation).
    Signing,
    /// A login (an authentication key: clientAuth).
    Authentication,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Trust anchor certificates (DER, or PEM that may hold several).
    #[arg(long = "trust", required = true)]
    trust: Vec<PathBuf>,
    /// Intermediate CA certificates paths may pass through (DER, PEM or certs-only CMS): Kalkan and
    /// NCALayer put only the signer's certificate into a CMS.
    #[arg(long = "intermediate")]
    intermediates: Vec<PathBuf>,
    /// Fetch a missing issuer's certificate from the caIssuers address its subordinate names (only
    /// from hosts the trusted certificates' own addresses name).
    #[arg(long)]
    fetch_issuers: bool,
    /// A further host whose caIssuers addresses may be followed (e.g. pki.gov.kz).
    #[arg(long = "fetch-issuers-from", requires = "fetch_issuers")]
    fetch_issuers_from: Vec<String>,
    /// Report, but do not require, the revocation status of intermediate CAs (for a root whose CRL is
    /// not at hand); the signer's certificate is always checked.
    #[arg(long)]
    ca_revocation_optional: bool,
    /// CRLs (DER or PEM) to use before fetching any.
    #[arg(long = "crl")]
    crls: Vec<PathBuf>,
    /// Ask the OCSP responder named in each certificate instead of fetching CRLs.
    #[arg(long)]
    ocsp: bool,
    /// Accept a certificate whose revocation status cannot be established (fails closed otherwise).
    #[arg(long)]
    allow_unknown_revocation: bool,
    /// The document, for a detached signature.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Validate as of this time (RFC 3339) instead of now.
    #[arg(long)]
    at: Option<Timestamp>,
    /// The IIN the signer must have.
    #[arg(long, conflicts_with = "expect_bin")]
    expect_iin: Option<Iin>,
    /// The BIN the signer's organisation must have.
    #[arg(long)]
    expect_bin: Option<Bin>,
    #[arg(long, value_enum, default_value = "signing")]
    purpose: PurposeArg,
    /// Print the validation report as JSON.
    #[arg(long)]
    json: bool,
    /// The CMS signature (DER, PEM labelled CMS or PKCS7, or base64), or an XML document with its
    /// XML signatures (XMLDSig, enveloped; several are judged last to first).
    signature: PathBuf,
}

pub fn verify(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let VerifyInputs {
        anchors,
        intermediates,
        crls,
        signature,
        data,
    } = match read_verify_inputs(&args) {
        Ok(inputs) => inputs,
        Err(Usage(message)) => return Ok(usage(message)),
    };
    let revocation = NetworkRevocation::new(CrlSet::new(crls), args.ocsp);
    let mut verifier =
        Verifier::new(anchors, Arc::new(revocation)).with_intermediates(&intermediates);
    if args.ca_revocation_optional {
        let anchors = verifier.anchors().to_vec();
        verifier = verifier.with_ca_revocation_optional(&anchors);
    }
    if args.fetch_issuers {
        let trusted = [verifier.anchors(), intermediates.as_slice()].concat();
        verifier = verifier.with_issuer_source(Arc::new(NetworkIssuers::new(
            &args.fetch_issuers_from,
            &trusted,
        )));
    }
    verifier.allow_unknown_revocation = args.allow_unknown_revocation;
    let expect = Expectation {
        iin: args.expect_iin,
        bin: args.expect_bin,
        purpose: match args.purpose {
            PurposeArg::Signing => Purpose::DocumentSignature,
            PurposeArg::Authentication => Purpose::Authentication,
        },
    };
    let at = args.at.unwrap_or_else(Timestamp::now);
    let report = if is_xml(&signature) {
        if data.is_some() {
            return Ok(usage(
                "--data: an XML signature is enveloped in its document; give the document only"
                    .into(),
            ));
        }
        verifier.verify_xml(&signature, &expect, at, &Budget::default())
    } else {
        verifier.verify(&signature, data.as_deref(), &expect, at)
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(if report.valid {
        Outcome::Done
    } else {
        Outcome::Rejected
    })
}

struct VerifyInputs {
    anchors: Vec<x509_cert::Certificate>,
    intermediates: Vec<x509_cert::Certificate>,
    crls: Vec<Vec<u8>>,
    signature: Vec<u8>,
    data: Option<Vec<u8>>,
}

fn read_verify_inputs(args: &VerifyArgs) -> Result<VerifyInputs, Usage> {
    Ok(VerifyInputs {
        anchors: certificate_files("--trust", &args.trust)?,
        intermediates: certificate_files("--intermediate", &args.intermediates)?,
        crls: args.crls.iter().map(read).collect::<Result<_, _>>()?,
        signature: signature_bytes(read(&args.signature)?),
        data: args.data.as_ref().map(read).transpose()?,
    })
}

/// The certificates of each file (DER, PEM bundle or certs-only CMS); a file without one is an error.
fn certificate_files(
    option: &str,
    paths: &[PathBuf],
) -> Result<Vec<x509_cert::Certificate>, Usage> {
    use der::Decode;
    let mut certificates = Vec::new();
    for path in paths {
        let found = qyzmet_pki::certificates_in(&read(path)?)
            .map_err(|e| Usage(format!("{option} {}: {e}", path.display())))?;
        if found.is_empty() {
            return Err(Usage(format!(
                "{option} {}: no certificate in the file",
                path.display()
            )));
        }
        for der in found {
            certificates.push(
                x509_cert::Certificate::from_der(&der)
                    .map_err(|e| Usage(format!("{option} {}: {e}", path.display())))?,
            );
        }
    }
    Ok(certificates)
}

/// An XML document (with its signatures inside) rather than a CMS: it starts, after an optional
/// byte-order mark and white space, with `<`.
fn is_xml(bytes: &[u8]) -> bool {
    bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(bytes)
        .trim_ascii_start()
        .starts_with(b"<")
}

/// A signature file as tools write it: DER or PEM is passed on; bare base64 (what NCALayer's
/// `createCAdESFromBase64` returns, and what pages post) is decoded.
fn signature_bytes(bytes: Vec<u8>) -> Vec<u8> {
    use base64::Engine;
    let text = bytes.trim_ascii();
    let is_base64 = !text.is_empty()
        && text
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=\r\n".contains(b));
    if is_base64
        && !text.starts_with(b"-----")
        && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(
            text.iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect::<Vec<u8>>(),
        )
    {
        return decoded;
    }
    bytes
}

fn print_report(report: &Report) {
    println!("{}", if report.valid { "VALID" } else { "INVALID" });
    report.failures.iter().for_each(print_failure);
    for signer in &report.signers {
        if let Some(identity) = &signer.signer {
            println!("signer: {}", identity.subject);
        }
        if let Some(time) = signer.claimed_signing_time {
            println!("  signing time (claimed): {time}");
        }
        if let Some(stamp) = &signer.time_stamp {
            println!("  time-stamp: {} by {}", stamp.time, stamp.authority);
        }
        for link in &signer.chain {
            println!("  chain: {}", link.subject);
        }
        for evidence in &signer.revocation {
            let status = match &evidence.status {
                RevocationStatus::Good => "not revoked".to_owned(),
                RevocationStatus::Revoked(r) => format!("revoked at {} ({})", r.at, r.reason),
                RevocationStatus::Unknown { why } => format!("unknown: {why}"),
            };
            println!(
                "  certificate {}: {status} [{}]",
                evidence.serial, evidence.source
            );
        }
        signer.failures.iter().for_each(print_failure);
        for note in &signer.notes {
            println!("  note: {} ({})", note.message.en, note.detail);
        }
    }
}

fn print_failure(failure: &qyzmet_pki::report::Failure) {
    println!(
        "  {}: {} ({})",
        failure.code.as_str(),
        failure.message.en,
        failure.detail
    );
}

/// A usage or I/O error of sign/verify: exit 2 (issue 3).
fn usage(message: String) -> Outcome {
    eprintln!("error: {message}");
    Outcome::Usage
}
