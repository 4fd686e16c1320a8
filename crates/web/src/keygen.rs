//! The applicant's own key pair for an NCA certificate (issue 20; 003 Std-1 §9 ¶2, the repeat issuance
//! through the portal): the form's PKCS#10 fields, which the person's signing agent fills
//! (`kz.gov.pki.qyzmet.keys` `generateRequest`, `assets/portal.js`) or the person pastes from another
//! tool, are checked here — Base64 (or PEM) of a request whose self-signature verifies, bounded — and
//! the certificates the CA issued on an application are shown in the cabinet with a download and a
//! button that has the agent install each beside its key (`installCertificate`). The platform never
//! sees a private key.
//!
//! Which fields carry requests is said by their codes, the ones `IssuedCertificate::request_field`
//! names, with the certificate each asks for. The check needs the PKI crate, which the domain must not
//! depend on, so it lives at the web edge.

use maud::{Markup, html};
use qyzmet_domain::application::IssuedCertificate;
use qyzmet_domain::regulation::{Field, Recipient};

use crate::i18n::{Lang, t};
use crate::pages::when_text;

/// The form fields that carry a PKCS#10 request, and the purpose of the certificate each asks for
/// (the agent's `purpose`, the CA's profile).
pub(crate) const REQUEST_FIELDS: [(&str, &str); 3] = [
    ("signature_public_key", "sign"),
    ("authentication_public_key", "auth"),
    ("pkcs10_request", "tls"),
];

/// The purpose of the certificate a field's request asks for, if the field carries one.
pub(crate) fn purpose_of(field: &Field) -> Option<&'static str> {
    REQUEST_FIELDS
        .iter()
        .find(|(code, _)| *code == field.code)
        .map(|(_, purpose)| *purpose)
}

/// The form's request fields' problems (the engine's check, which every door runs).
pub(crate) use qyzmet_engine::cases::key_requests::{errors as check, with_request_errors};

/// What the generate buttons ask the agent for: the applicant's IIN and BIN as the request's subject
/// hint (the CA writes the proven identity whatever the request says), and the signing key's algorithm.
pub(crate) struct Keygen<'a> {
    pub iin: &'a str,
    pub bin: Option<&'a str>,
    pub recipient: Recipient,
}

impl Keygen<'_> {
    /// The key algorithm the annex prints for a purpose: RSA 2048 for individuals' keys (Annexes 1, 3)
    /// and every authentication key; GOST 34.310-2004 for a legal entity's signing key (Annexes 4, 8);
    /// RSA 2048 for a TLS server (Annexes 6–7 name none).
    fn algorithm(&self, purpose: &str) -> &'static str {
        match (purpose, self.recipient) {
            ("sign", Recipient::LegalEntity) => "GOST2004",
            _ => "RSA2048",
        }
    }

    /// The button beside a request field (`id` is the textarea's), with what the script needs and
    /// says; a TLS request also asks for the server's names. Nothing for other fields.
    pub(crate) fn beside(&self, lang: Lang, field: &Field, id: &str) -> Markup {
        let Some(purpose) = purpose_of(field) else {
            return html! {};
        };
        html! {
            br;
            span.keygen data-keygen-for=(id) data-keygen-purpose=(purpose)
                data-keygen-algorithm=(self.algorithm(purpose)) data-keygen-iin=(self.iin)
                data-keygen-bin=[self.bin] data-keygen-locale=(lang.code())
                data-msg-working=(t(lang, "keygen.working")) data-msg-done=(t(lang, "keygen.done"))
                data-msg-canceled=(t(lang, "keygen.canceled")) data-msg-failed=(t(lang, "keygen.failed")) {
                @if purpose == "tls" {
                    label for={ (id) "-hosts" } { (t(lang, "keygen.hosts")) } " "
                    input id={ (id) "-hosts" } type="text" data-keygen-hosts size="40" placeholder="example.kz";
                    br;
                }
                button type="button" id={ "keygen-" (field.code) } data-keygen-button { (t(lang, "keygen.generate")) }
                " " output data-keygen-status role="status" {}
            }
        }
    }
}

/// The certificates the CA issued on an application: purpose, serial number, validity, the DER to
/// download (under `download_base`, the cabinet's application), and the button that has the person's agent install each beside the key it generated.
pub(crate) fn certificates_section(
    lang: Lang,
    download_base: Option<&str>,
    certificates: &[IssuedCertificate],
) -> Markup {
    if certificates.is_empty() {
        return html! {};
    }
    html! {
        section id="certificates" data-msg-working=(t(lang, "certificates.working"))
            data-msg-installed=(t(lang, "certificates.installed")) data-msg-canceled=(t(lang, "certificates.canceled"))
            data-msg-failed=(t(lang, "certificates.failed")) data-locale=(lang.code()) {
            h2 { (t(lang, "certificates.title")) }
            table {
                tr {
                    th { (t(lang, "certificates.purpose")) }
                    th { (t(lang, "certificates.serial")) }
                    th { (t(lang, "certificates.valid_until")) }
                    th {}
                }
                @for certificate in certificates {
                    tr id={ "certificate-" (certificate.serial) } {
                        td { (t(lang, &format!("certificates.purpose.{}", certificate.profile))) }
                        td { code { (certificate.serial) } }
                        td { (when_text(&certificate.not_after)) }
                        td {
                            @if let Some(base) = download_base {
                                a href={ (base) "/certificates/" (certificate.serial) ".cer" } download { (t(lang, "certificates.download")) }
                                " "
                            }
                            button type="button" id={ "install-" (certificate.serial) } data-install-certificate=(certificate.der) { (t(lang, "certificates.install")) }
                            " " output data-install-status role="status" {}
                        }
                    }
                }
            }
            p { small { (t(lang, "certificates.install_hint")) } }
        }
    }
}
