//! `qyzmet pki …`: the certification authorities' operations (issue 3).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use der::{Decode, EncodePem};
use jiff::Timestamp;
use qyzmet_ca::Service;
use qyzmet_domain::ids::{Bin, Iin};
use qyzmet_pki::KeyAlgorithm;
use qyzmet_pki::authority::{
    CertificationRequest, EmployeeRole, Endpoints, Issue, Profile, serial_hex,
};
use qyzmet_pki::crl::RevocationReason;
use qyzmet_pki::name::{Holder, Organisation};
use qyzmet_store::Store;
use qyzmet_store::pki::CertificateQuery;
use x509_cert::Certificate;

use super::{CLI_ACTOR, open, open_existing, read_secret, write_output};
use crate::{Outcome, StoreArgs};

/// Where the CA keys' passphrase comes from: a file, or the environment (`QYZMET_CA_PASSPHRASE`), never
/// the command line, where other users of the machine could read it.
#[derive(Args, Clone, Debug)]
pub struct PassphraseArgs {
    /// File whose first line is the passphrase of the CA keys (or set QYZMET_CA_PASSPHRASE).
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
}

const PASSPHRASE_VARIABLE: &str = "QYZMET_CA_PASSPHRASE";

impl PassphraseArgs {
    pub fn given(&self) -> bool {
        self.passphrase_file.is_some() || std::env::var_os(PASSPHRASE_VARIABLE).is_some()
    }

    pub fn read(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(file) = &self.passphrase_file {
            return read_secret(file);
        }
        match std::env::var(PASSPHRASE_VARIABLE) {
            Ok(text) if !text.is_empty() => Ok(text.into_bytes()),
            _ => anyhow::bail!(
                "the CA passphrase is required: --passphrase-file FILE or {PASSPHRASE_VARIABLE}"
            ),
        }
    }
}

#[derive(Args, Clone, Debug)]
pub struct EndpointArgs {
    /// Public address of the node serving /pki/… (written into certificates as CRL and OCSP addresses).
    #[arg(
        long,
        env = "QYZMET_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
}

/// What every operation of the CAs needs: where the data is, the passphrase, the public address.
#[derive(Args, Clone, Debug)]
pub struct CaArgs {
    #[command(flatten)]
    endpoints: EndpointArgs,
    #[command(flatten)]
    passphrase: PassphraseArgs,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ProfileArg {
    Signing,
    Authentication,
    Tls,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    FirstHead,
    RightToSign,
    FinancialSignature,
    HrOfficer,
    Employee,
}

impl From<RoleArg> for EmployeeRole {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::FirstHead => EmployeeRole::FirstHead,
            RoleArg::RightToSign => EmployeeRole::RightToSign,
            RoleArg::FinancialSignature => EmployeeRole::FinancialSignature,
            RoleArg::HrOfficer => EmployeeRole::HrOfficer,
            RoleArg::Employee => EmployeeRole::Employee,
        }
    }
}

