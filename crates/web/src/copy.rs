//! A printable certified copy of a signed answer (issue 6, 002 §3.6 and the inferred certification
//! block of 002 §7): an A4 PDF with the answer, a bilingual (kk/ru) certification block — the
//! signer and the verdict of the verification, the time of printing in Astana — and a QR code of
//! the public verification address (from the node's configured public address), which is also
//! printed as text. The applicant's answer is published first if it was not yet; printing is a
//! POST with the CSRF token, as every change of state is.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use printpdf::{
    FontId, LinePoint, Mm, Op, ParsedFont, PdfDocument, PdfFont, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Polygon, PolygonRing, Pt, TextItem, WindingOrder,
};
use qyzmet_pki::verify::Expectation;
use qyzmet_store::workflow::InstanceRow;

use crate::AppState;
use crate::api::{UserLang, internal};
// Re-exported for the PSC counter, which reads it from here.
pub(crate) use crate::application::print_button;
use crate::application::{ANSWER, organisation_name, record_of, stored_cms, verdict_key};
use crate::cabinet::{CsrfOnly, own, publish_answer};
use crate::error::WebError;
use crate::i18n::{Lang, t};
use crate::portal::verify_blocking;
use crate::session::{Applicant, Csrf};
use qyzmet_store::documents::answer_document;

/// A font with the Kazakh letters (DejaVu Sans; its licence is next to it).
const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

const PAGE_WIDTH: f32 = 210.0;
const PAGE_HEIGHT: f32 = 297.0;
const MARGIN: f32 = 20.0;
/// Millimetres in a point.
const PT_MM: f32 = 25.4 / 72.0;
/// The average advance of a character in DejaVu Sans, in ems, taken wide enough for capitals.
const CHAR_EM: f32 = 0.7;
/// The side of one QR module.
const MODULE: f32 = 1.2;

/// What a certified copy shows; every text already in the words it is printed in.
#[derive(Debug, Clone, Default)]
pub struct CopyInput {
    /// The body that answered.
    pub body: String,
    pub application: String,
    pub registration_number: Option<String>,
    pub answer: String,
    /// The signer's subject from the verification report.
    pub signer: Option<String>,
    /// The verdict of the verification, kk / ru.
    pub result: String,
    /// Date and time of printing in Astana.
    pub printed_at: String,
    /// The PSC employee who certifies the print, and the branch with its address (002 §3.6, §4);
    /// none when the applicant prints it.
    pub certified_by: Option<String>,
    pub place: Option<String>,
    /// The absolute public verification address.
    pub verify_url: String,
}

/// Both state languages of a label: "kk / ru".
fn both(key: &str) -> String {
    format!("{} / {}", t(Lang::Kk, key), t(Lang::Ru, key))
}

/// Lines of at most `width` characters, broken between words where there are any.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let mut word = word.to_owned();
            // A word longer than a line is cut.
            while word.chars().count() > width {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                let cut: String = word.chars().take(width).collect();
                word = word.chars().skip(width).collect();
                lines.push(cut);
            }
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        lines.push(line);
    }
    lines
}

/// Pages written top to bottom, a new one when a page is full.
struct Writer {
    /// The id the text is set in; the font behind it is the subset of what the pages show.
    font: FontId,
    pages: Vec<Vec<Op>>,
    /// Distance of the next line's baseline from the bottom of the page.
    y: f32,
}

impl Writer {
    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Makes room for `height` mm, starting a new page if this one has not got it.
    fn room(&mut self, height: f32) {
        if self.pages.is_empty() || self.y - height < MARGIN {
            self.pages.push(Vec::new());
            self.y = PAGE_HEIGHT - MARGIN;
        }
    }

    fn line(&mut self, text: &str, size: f32) {
        let step = size * PT_MM * 1.4;
        self.room(step);
        self.y -= step;
        let (font, y) = (self.font.clone(), self.y);
        self.ops().extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::External(font),
                size: Pt(size),
            },
            Op::SetTextCursor {
                pos: Point::new(Mm(MARGIN), Mm(y)),
            },
            Op::ShowText {
                items: vec![TextItem::Text(text.to_owned())],
            },
            Op::EndTextSection,
        ]);
    }

    fn paragraph(&mut self, text: &str, size: f32) {
        let chars = (PAGE_WIDTH - 2.0 * MARGIN) / (size * PT_MM * CHAR_EM);
        for line in wrap(text, chars as usize) {
            self.line(&line, size);
        }
    }

    fn gap(&mut self, mm: f32) {
        self.y -= mm;
    }

    /// The QR code of `data`, its top left corner at the left margin and the current line.
    fn qr(&mut self, data: &str) -> Result<(), String> {
        let code = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M)
            .map_err(|e| e.to_string())?;
        let width = code.width();
        let side = width as f32 * MODULE;
        self.room(side + 4.0 * MODULE);
        self.y -= 4.0 * MODULE;
        let top = self.y;
        let colors = code.to_colors();
        let mut rings = Vec::new();
        for (i, color) in colors.iter().enumerate() {
            if *color != qrcode::Color::Dark {
                continue;
            }
            let (col, row) = ((i % width) as f32, (i / width) as f32);
            let (x, y) = (MARGIN + col * MODULE, top - (row + 1.0) * MODULE);
            let corner = |x: f32, y: f32| LinePoint {
                p: Point::new(Mm(x), Mm(y)),
                bezier: false,
            };
            rings.push(PolygonRing {
                points: vec![
                    corner(x, y),
                    corner(x + MODULE, y),
                    corner(x + MODULE, y + MODULE),
                    corner(x, y + MODULE),
                ],
            });
        }
        self.ops().push(Op::DrawPolygon {
            polygon: Polygon {
                rings,
                mode: printpdf::PaintMode::Fill,
                winding_order: WindingOrder::NonZero,
            },
        });
        self.y = top - side - 2.0 * MODULE;
        Ok(())
    }
}

