//! A platform for the HTTP tests of the portal and the back office, and a client that drives the
//! router the way a browser does: it keeps cookies, reads the CSRF token and the signing pages'
//! `data-document` from the HTML, and follows redirects only when asked.
//!
//! The platform: the CAs (root, NCA, state bodies' CA), a verifier anchored at the root with the CAs'
//! current CRLs (no network), the demo directory, a few people in the individuals' database with a
//! signing and an authentication key each, a legal entity, and the clerk, executor and head of the
//! National Archive and a clerk of the Ministry of Justice.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use base64::Engine as _;
use http_body_util::BodyExt;
use jiff::Timestamp;
use qyzmet_ca::{Service, code};
use qyzmet_domain::calendar::Calendar;
use qyzmet_domain::directory::{Directory, Role, StaffMember};
use qyzmet_domain::ids::{Bin, Division, EntityKind, Iin, Sex};
use qyzmet_domain::registry::{LegalEntity, Person};
use qyzmet_engine::{Catalogue, Engine, InProcess};
use qyzmet_pki::KeyAlgorithm;
use qyzmet_pki::authority::{Endpoints, Profile};
use qyzmet_pki::name::{Holder, Organisation};
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::verify::Verifier;
use qyzmet_store::Store;
use qyzmet_store::portal::{Account, Proof};
use qyzmet_store::registry::{insert_entity, insert_person};
use qyzmet_web::AppState;
use tower::ServiceExt;

/// The password of every account the platform creates.
pub const PASSWORD: &str = "correct-horse-2026";
pub const ARCHIVE: &str = "national-archive";
pub const MINISTRY: &str = "ministry-justice";
/// A Kyzylorda PSC branch of seed 004 Annex 2.
pub const PSC_BRANCH: &str = "kyzylorda-psc-city-1";
/// The NCA, and the national operator of the platform.
pub const CA: &str = "nca-rk";
pub const OPERATOR: &str = "national-operator";
const DIRECTORY: &str = include_str!("../../../demo/data/directory.toml");

/// A person of the platform, with their keys.
pub struct Who {
    pub iin: String,
    pub surname: String,
    pub given_name: String,
    pub signing: KeyStore,
    pub auth: KeyStore,
}

pub struct Platform {
    pub state: AppState,
    /// The directory of the CA signer's socket (the signer runs on the test's runtime).
    pub signer_dir: Arc<tempfile::TempDir>,
    pub verifier: Arc<Verifier>,
    /// Applicants with accounts.
    pub alice: Who,
    pub bob: Who,
    /// An applicant with an account, kept for the throttling case.
    pub erlan: Who,
    /// In the individuals' database without an account.
    pub nurlan: Who,
    /// The head of a legal entity, without an account; her certificates carry the entity's BIN.
    pub dana: Who,
    pub bin: String,
    /// Staff of the National Archive, and a clerk of the Ministry of Justice.
    pub clerk: Who,
    pub executor: Who,
    pub head: Who,
    pub ministry_clerk: Who,
    /// An operator of a PSC branch.
    pub psc_operator: Who,
    /// An operator of the NCA (003: issues and revokes certificates).
    pub ca_operator: Who,
    /// An administrator of the national operator (runs the platform).
    pub administrator: Who,
}

/// An argon2id hash of [`PASSWORD`] with small parameters: verification reads them from the hash,
/// so sign-ins stay fast in unoptimised test builds.
fn cheap_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
        let params = argon2::Params::new(64, 1, 1, None).unwrap();
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string()
    })
    .clone()
}

pub async fn account(store: &Store, iin: &str, bin: Option<&str>) {
    store
        .create_account(
            &Account {
                iin: iin.to_owned(),
                bin: bin.map(str::to_owned),
                email: format!("{iin}@mail.kz"),
                password_hash: Some(cheap_hash()),
                lang: "en".into(),
                created_at: qyzmet_store::now_text(),
                // The platform's known people, as the demo's: the operator vouches for them.
                proven_by: Some(Proof::Operator),
            },
            None,
        )
        .await
        .unwrap()
        .unwrap();
}