#[derive(Subcommand)]
pub enum PkiCommand {
    /// Create the root, the NCA, the state bodies' CA, their OCSP responders and the TSA.
    Init {
        #[arg(long, default_value = "p256")]
        algorithm: KeyAlgorithm,
        /// File whose first line is the passphrase of the OCSP responders' and the TSA's keys, the
        /// one web nodes get; the CA keys stay under the CA passphrase, which only `qyzmet ca serve`
        /// reads. Without it every key is under the CA passphrase.
        #[arg(long)]
        services_passphrase_file: Option<PathBuf>,
        #[command(flatten)]
        authority: CaArgs,
    },
    /// Issue a certificate: from a PKCS#10 request (--csr), or with a new key pair handed out as a
    /// password-protected PKCS#12 (--p12-out).
    Issue(Box<IssueArgs>),
    /// Revoke a certificate with an RFC 5280 reason; the issuer's CRL is republished at once.
    Revoke {
        /// Serial number in hex, as `pki list` prints it.
        serial: String,
        /// RFC 5280 reason: unspecified, key-compromise, ca-compromise, affiliation-changed (e.g. the
        /// employee was dismissed), superseded, cessation-of-operation, certificate-hold,
        /// privilege-withdrawn, aa-compromise.
        #[arg(long)]
        reason: RevocationReason,
        /// When the revocation takes effect (RFC 3339); now by default.
        #[arg(long)]
        at: Option<Timestamp>,
        #[command(flatten)]
        authority: CaArgs,
    },
    /// The certificate register: search by IIN, BIN, serial, status.
    List {
        #[arg(long)]
        iin: Option<Iin>,
        #[arg(long)]
        bin: Option<Bin>,
        #[arg(long)]
        serial: Option<String>,
        #[arg(long, value_parser = ["issued", "revoked"])]
        status: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Publish a fresh signed CRL of a CA and write it (DER).
    Crl {
        #[arg(long, default_value = "nca")]
        ca: String,
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        authority: CaArgs,
    },
    /// Write a CA's certificate (PEM): the trust anchor for `qyzmet verify --trust`.
    Certificate {
        #[arg(default_value = "root")]
        ca: String,
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Args)]
pub struct IssueArgs {
    /// nca (individuals and legal entities) or gov (state bodies' officials).
    #[arg(long, default_value = "nca")]
    ca: String,
    #[arg(long, value_enum, default_value = "signing")]
    profile: ProfileArg,
    /// For a legal entity's employee: the role written into the certificate.
    #[arg(long, value_enum)]
    role: Option<RoleArg>,
    /// A PKCS#10 request (PEM or DER); the certificate is written to --output.
    #[arg(long, conflicts_with_all = ["iin", "p12_out"])]
    csr: Option<PathBuf>,
    /// Where to write the certificate (PEM) issued from --csr; standard output by default.
    #[arg(short, long, requires = "csr")]
    output: Option<PathBuf>,
    #[arg(long, requires = "p12_out")]
    iin: Option<Iin>,
    #[arg(long, requires = "iin")]
    surname: Option<String>,
    #[arg(long, requires = "iin")]
    name: Option<String>,
    #[arg(long)]
    patronymic: Option<String>,
    #[arg(long, requires = "organisation")]
    bin: Option<Bin>,
    #[arg(long, requires = "bin")]
    organisation: Option<String>,
    #[arg(long)]
    email: Option<String>,
    /// Key algorithm of the generated key pair.
    #[arg(long, default_value = "p256")]
    algorithm: KeyAlgorithm,
    /// Where to write the PKCS#12 with the new key and its chain.
    #[arg(long, requires_all = ["iin", "p12_password_file"])]
    p12_out: Option<PathBuf>,
    /// File whose first line is the PKCS#12 password.
    #[arg(long)]
    p12_password_file: Option<PathBuf>,
    #[command(flatten)]
    authority: CaArgs,
}

fn service(authority: &CaArgs, store: Store) -> Service {
    Service {
        store,
        endpoints: Endpoints {
            base_url: authority.endpoints.public_url.clone(),
        },
    }
}

/// An operation the input made impossible (unknown CA, bad name, serial already revoked …) exits 1 with
/// the message; a failure of the system stays an error (exit 3).
fn refused(error: qyzmet_ca::CaError) -> anyhow::Result<Outcome> {
    use qyzmet_ca::CaError;
    use qyzmet_pki::PkiError;
    match error {
        CaError::Invalid(message)
        | CaError::Store(qyzmet_store::StoreError::Invalid(message))
        | CaError::Pki(PkiError::Rejected(message)) => {
            eprintln!("error: {message}");
            Ok(Outcome::Rejected)
        }
        e @ (CaError::AlreadyInitialised | CaError::NotInitialised) => {
            eprintln!("error: {e}");
            Ok(Outcome::Rejected)
        }
        e => Err(e.into()),
    }
}

/// The CA service with its keys unlocked by the passphrase.
async fn unlock(authority: &CaArgs) -> anyhow::Result<(Service, qyzmet_ca::Authorities)> {
    let passphrase = authority.passphrase.read()?;
    let service = service(authority, open_existing(&authority.store).await?);
    let authorities = service.load(&passphrase).await?;
    Ok((service, authorities))
}

pub async fn run(command: PkiCommand) -> anyhow::Result<Outcome> {
    match command {
        PkiCommand::Init {
            algorithm,
            services_passphrase_file,
            authority,
        } => {
            let passphrase = authority.passphrase.read()?;
            let services = match &services_passphrase_file {
                Some(file) => read_secret(file)?,
                None => passphrase.clone(),
            };
            let service = service(&authority, open(&authority.store).await?);
            match service
                .init_with(algorithm, &passphrase, &services, CLI_ACTOR)
                .await
            {
                Ok(authorities) => {
                    for ca in &authorities.cas {
                        println!(
                            "{:<5} {}  {}",
                            ca.code,
                            serial_hex(&ca.certificate.tbs_certificate.serial_number),
                            qyzmet_pki::name::display(&ca.certificate.tbs_certificate.subject)
                        );
                    }
                    println!(
                        "CRL: {}  OCSP: {}  TSA: {}",
                        service.endpoints.crl("<ca>"),
                        service.endpoints.ocsp(),
                        service.endpoints.tsa()
                    );
                    Ok(Outcome::Done)
                }
                Err(e) => refused(e),
            }
        }
        PkiCommand::Issue(args) => issue(*args).await,
        PkiCommand::Revoke {
            serial,
            reason,
            at,
            authority,
        } => {
            let (service, authorities) = unlock(&authority).await?;
            match service
                .revoke(
                    &authorities,
                    &serial,
                    reason,
                    at.unwrap_or_else(Timestamp::now),
                    CLI_ACTOR,
                )
                .await
            {
                Ok(record) => {
                    println!(
                        "revoked {} ({}) at {}, reason {reason}; CRL of {} republished",
                        record.serial,
                        record.subject,
                        record.revoked_at.unwrap_or_default(),
                        record.issuer
                    );
                    Ok(Outcome::Done)
                }
                Err(e) => refused(e),
            }
        }
        PkiCommand::List {
            iin,
            bin,
            serial,
            status,
            limit,
            json,
            store,
        } => {
            let store = open_existing(&store).await?;
            let query = CertificateQuery {
                iin: iin.map(|i| i.to_string()),
                bin: bin.map(|b| b.to_string()),
                serial,
                issuer: None,
                revoked: status.map(|s| s == "revoked"),
            };
            let records = store.certificates(&query, limit).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&records)?);
            } else {
                for r in &records {
                    let status = match &r.revoked_at {
                        Some(at) => format!(
                            "revoked {at} ({})",
                            r.revocation_reason
                                .and_then(|c| u8::try_from(c).ok())
                                .and_then(RevocationReason::from_code)
                                .map(|r| r.name())
                                .unwrap_or("?")
                        ),
                        None => "issued".into(),
                    };
                    println!(
                        "{}  {:<5} {:<14} {}  until {}  {status}",
                        r.serial, r.issuer, r.profile, r.subject, r.not_after
                    );
                }
                eprintln!("{} certificate(s)", records.len());
            }
            Ok(Outcome::Done)
        }
        PkiCommand::Crl {
            ca,
            output,
            authority,
        } => {
            let (service, authorities) = unlock(&authority).await?;
            let record = match service.publish_crl(&authorities, &ca, CLI_ACTOR).await {
                Ok(record) => record,
                Err(e) => return refused(e),
            };
            write_output(output.as_deref(), &record.crl_der)?;
            eprintln!(
                "CRL #{} of {ca}, next update {}",
                record.number, record.next_update
            );
            Ok(Outcome::Done)
        }
        PkiCommand::Certificate { ca, output, store } => {
            let store = open_existing(&store).await?;
            let record = store
                .authorities()
                .await?
                .into_iter()
                .find(|r| r.code == ca);
            let Some(record) = record else {
                eprintln!(
                    "error: ca: no certification authority {ca:?} (run `qyzmet pki init` first)"
                );
                return Ok(Outcome::Rejected);
            };
            let certificate = Certificate::from_der(&record.certificate_der)?;
            write_output(
                output.as_deref(),
                certificate.to_pem(der::pem::LineEnding::LF)?.as_bytes(),
            )?;
            Ok(Outcome::Done)
        }
    }
}