/// The font, parsed once: parsing walks all of its tables, which every copy would otherwise redo.
fn parsed_font() -> Result<&'static ParsedFont, String> {
    static PARSED: LazyLock<Option<ParsedFont>> =
        LazyLock::new(|| ParsedFont::from_bytes(FONT, 0, &mut Vec::new()));
    PARSED
        .as_ref()
        .ok_or_else(|| "the embedded font does not parse".to_owned())
}

/// The font cut down to the glyphs of the characters in `pages`. printpdf 0.9.1 embeds the whole
/// font whatever `PdfSaveOptions::subset_fonts` says (its subsetting is switched off in the code),
/// and all 6,000 glyphs of DejaVu Sans (740 KB) made every copy 810 KB and most of its rendering
/// time their compression; the glyphs a copy shows are some tens of kilobytes.
fn subset(pages: &[Vec<Op>]) -> Result<ParsedFont, String> {
    let font = parsed_font()?;
    let mut glyphs = BTreeMap::new();
    for op in pages.iter().flatten() {
        if let Op::ShowText { items } = op {
            for item in items {
                if let TextItem::Text(text) = item {
                    for c in text.chars() {
                        if let Some(glyph) = font.lookup_glyph_index(u32::from(c)) {
                            glyphs.insert(glyph, c);
                        }
                    }
                }
            }
        }
    }
    let subset = printpdf::subset_font(font, &glyphs)?;
    ParsedFont::from_bytes(&subset.bytes, 0, &mut Vec::new())
        .ok_or_else(|| "the font's subset does not parse".to_owned())
}

/// A PDF of these A4 pages, their text in `font` set to the subset of what they show.
fn save(title: &str, font: FontId, pages: Vec<Vec<Op>>) -> Result<Vec<u8>, String> {
    let mut doc = PdfDocument::new(title);
    doc.resources
        .fonts
        .map
        .insert(font, PdfFont::new(subset(&pages)?));
    let pages = pages
        .into_iter()
        .map(|ops| PdfPage::new(Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), ops))
        .collect();
    Ok(doc
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut Vec::new()))
}

/// The PDF of a certified copy.
pub fn certified_copy(input: &CopyInput) -> Result<Vec<u8>, String> {
    let mut w = Writer {
        font: FontId::new(),
        pages: Vec::new(),
        y: PAGE_HEIGHT - MARGIN,
    };
    w.paragraph(&input.body, 14.0);
    w.gap(3.0);
    w.line(
        &format!("{}: {}", both("copy.number"), input.application),
        10.0,
    );
    if let Some(number) = &input.registration_number {
        w.line(&format!("{}: {number}", both("copy.registration")), 10.0);
    }
    w.gap(3.0);
    w.line(&format!("{}:", both("copy.answer")), 10.0);
    w.paragraph(&input.answer, 11.0);
    w.gap(8.0);
    w.room(90.0);
    w.line(&t(Lang::Kk, "copy.title"), 12.0);
    w.line(&t(Lang::Ru, "copy.title"), 12.0);
    w.gap(2.0);
    if let Some(signer) = &input.signer {
        w.paragraph(&format!("{}: {signer}", both("copy.signer")), 9.0);
    }
    w.paragraph(&format!("{}: {}", both("copy.result"), input.result), 9.0);
    w.paragraph(
        &format!("{}: {}", both("copy.printed"), input.printed_at),
        9.0,
    );
    if let Some(certifier) = &input.certified_by {
        w.paragraph(&format!("{}: {certifier}", both("copy.certified_by")), 9.0);
    }
    if let Some(place) = &input.place {
        w.paragraph(&format!("{}: {place}", both("copy.place")), 9.0);
    }
    w.paragraph(&format!("{}:", both("copy.verify")), 9.0);
    w.qr(&input.verify_url)?;
    w.line(&input.verify_url, 9.0);
    save(
        &format!("{} {}", t(Lang::Ru, "copy.title"), input.application),
        w.font,
        w.pages,
    )
}