/// A multipart form's content type and body: the text `fields`, then the `files` (the field's
/// name, the file's name and its bytes, sent as PDF).
pub fn multipart<K: AsRef<str>, V: AsRef<str>>(
    fields: &[(K, V)],
    files: &[(&str, &str, &[u8])],
) -> (String, Vec<u8>) {
    let boundary = "qyzmet-test-boundary-7d9f";
    let mut body = Vec::new();
    for (name, value) in fields {
        let (name, value) = (name.as_ref(), value.as_ref());
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/pdf\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Commits a test's seeding of the registers (the audit entry names the fixture `what`).
pub use qyzmet_store::testing::commit_seed;

/// A member of staff as a test appoints them: a specialist of `organisation` in `role`.
pub fn appointment(iin: Iin, organisation: &str, role: Role) -> StaffMember {
    StaffMember {
        iin,
        organisation: organisation.to_owned(),
        role,
        position_kk: "маман".into(),
        position_ru: "специалист".into(),
    }
}

/// Loads the demo directory with `staff` appointed.
pub async fn appoint(store: &Store, staff: &[StaffMember]) {
    store
        .load_directory(
            &Directory::from_toml(DIRECTORY).unwrap(),
            staff,
            "admin:test",
        )
        .await
        .unwrap();
}

/// The holder of a certificate: a person, and the organisation they act for if any.
pub fn holder(surname: &str, given: &str, iin: Iin, organisation: Option<Organisation>) -> Holder {
    Holder {
        surname: surname.into(),
        name: given.into(),
        patronymic: None,
        iin,
        organisation,
        email: None,
    }
}

/// A key store of `profile` the CA `ca` issues to `holder` (ECDSA P-256).
pub async fn issue(
    service: &Service,
    authorities: &qyzmet_ca::Authorities,
    ca: &str,
    holder: &Holder,
    profile: Profile,
) -> KeyStore {
    service
        .issue_key_store(
            authorities,
            ca,
            holder,
            profile,
            KeyAlgorithm::EcdsaP256,
            "admin:test",
        )
        .await
        .unwrap()
}

impl Platform {
    pub async fn new(store: &Store) -> Platform {
        let service = Service {
            store: store.clone(),
            endpoints: Endpoints {
                base_url: "http://127.0.0.1:9".into(),
            },
        };
        let authorities = service
            .init(KeyAlgorithm::EcdsaP256, b"passphrase", "admin:test")
            .await
            .unwrap();

        let names = [
            ("Нұрланова", "Айгүл"),
            ("Серікбаев", "Бауыржан"),
            ("Ержанов", "Ерлан"),
            ("Нұрланов", "Нұрлан"),
            ("Данова", "Дана"),
            ("Кеңесова", "Гүлнар"),
            ("Орындаев", "Асқар"),
            ("Басшыбаев", "Марат"),
            ("Министров", "Арман"),
            ("Операторова", "Әсел"),
            ("Куәландырушыева", "Жанар"),
            ("Әкімшіов", "Ерболат"),
        ];
        let mut people = Vec::new();
        let mut tx = store.begin_write().await.unwrap();
        for (i, (surname, given)) in names.iter().enumerate() {
            let iin =
                Iin::compose(jiff::civil::date(1985, 4, 12), Sex::Female, 10 + i as u16).unwrap();
            insert_person(
                &mut tx,
                &Person::new(iin, surname, given, None, "Қызылорда", "kyzylorda").unwrap(),
            )
            .await
            .unwrap();
            people.push((iin, *surname, *given));
        }
        let bin = Bin::compose(
            2015,
            6,
            EntityKind::ResidentLegalEntity,
            Division::HeadUnit,
            4242,
        )
        .unwrap();
        insert_entity(
            &mut tx,
            &LegalEntity::new(
                bin,
                "«Сырдария» ЖШС",
                "ТОО «Сырдария»",
                "ТОО",
                jiff::civil::date(2015, 6, 1),
                Some(people[4].0),
                "Қызылорда",
                "kyzylorda",
            )
            .unwrap(),
        )
        .await
        .unwrap();
        commit_seed(tx, "test").await;

        let member =
            |i: usize, organisation: &str, role: Role| appointment(people[i].0, organisation, role);
        appoint(
            store,
            &[
                member(5, ARCHIVE, Role::Clerk),
                member(6, ARCHIVE, Role::Executor),
                member(7, ARCHIVE, Role::Head),
                member(8, MINISTRY, Role::Clerk),
                member(9, PSC_BRANCH, Role::PscOperator),
                member(10, CA, Role::CaOperator),
                member(11, OPERATOR, Role::Administrator),
            ],
        )
        .await;

        let mut whos = Vec::new();
        for (i, (iin, surname, given)) in people.iter().enumerate() {
            let (ca, organisation) = match i {
                4 => (
                    code::NCA,
                    Some(Organisation {
                        name: "ТОО «Сырдария»".into(),
                        bin,
                    }),
                ),
                5..=11 => (code::GOV, None),
                _ => (code::NCA, None),
            };
            let holder = holder(surname, given, *iin, organisation);
            let signing = issue(
                &service,
                &authorities,
                ca,
                &holder,
                Profile::Signing { role: None },
            )
            .await;
            let auth = issue(
                &service,
                &authorities,
                ca,
                &holder,
                Profile::Authentication { role: None },
            )
            .await;
            whos.push(Who {
                iin: iin.to_string(),
                surname: (*surname).into(),
                given_name: (*given).into(),
                signing,
                auth,
            });
        }
        for i in [0, 1, 2, 5, 6, 7, 8, 9, 10, 11] {
            account(store, &whos[i].iin, None).await;
        }

        let mut crls = Vec::new();
        for ca in [code::ROOT, code::NCA, code::GOV] {
            crls.push(store.latest_crl(ca).await.unwrap().unwrap().crl_der);
        }
        // The node's own verifier (qyzmet_ca::trust: the root as anchor, the CAs and the trust store's
        // intermediates as issuers), with the CRLs just published.
        let mut trust = qyzmet_ca::trust::TrustSet::load(store).await.unwrap();
        trust.crls.extend(crls);
        let verifier = Arc::new(trust.verifier().unwrap());
        // The registers' information system signs what it issues (002 §3.6).
        let registers_key = issue(
            &service,
            &authorities,
            code::GOV,
            &holder(
                "Министров",
                "Арман",
                people[8].0,
                Some(Organisation {
                    name: "Министерство юстиции (ГБД РН)".into(),
                    bin,
                }),
            ),
            Profile::Signing { role: None },
        )
        .await;
        // The CA signer (issue 20) on a socket of its own, the engine's key its only caller besides
        // the CA operators: the steps that issue and revoke certificates ask it.
        let engine_key = issue(
            &service,
            &authorities,
            code::GOV,
            &holder("Платформа", "Жүйе", people[8].0, None),
            Profile::Signing { role: None },
        )
        .await;
        let signer_dir = Arc::new(tempfile::tempdir().unwrap());
        let socket = signer_dir.path().join("ca.sock");
        let listener = tokio::net::UnixListener::bind(&socket).unwrap();
        let signer = qyzmet_ca::signer::Signer::new(
            service.clone(),
            authorities.clone(),
            vec![engine_key.certificate.clone()],
        );
        tokio::spawn(Arc::new(signer).serve(listener));
        let calendar = Arc::new(Calendar::kazakhstan());
        let catalogue = Arc::new(Catalogue::shipped().unwrap());
        let engine = Engine::new(
            store.clone(),
            catalogue.clone(),
            calendar.clone(),
            InProcess {
                verifier: Some(verifier.clone()),
                registers_key: Some(Arc::new(registers_key)),
            },
        );
        let engine = engine.with_ca_signer(qyzmet_ca::signer::Client::new(
            socket.clone(),
            Arc::new(engine_key),
        ));
        engine.register_regulations().await.unwrap();
        let state = AppState {
            engine,
            verifier: Some(verifier.clone()),
            ..AppState::new(store.clone(), calendar, catalogue, None)
        };
        let state = AppState {
            settings: qyzmet_web::Settings {
                ca_signer: Some(socket),
                ..state.settings.clone()
            },
            ..state
        };
        let mut whos = whos.into_iter();
        let mut next = || whos.next().unwrap();
        Platform {
            state,
            signer_dir,
            verifier,
            alice: next(),
            bob: next(),
            erlan: next(),
            nurlan: next(),
            dana: next(),
            bin: bin.to_string(),
            clerk: next(),
            executor: next(),
            head: next(),
            ministry_clerk: next(),
            psc_operator: next(),
            ca_operator: next(),
            administrator: next(),
        }
    }

    pub fn client(&self) -> Client {
        Client::new(qyzmet_web::router(self.state.clone()))
    }

    /// Runs the engine's due system steps until none is left.
    pub async fn settle(&self) {
        for _ in 0..20 {
            if self
                .state
                .engine
                .run_jobs(100, Timestamp::now())
                .await
                .unwrap()
                == 0
            {
                return;
            }
        }
        panic!("the engine's jobs did not settle");
    }

    /// A client of `who` signed in with the password at `path` (`/login` or `/office/login`).
    pub async fn signed_in(&self, who: &Who, path: &str) -> Client {
        let mut client = self.client();
        let page = client.sign_in_password(path, &who.iin, PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
        client
    }
}

/// A CMS with the document inside, as the signing agent makes it.
pub fn sign(document: &[u8], keys: &KeyStore) -> String {
    let cms = qyzmet_pki::cms::sign(document, keys, false, Timestamp::now()).unwrap();
    base64::engine::general_purpose::STANDARD.encode(cms)
}

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Page {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.text()))
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// The value of the first `attribute="…"` after `anchor` in the HTML.
    pub fn attribute_after(&self, anchor: &str, attribute: &str) -> Option<String> {
        let text = self.text();
        let from = text.find(anchor)?;
        let rest = &text[from..];
        let marker = format!("{attribute}=\"");
        let start = rest.find(&marker)? + marker.len();
        let end = rest[start..].find('"')?;
        Some(unescape(&rest[start..start + end]))
    }

    /// The value of `attribute` in the tag of the element with this id.
    pub fn tag_attribute(&self, id: &str, name: &str) -> Option<String> {
        attribute(&self.tag_with(&format!("id=\"{id}\""))?, name)
    }

    /// The text of the tag that contains `marker`.
    pub fn tag_with(&self, marker: &str) -> Option<String> {
        let text = self.text();
        let at = text.find(marker)?;
        let open = text[..at].rfind('<')?;
        let close = at + text[at..].find('>')?;
        Some(text[open..=close].to_owned())
    }

    /// The CSRF token of the page's first form.
    pub fn csrf(&self) -> String {
        self.attribute_after("name=\"csrf\"", "value")
            .unwrap_or_else(|| panic!("no CSRF token ({}): {}", self.status, self.text()))
    }

    /// The text directly inside the element with this id (up to its first child tag).
    pub fn by_id(&self, id: &str) -> Option<String> {
        let text = self.text();
        let from = text.find(&format!("id=\"{id}\""))?;
        let open = from + text[from..].find('>')? + 1;
        let close = open + text[open..].find('<')?;
        Some(unescape(text[open..close].trim()))
    }

    /// Whether the page shows `text` (HTML-escaped as the pages escape it).
    pub fn shows(&self, text: &str) -> bool {
        self.text().contains(&escape(text))
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The value of `attribute` in an HTML tag's text.
pub fn attribute(tag: &str, attribute: &str) -> Option<String> {
    let marker = format!(" {attribute}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')?;
    Some(unescape(&tag[start..start + end]))
}

/// Text as the pages show it, with the HTML escapes undone.
pub fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// A browser: a cookie jar (English pages) in front of the router.
pub struct Client {
    app: Router,
    pub cookies: BTreeMap<String, String>,
}

impl Client {
    pub fn new(app: Router) -> Client {
        let mut cookies = BTreeMap::new();
        cookies.insert("lang".to_owned(), "en".to_owned());
        Client { app, cookies }
    }

    /// The same browser talking to a node with other settings.
    pub fn on(&mut self, state: AppState) {
        self.app = qyzmet_web::router(state);
    }

    pub async fn send(&mut self, request: axum::http::request::Builder, body: Body) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let request = request.header(header::COOKIE, cookie).body(body).unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let page = Page {
            status,
            headers,
            body: body.to_vec(),
        };
        for set in page.set_cookies() {
            let pair = set.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if value.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        page
    }

    pub async fn get(&mut self, uri: &str) -> Page {
        self.send(Request::get(uri), Body::empty()).await
    }

    /// GET, then follow redirects.
    pub async fn visit(&mut self, uri: &str) -> Page {
        let mut page = self.get(uri).await;
        for _ in 0..5 {
            if !page.status.is_redirection() {
                break;
            }
            let to = page.location();
            page = self.get(&to).await;
        }
        page
    }

    pub async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send(
            Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::from(body),
        )
        .await
    }

    /// A form of owned pairs.
    pub async fn post_pairs(&mut self, uri: &str, fields: &[(String, String)]) -> Page {
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post(uri, &pairs).await
    }

    /// A multipart form: text fields and one file.
    pub async fn post_file(
        &mut self,
        uri: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Page {
        let (content_type, body) = multipart(fields, &[file]);
        self.send(
            Request::post(uri).header(header::CONTENT_TYPE, content_type),
            Body::from(body),
        )
        .await
    }

    /// Signs in with a password through the page's form; the answer is not followed.
    pub async fn sign_in_password(&mut self, path: &str, iin: &str, password: &str) -> Page {
        let form = self.get(path).await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        self.post(
            path,
            &[("csrf", &csrf), ("iin", iin), ("password", password)],
        )
        .await
    }

    /// A fresh sign-in challenge and a CMS over it with `keys`: (nonce, base64 CMS).
    pub async fn signed_challenge(&mut self, keys: &KeyStore) -> (String, String) {
        let answer = self.post("/login/challenge", &[]).await;
        assert_eq!(answer.status, StatusCode::OK);
        let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        let nonce = json["nonce"].as_str().unwrap().to_owned();
        let cms = sign(nonce.as_bytes(), keys);
        (nonce, cms)
    }

    /// Submits an appeal to `addressee` as the signed-in applicant `who`; returns its id.
    pub async fn submit_appeal(&mut self, who: &Who, addressee: &str, content: &str) -> String {
        let sign_page = self.prepare_appeal(addressee, content).await;
        let document = document_of(&sign_page);
        let submitted = self
            .post(
                &sign_page
                    .tag_attribute("sign-form", "action")
                    .unwrap_or_else(|| panic!("no signing form: {}", sign_page.text())),
                &[
                    ("csrf", &sign_page.csrf()),
                    ("cms", &sign(&document, &who.signing)),
                ],
            )
            .await;
        assert_eq!(
            submitted.status,
            StatusCode::SEE_OTHER,
            "{}",
            submitted.text()
        );
        let location = submitted.location();
        location
            .strip_prefix("/cabinet/applications/")
            .and_then(|rest| rest.strip_suffix("?submitted=1"))
            .unwrap_or_else(|| panic!("{location}"))
            .to_owned()
    }

    /// Fills in the appeal form and goes to signing; returns the signing page.
    pub async fn prepare_appeal(&mut self, addressee: &str, content: &str) -> Page {
        let form = self.get("/services/appeal/apply").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.text());
        let prepared = self
            .post(
                "/services/appeal/apply",
                &[
                    ("csrf", &form.csrf()),
                    ("postal_address", "Қызылорда, Әйтеке би 1"),
                    ("addressee", addressee),
                    ("content", content),
                    ("action", "prepare"),
                ],
            )
            .await;
        assert_eq!(
            prepared.status,
            StatusCode::SEE_OTHER,
            "{}",
            prepared.text()
        );
        let to = prepared.location();
        assert!(to.ends_with("/sign"), "{to}");
        let page = self.get(&to).await;
        assert_eq!(page.status, StatusCode::OK);
        page
    }

    /// Does a step on the card of `id` with the form's fields (the CSRF token and step come from
    /// the card); returns the answer, not followed.
    pub async fn act(&mut self, id: &str, step: &str, fields: &[(&str, &str)]) -> Page {
        let card = self.get(&format!("/office/applications/{id}")).await;
        assert_eq!(card.status, StatusCode::OK, "{}", card.text());
        let csrf = card.csrf();
        let mut all = vec![("csrf", csrf.as_str()), ("step", step)];
        all.extend_from_slice(fields);
        self.post(&format!("/office/applications/{id}/act"), &all)
            .await
    }
}

/// The bytes a signing page asks to sign (`data-document`).
pub fn document_of(page: &Page) -> Vec<u8> {
    let encoded = page
        .attribute_after("data-document=", "data-document")
        .unwrap_or_else(|| panic!("no data-document: {}", page.text()));
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap()
}

/// The whole appeal up to the head's signed answer, dispatched; returns its id.
pub async fn answered_appeal(platform: &Platform, applicant: &mut Client) -> String {
    let id = applicant
        .submit_appeal(&platform.alice, ARCHIVE, "Анықтама беруіңізді сұраймын.")
        .await;
    platform.settle().await;
    let mut clerk = platform.signed_in(&platform.clerk, "/office/login").await;
    for (step, fields) in [
        ("2.1", vec![]),
        ("2.2", vec![]),
        (
            "2.2b",
            vec![
                ("executor", platform.executor.iin.as_str()),
                ("resolution", "Жауап дайындаңыз"),
            ],
        ),
    ] {
        let page = clerk.act(&id, step, &fields).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "{step}: {}",
            page.text()
        );
    }
    let mut executor = platform
        .signed_in(&platform.executor, "/office/login")
        .await;
    for (step, fields) in [
        ("2.5", vec![]),
        ("2.6", vec![("answer", "Анықтама қоса беріліп отыр.")]),
    ] {
        let page = executor.act(&id, step, &fields).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "{step}: {}",
            page.text()
        );
    }
    let mut head = platform.signed_in(&platform.head, "/office/login").await;
    let card = head.get(&format!("/office/applications/{id}")).await;
    let signed = sign(&document_of(&card), &platform.head.signing);
    let page = head.act(&id, "2.7", &[("cms", &signed)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let page = clerk.act(&id, "2.8", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    id
}

/// A PDF as poppler reads it: the text (`pdftotext`) and the one QR code on its first page
/// (`pdftoppm`, decoded with rqrr).
pub struct ReadPdf {
    pub text: String,
    pub qr: String,
}

/// Reads `pdf` with poppler; `None` (with a note) when its tools are missing, which fails only
/// when `QYZMET_REQUIRE_PDF=1`.
pub fn read_pdf(pdf: &[u8]) -> Option<ReadPdf> {
    use std::process::Command;
    let present = ["pdftotext", "pdftoppm"].iter().all(|tool| {
        Command::new(tool)
            .arg("-v")
            .output()
            .is_ok_and(|o| o.status.success() || !o.stderr.is_empty())
    });
    if !present {
        assert!(
            std::env::var("QYZMET_REQUIRE_PDF").as_deref() != Ok("1"),
            "QYZMET_REQUIRE_PDF=1 but pdftotext/pdftoppm (poppler-utils) are missing"
        );
        println!("note: pdftotext/pdftoppm (poppler-utils) missing; the PDF is not read");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copy.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let prefix = dir.path().join("page");
    let out = Command::new("pdftoppm")
        .args(["-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&file)
        .arg(&prefix)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let image = image::open(prefix.with_extension("png"))
        .unwrap()
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    let (_, qr) = grids[0].decode().unwrap();
    Some(ReadPdf { text, qr })
}

/// Records in the real estate register that `iin` owns the flat `cadastral`, with `encumbrance`.
pub async fn give_a_flat(
    platform: &Platform,
    iin: &str,
    cadastral: &str,
    encumbrance: Option<&str>,
) {
    use qyzmet_domain::registry::{RealEstate, RealEstateKind, RealEstateRight, RightKind};
    let store = &platform.state.store;
    let mut tx = store.begin_write().await.unwrap();
    qyzmet_store::registry::insert_real_estate(
        &mut tx,
        &RealEstate::new(
            cadastral,
            RealEstateKind::Apartment,
            "Қызылорда қ., Әйтеке би к-сі, 12-45",
            "kyzylorda",
            "64.5",
            Some(2),
            Some(5),
            Some(1987),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    qyzmet_store::registry::insert_right(
        &mut tx,
        &RealEstateRight::new(
            cadastral,
            qyzmet_domain::ids::TaxpayerId::Iin(Iin::parse(iin).unwrap()),
            RightKind::Ownership,
            None,
            jiff::civil::date(2015, 3, 4),
            "Сатып алу-сату шарты № 123",
            encumbrance,
        )
        .unwrap(),
    )
    .await
    .unwrap();
    commit_seed(tx, "test").await;
}