async fn issue(args: IssueArgs) -> anyhow::Result<Outcome> {
    let role = args.role.map(EmployeeRole::from);
    let profile = match args.profile {
        ProfileArg::Signing => Profile::Signing { role },
        ProfileArg::Authentication => Profile::Authentication { role },
        ProfileArg::Tls => Profile::Tls {
            dns_names: Vec::new(),
        },
    };
    let (service, authorities) = unlock(&args.authority).await?;
    if let Some(csr) = &args.csr {
        let bytes = std::fs::read(csr).with_context(|| format!("cannot read {}", csr.display()))?;
        let request = match CertificationRequest::parse(&bytes) {
            Ok(request) => request,
            Err(e) => {
                eprintln!("error: --csr {}: {e}", csr.display());
                return Ok(Outcome::Rejected);
            }
        };
        let profile = match profile {
            Profile::Tls { .. } if request.dns_names.is_empty() => {
                eprintln!(
                    "error: --csr: a TLS certificate needs DNS names in the request's subjectAltName"
                );
                return Ok(Outcome::Rejected);
            }
            Profile::Tls { .. } => Profile::Tls {
                dns_names: request.dns_names.clone(),
            },
            other => other,
        };
        let issue = Issue {
            subject: request.subject,
            public_key: request.public_key,
            profile,
            not_before: Timestamp::now(),
        };
        let certificate = match service
            .issue(&authorities, &args.ca, &issue, CLI_ACTOR)
            .await
        {
            Ok(certificate) => certificate,
            Err(e) => return refused(e),
        };
        write_output(
            args.output.as_deref(),
            certificate.to_pem(der::pem::LineEnding::LF)?.as_bytes(),
        )?;
        eprintln!(
            "issued {}",
            serial_hex(&certificate.tbs_certificate.serial_number)
        );
        return Ok(Outcome::Done);
    }
    let (Some(iin), Some(p12_out), Some(password_file)) =
        (args.iin, &args.p12_out, &args.p12_password_file)
    else {
        eprintln!(
            "error: give --csr FILE, or --iin with --surname, --name, --p12-out and --p12-password-file"
        );
        return Ok(Outcome::Rejected);
    };
    let holder = Holder {
        surname: args.surname.unwrap_or_default(),
        name: args.name.unwrap_or_default(),
        patronymic: args.patronymic,
        iin,
        organisation: args.bin.map(|bin| Organisation {
            name: args.organisation.unwrap_or_default(),
            bin,
        }),
        email: args.email,
    };
    if matches!(profile, Profile::Tls { .. }) {
        eprintln!("error: --profile tls is issued from a request (--csr)");
        return Ok(Outcome::Rejected);
    }
    let password = String::from_utf8(read_secret(password_file)?)
        .context("the PKCS#12 password must be UTF-8")?;
    let store = match service
        .issue_key_store(
            &authorities,
            &args.ca,
            &holder,
            profile,
            args.algorithm,
            CLI_ACTOR,
        )
        .await
    {
        Ok(store) => store,
        Err(e) => return refused(e),
    };
    let p12 = store.to_pkcs12(&password, &iin.to_string())?;
    write_file(p12_out, &p12)?;
    println!(
        "issued {} for {}; PKCS#12 written to {}",
        serial_hex(&store.certificate.tbs_certificate.serial_number),
        qyzmet_pki::name::display(&store.certificate.tbs_certificate.subject),
        p12_out.display()
    );
    Ok(Outcome::Done)
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_output(Some(path), bytes)
}