/// What every copy must at least do, the limit `qyzmet bench copies` measures a copy against: a
/// one-page PDF with one line of `text` in the same font, saved the same way — the font's subset,
/// its embedding and the streams' compression, without the copy's layout and QR code.
pub fn bare_pdf(text: &str) -> Result<Vec<u8>, String> {
    let font = FontId::new();
    let ops = vec![
        Op::StartTextSection,
        Op::SetFont {
            font: PdfFontHandle::External(font.clone()),
            size: Pt(10.0),
        },
        Op::SetTextCursor {
            pos: Point::new(Mm(MARGIN), Mm(PAGE_HEIGHT - MARGIN)),
        },
        Op::ShowText {
            items: vec![TextItem::Text(text.to_owned())],
        },
        Op::EndTextSection,
    ];
    save("bare", font, vec![ops])
}

/// The applicant's certified copy of their signed answer, published first if it is not yet:
/// printing publishes, so it is a POST with the session's CSRF token (a form button on the
/// application's page), never a link a third-party page could make the browser follow.
pub async fn copy_pdf(
    State(state): State<AppState>,
    applicant: Applicant,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Err(refused) = Csrf::check(&applicant.session, &form.csrf, applicant.lang) {
        return refused;
    }
    let row: InstanceRow = match own(&state, &applicant, &id, |_| true).await {
        Ok(row) => row,
        Err(refused) => return refused.response(applicant.lang),
    };
    let public = match state.store.published_id(&row.id, ANSWER.key()).await {
        Ok(Some(public)) => public,
        Ok(None) if stored_cms(&row, ANSWER).is_some() => {
            match publish_answer(&state, &applicant, &row).await {
                Ok(public) => public,
                Err(response) => return response,
            }
        }
        Ok(None) => return crate::pages::not_found(UserLang(applicant.lang)).await,
        Err(e) => return internal(e),
    };
    let actor = format!("applicant:{}", applicant.id());
    render(
        &state,
        &row,
        Printed {
            public,
            actor,
            certified_by: None,
            place: None,
        },
    )
    .await
}

/// Who prints a published answer, and where it is certified.
pub struct Printed {
    pub public: String,
    pub actor: String,
    pub certified_by: Option<String>,
    pub place: Option<String>,
}

/// The certified copy of the application's signed answer (published as `printed.public`), verified
/// now; the print is audited.
pub async fn render(state: &AppState, row: &InstanceRow, printed: Printed) -> Response {
    match printed_copy(state, row, printed).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn printed_copy(
    state: &AppState,
    row: &InstanceRow,
    printed: Printed,
) -> Result<Response, WebError> {
    let input = copy_input(state, row, &printed).await?;
    let pdf = tokio::task::spawn_blocking(move || certified_copy(&input))
        .await?
        .map_err(WebError::internal)?;
    state
        .store
        .record_print(&printed.public, &printed.actor)
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"copy-{}.pdf\"", row.id),
            ),
        ],
        pdf,
    )
        .into_response())
}

/// What the copy shows: the body, the answer, its signer and the verdict of its signature now,
/// who certifies it where, and the address of its verification.
async fn copy_input(
    state: &AppState,
    row: &InstanceRow,
    printed: &Printed,
) -> Result<CopyInput, WebError> {
    let cms = stored_cms(row, ANSWER)
        .ok_or_else(|| WebError::internal("the application has no signed answer"))?;
    let verifier = state
        .verifier
        .clone()
        .ok_or_else(|| WebError::internal("no verifier on this node"))?;
    let report = verify_blocking(
        verifier,
        cms,
        Some(answer_document(row, None)),
        Expectation::default(),
    )
    .await;
    let indication = verdict_key(&report);
    let recorded = record_of(row).recorded;
    Ok(CopyInput {
        body: format!(
            "{}\n{}",
            organisation_name(state, Lang::Kk, &row.provider).await,
            organisation_name(state, Lang::Ru, &row.provider).await
        ),
        application: row.id.clone(),
        registration_number: recorded.registration_number,
        answer: recorded.answer.unwrap_or_default(),
        signer: report
            .signers
            .iter()
            .find_map(|s| s.signer.as_ref())
            .map(|who| who.subject.clone()),
        result: format!(
            "{} / {}",
            t(Lang::Kk, &indication),
            t(Lang::Ru, &indication)
        ),
        printed_at: crate::pages::when(jiff::Timestamp::now().as_millisecond()),
        certified_by: printed.certified_by.clone(),
        place: printed.place.clone(),
        // From the configured address only: the request's Host is the client's to write.
        verify_url: state
            .settings
            .public_url
            .join(&format!("/verify/{}", printed.public)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_between_words_and_cut_long_words() {
        assert_eq!(wrap("әғқ ңөұ үһі", 7), vec!["әғқ ңөұ", "үһі"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\n\nb", 10), vec!["a", "", "b"]);
    }

    #[test]
    fn a_long_answer_goes_on_to_more_pages() {
        let input = CopyInput {
            body: "Орган".to_owned(),
            application: "1".to_owned(),
            answer: "Жауап мәтіні. ".repeat(2000),
            verify_url: "http://localhost/verify/AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
            ..CopyInput::default()
        };
        let pdf = certified_copy(&input).unwrap_or_default();
        assert!(pdf.starts_with(b"%PDF"));
        let pages = pdf.windows(10).filter(|w| w == b"/Type/Page").count();
        // "/Type/Pages" once, and each page.
        assert!(pages > 3, "{pages}");
    }
}
