//! The back office's statistics as pages and files: the appeals report in the manner of form 1-OL
//! and the timeliness of services per body ([`qyzmet_store::statistics`] counts both). Rendering:
//! HTML tables, an inline SVG bar chart, CSV and XLSX; and which services the appeals report counts,
//! which the regulations say (`reports = ["appeals"]`), never a service code here. The handlers that
//! check who may see the counts and name the bodies and services live elsewhere.
//!
//! Every heading is a `stats.` key of the locale files. The exports name bodies and services by
//! their codes (stable across languages); the pages take the names from the caller.

use maud::{Markup, html};
use qyzmet_domain::regulation::StatisticalReport;
use qyzmet_engine::Catalogue;
use qyzmet_store::statistics::{AppealCounts, AppealReport, Period, TimelinessRow};
use rust_xlsxwriter::{Format, Workbook};

use crate::AppState;
use crate::i18n::{Lang, t};

/// The services counted in `report`: those whose current regulation declares it.
pub fn counted_in(catalogue: &Catalogue, report: StatisticalReport) -> Vec<String> {
    catalogue
        .all()
        .filter(|loaded| loaded.regulation.counted_in(report))
        .map(|loaded| loaded.regulation.code.clone())
        .collect()
}

/// The appeals report (form 1-OL, 000 §13.3) of `period` for one organisation or every one, over
/// the services whose regulation declares it.
pub async fn appeal_report(
    state: &AppState,
    organisation: Option<&str>,
    period: Period,
) -> qyzmet_store::Result<AppealReport> {
    let services = counted_in(&state.catalogue, StatisticalReport::Appeals);
    state
        .store
        .appeal_report(&services, organisation, period)
        .await
}

/// One cell of a statistics table.
enum Cell {
    Text(String),
    Count(i64),
    /// A share from 0 to 1; `None` when there is nothing to divide.
    Share(Option<f64>),
}

/// A statistics table in one language, the common ground of every rendering.
struct Table {
    headings: Vec<String>,
    rows: Vec<Vec<Cell>>,
    total: Vec<Cell>,
}

const TIMELINESS_FIELDS: [&str; 6] = [
    "finished",
    "finished_in_term",
    "finished_late",
    "open",
    "open_overdue",
    "share_in_term",
];

fn counts_cells(counts: &AppealCounts) -> impl Iterator<Item = Cell> {
    counts.values().into_iter().map(Cell::Count)
}

fn appeal_data(lang: Lang, report: &AppealReport, org_name: impl Fn(&str) -> String) -> Table {
    let mut headings = vec![t(lang, "stats.organisation")];
    headings.extend(
        AppealCounts::FIELDS
            .iter()
            .map(|field| t(lang, &format!("stats.appeals.{field}"))),
    );
    let rows = report
        .rows
        .iter()
        .map(|row| {
            std::iter::once(Cell::Text(org_name(&row.provider)))
                .chain(counts_cells(&row.counts))
                .collect()
        })
        .collect();
    let total = std::iter::once(Cell::Text(t(lang, "stats.total")))
        .chain(counts_cells(&report.total()))
        .collect();
    Table {
        headings,
        rows,
        total,
    }
}

fn share(in_term: i64, finished: i64) -> Option<f64> {
    (finished > 0).then(|| in_term as f64 / finished as f64)
}

fn timeliness_data(
    lang: Lang,
    rows: &[TimelinessRow],
    org_name: impl Fn(&str) -> String,
    service_name: impl Fn(&str) -> String,
) -> Table {
    let mut headings = vec![t(lang, "stats.organisation"), t(lang, "stats.service")];
    headings.extend(
        TIMELINESS_FIELDS
            .iter()
            .map(|field| t(lang, &format!("stats.timeliness.{field}"))),
    );
    let counts = |r: &TimelinessRow| {
        [
            r.finished,
            r.finished_in_term,
            r.finished_late,
            r.open,
            r.open_overdue,
        ]
    };
    let mut sums = [0i64; 5];
    let table_rows = rows
        .iter()
        .map(|row| {
            for (sum, n) in sums.iter_mut().zip(counts(row)) {
                *sum += n;
            }
            let mut cells = vec![
                Cell::Text(org_name(&row.provider)),
                Cell::Text(service_name(&row.regulation)),
            ];
            cells.extend(counts(row).into_iter().map(Cell::Count));
            cells.push(Cell::Share(row.share_in_term));
            cells
        })
        .collect();
    let mut total = vec![
        Cell::Text(t(lang, "stats.total")),
        Cell::Text(String::new()),
    ];
    total.extend(sums.into_iter().map(Cell::Count));
    total.push(Cell::Share(share(sums[1], sums[0])));
    Table {
        headings,
        rows: table_rows,
        total,
    }
}

/// A share as a percentage with one decimal, in the language's decimal sign.
fn percent(lang: Lang, share: f64) -> String {
    let text = format!("{:.1}", share * 100.0);
    match lang {
        Lang::Kk | Lang::Ru => text.replace('.', ","),
        Lang::En => text,
    }
}

// --- HTML ---------------------------------------------------------------------------------------

fn html_table(lang: Lang, caption: &str, table: &Table) -> Markup {
    let cell = |c: &Cell| match c {
        Cell::Text(s) => html! { (s) },
        Cell::Count(n) => html! { (n) },
        Cell::Share(Some(s)) => html! { (percent(lang, *s)) " %" },
        Cell::Share(None) => html! { "—" },
    };
    let text_columns = table
        .total
        .iter()
        .take_while(|c| matches!(c, Cell::Text(_)))
        .count();
    html! {
        table.stats {
            caption { (caption) }
            thead {
                tr {
                    @for heading in &table.headings { th scope="col" { (heading) } }
                }
            }
            tbody {
                @if table.rows.is_empty() {
                    tr { td colspan=(table.headings.len()) { (t(lang, "stats.empty")) } }
                }
                @for row in &table.rows {
                    tr {
                        @for (i, c) in row.iter().enumerate() {
                            @if i == 0 { th scope="row" { (cell(c)) } }
                            @else if i < text_columns { td { (cell(c)) } }
                            @else { td.num { (cell(c)) } }
                        }
                    }
                }
            }
            tfoot {
                tr {
                    @for (i, c) in table.total.iter().enumerate() {
                        @if i == 0 { th scope="row" { (cell(c)) } }
                        @else if i < text_columns { td { (cell(c)) } }
                        @else { td.num { (cell(c)) } }
                    }
                }
            }
        }
    }
}

/// The appeals report as a table: a row per body (named by `org_name` from its directory code)
/// and the total.
pub fn appeal_table(
    lang: Lang,
    report: &AppealReport,
    org_name: impl Fn(&str) -> String,
) -> Markup {
    html_table(
        lang,
        &t(lang, "stats.appeals.title"),
        &appeal_data(lang, report, org_name),
    )
}

/// Timeliness as a table: a row per body and service (named by `org_name` and `service_name` from
/// their codes) and the total.
pub fn timeliness_table(
    lang: Lang,
    rows: &[TimelinessRow],
    org_name: impl Fn(&str) -> String,
    service_name: impl Fn(&str) -> String,
) -> Markup {
    html_table(
        lang,
        &t(lang, "stats.timeliness.title"),
        &timeliness_data(lang, rows, org_name, service_name),
    )
}

// --- SVG ----------------------------------------------------------------------------------------

/// One bar of [`bar_chart_svg`].
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    /// The length of the bar, from 0.
    pub value: f64,
    /// What is written beside the bar.
    pub text: String,
}

const CHART_WIDTH: i64 = 640;
const LABEL_WIDTH: i64 = 230;
const PLOT_WIDTH: i64 = 330;
const ROW_HEIGHT: i64 = 24;
const TOP: i64 = 34;
/// Labels longer than this are cut on the picture (the bar's tooltip keeps them whole).
const LABEL_CHARS: usize = 34;

/// A short id unique to the title, so that several charts on a page label themselves apart.
fn chart_id(title: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in title.bytes() {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    format!("stats-chart-{hash:08x}")
}

/// A horizontal bar chart as inline SVG: no script, its title as the accessible name
/// (`role="img"`, `<title>`), one `rect.bar` per bar with the label and text as its tooltip. Bars
/// are scaled to `max`, or to the longest bar when `None`.
pub fn bar_chart_svg(title: &str, bars: &[Bar], max: Option<f64>) -> Markup {
    let id = chart_id(title);
    let scale = max
        .unwrap_or_else(|| bars.iter().map(|b| b.value).fold(0.0, f64::max))
        .max(f64::MIN_POSITIVE);
    let height = TOP + ROW_HEIGHT * bars.len() as i64 + 8;
    let short = |label: &str| {
        if label.chars().count() > LABEL_CHARS {
            let cut: String = label.chars().take(LABEL_CHARS - 1).collect();
            format!("{cut}…")
        } else {
            label.to_owned()
        }
    };
    html! {
        svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby=(id)
            width=(CHART_WIDTH) height=(height) viewBox={ "0 0 " (CHART_WIDTH) " " (height) }
            font-family="system-ui, 'Noto Sans', 'DejaVu Sans', sans-serif" font-size="12" {
            title id=(id) { (title) }
            text x="0" y="16" font-size="14" font-weight="bold" fill="#1b1f24" { (title) }
            @for (i, bar) in bars.iter().enumerate() {
                @let y = TOP + ROW_HEIGHT * i as i64;
                @let length = ((bar.value.max(0.0) / scale).min(1.0) * PLOT_WIDTH as f64).round() as i64;
                g {
                    title { (bar.label) ": " (bar.text) }
                    text x=(LABEL_WIDTH - 8) y=(y + 16) text-anchor="end" fill="#1b1f24" { (short(&bar.label)) }
                    rect.bar x=(LABEL_WIDTH) y=(y + 3) width=(length) height=(ROW_HEIGHT - 6) fill="#00587a" {}
                    text x=(LABEL_WIDTH + length + 6) y=(y + 16) fill="#1b1f24" { (bar.text) }
                }
            }
        }
    }
}

/// The appeals received per body as a bar chart.
pub fn appeal_chart(
    lang: Lang,
    report: &AppealReport,
    org_name: impl Fn(&str) -> String,
) -> Markup {
    let bars: Vec<Bar> = report
        .rows
        .iter()
        .map(|row| Bar {
            label: org_name(&row.provider),
            value: row.counts.received as f64,
            text: row.counts.received.to_string(),
        })
        .collect();
    bar_chart_svg(&t(lang, "stats.appeals.chart"), &bars, None)
}

/// The share finished in term per body and service as a bar chart on a scale of 100 %.
pub fn timeliness_chart(
    lang: Lang,
    rows: &[TimelinessRow],
    org_name: impl Fn(&str) -> String,
    service_name: impl Fn(&str) -> String,
) -> Markup {
    let bars: Vec<Bar> = rows
        .iter()
        .map(|row| Bar {
            label: format!(
                "{} — {}",
                org_name(&row.provider),
                service_name(&row.regulation)
            ),
            value: row.share_in_term.unwrap_or(0.0),
            text: match row.share_in_term {
                Some(s) => format!("{} %", percent(lang, s)),
                None => "—".into(),
            },
        })
        .collect();
    bar_chart_svg(&t(lang, "stats.timeliness.chart"), &bars, Some(1.0))
}

// --- CSV ----------------------------------------------------------------------------------------

/// A field as RFC 4180 writes it: quoted, with quotes doubled, when it holds a comma, a quote or
/// a line break.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// RFC 4180 text (CRLF line ends) after a UTF-8 byte order mark, which Excel needs to read
/// Kazakh and Russian letters as UTF-8.
pub(crate) fn csv_text(headings: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::from('\u{feff}');
    for cells in std::iter::once(headings).chain(rows.iter().map(Vec::as_slice)) {
        let fields: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A table as CSV; shares are percentages with a full stop.
fn csv(table: &Table) -> String {
    let text = |c: &Cell| match c {
        Cell::Text(s) => s.clone(),
        Cell::Count(n) => n.to_string(),
        Cell::Share(Some(s)) => format!("{:.1}", s * 100.0),
        Cell::Share(None) => String::new(),
    };
    let rows: Vec<Vec<String>> = table
        .rows
        .iter()
        .chain(std::iter::once(&table.total))
        .map(|row| row.iter().map(text).collect())
        .collect();
    csv_text(&table.headings, &rows)
}

/// The appeals report as CSV, bodies by directory code.
pub fn appeal_csv(lang: Lang, report: &AppealReport) -> String {
    csv(&appeal_data(lang, report, str::to_owned))
}

/// Timeliness as CSV, bodies and services by code.
pub fn timeliness_csv(lang: Lang, rows: &[TimelinessRow]) -> String {
    csv(&timeliness_data(lang, rows, str::to_owned, str::to_owned))
}

// --- XLSX ---------------------------------------------------------------------------------------

/// One sheet: the headings in bold (wrapped, frozen), the rows, the total in bold; text columns
/// wide, counts narrow, shares as percentages.
fn xlsx(sheet_name: &str, table: &Table) -> Result<Vec<u8>, String> {
    let error = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name).map_err(error)?;
    let heading = Format::new().set_bold().set_text_wrap();
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let bold_percent = Format::new().set_bold().set_num_format("0.0%");
    for (col, text) in table.headings.iter().enumerate() {
        let col = col as u16;
        sheet
            .write_string_with_format(0, col, text, &heading)
            .map_err(error)?;
    }
    let text_columns = table
        .total
        .iter()
        .take_while(|c| matches!(c, Cell::Text(_)))
        .count();
    for col in 0..table.headings.len() {
        let width = if col < text_columns { 36 } else { 16 };
        sheet.set_column_width(col as u16, width).map_err(error)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(error)?;
    let rows = table
        .rows
        .iter()
        .map(|r| (r, false))
        .chain(std::iter::once((&table.total, true)));
    for (i, (cells, is_total)) in rows.enumerate() {
        let row = i as u32 + 1;
        for (col, cell) in cells.iter().enumerate() {
            let col = col as u16;
            match (cell, is_total) {
                (Cell::Text(s), false) => sheet.write_string(row, col, s),
                (Cell::Text(s), true) => sheet.write_string_with_format(row, col, s, &bold),
                (Cell::Count(n), false) => sheet.write_number(row, col, *n as f64),
                (Cell::Count(n), true) => {
                    sheet.write_number_with_format(row, col, *n as f64, &bold)
                }
                (Cell::Share(Some(s)), false) => {
                    sheet.write_number_with_format(row, col, *s, &percent)
                }
                (Cell::Share(Some(s)), true) => {
                    sheet.write_number_with_format(row, col, *s, &bold_percent)
                }
                (Cell::Share(None), _) => continue,
            }
            .map_err(error)?;
        }
    }
    workbook.save_to_buffer().map_err(error)
}

/// The appeals report as an Excel workbook, bodies by directory code.
pub fn appeal_xlsx(lang: Lang, report: &AppealReport) -> Result<Vec<u8>, String> {
    xlsx(
        &t(lang, "stats.appeals.sheet"),
        &appeal_data(lang, report, str::to_owned),
    )
}

/// Timeliness as an Excel workbook, bodies and services by code.
pub fn timeliness_xlsx(lang: Lang, rows: &[TimelinessRow]) -> Result<Vec<u8>, String> {
    xlsx(
        &t(lang, "stats.timeliness.sheet"),
        &timeliness_data(lang, rows, str::to_owned, str::to_owned),
    )
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use qyzmet_store::statistics::{AppealRow, Period};

    use super::*;

    fn report() -> AppealReport {
        AppealReport {
            period: Period {
                from_ms: 0,
                to_ms: 1,
            },
            rows: vec![
                AppealRow {
                    provider: "akimat, \"Kyzylorda\"".into(),
                    counts: AppealCounts {
                        received: 9,
                        from_individuals: 7,
                        from_legal_entities: 2,
                        registration_refused: 1,
                        registered: 7,
                        redirected: 1,
                        answered: 3,
                        in_progress: 4,
                        answered_in_term: 2,
                        answered_late: 1,
                        overdue_open: 2,
                        extended: 2,
                    },
                },
                AppealRow {
                    provider: "ministry-justice".into(),
                    counts: AppealCounts {
                        received: 1,
                        from_individuals: 1,
                        registered: 1,
                        answered: 1,
                        answered_in_term: 1,
                        ..AppealCounts::default()
                    },
                },
            ],
        }
    }

    fn timeliness_rows() -> Vec<TimelinessRow> {
        vec![
            TimelinessRow {
                provider: "kyzylorda-archives-department".into(),
                regulation: "archive-certificate".into(),
                finished: 3,
                finished_in_term: 2,
                finished_late: 1,
                open: 2,
                open_overdue: 1,
                share_in_term: Some(2.0 / 3.0),
            },
            TimelinessRow {
                provider: "kyzylorda-oblast-akimat".into(),
                regulation: "appeal".into(),
                finished: 0,
                finished_in_term: 0,
                finished_late: 0,
                open: 1,
                open_overdue: 1,
                share_in_term: None,
            },
        ]
    }

    #[test]
    fn every_heading_is_translated() {
        for lang in Lang::ALL {
            let keys = ["stats.organisation", "stats.service", "stats.total"]
                .map(str::to_owned)
                .into_iter()
                .chain(AppealCounts::FIELDS.map(|f| format!("stats.appeals.{f}")))
                .chain(TIMELINESS_FIELDS.map(|f| format!("stats.timeliness.{f}")))
                .chain(["title", "chart", "sheet"].into_iter().flat_map(|k| {
                    [
                        format!("stats.appeals.{k}"),
                        format!("stats.timeliness.{k}"),
                    ]
                }))
                .chain(["stats.empty".to_owned()]);
            for key in keys {
                assert_ne!(t(lang, &key), key, "{} lacks {key}", lang.code());
            }
        }
        // Real translations, not copies of the English.
        for key in ["stats.appeals.received", "stats.timeliness.share_in_term"] {
            assert_ne!(t(Lang::Kk, key), t(Lang::En, key));
            assert_ne!(t(Lang::Ru, key), t(Lang::En, key));
            assert_ne!(t(Lang::Kk, key), t(Lang::Ru, key));
        }
    }

    #[test]
    fn csv_quotes_by_rfc_4180_after_a_bom() {
        let csv = appeal_csv(Lang::En, &report());
        assert!(csv.starts_with('\u{feff}'), "UTF-8 byte order mark");
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").collect();
        assert_eq!(
            lines.len(),
            5,
            "headings, two rows, total, and the last CRLF"
        );
        assert_eq!(lines[4], "");
        assert_eq!(
            lines[1],
            "\"akimat, \"\"Kyzylorda\"\"\",9,7,2,1,7,1,3,4,2,1,2,2"
        );
        assert_eq!(lines[2], "ministry-justice,1,1,0,0,1,0,1,0,1,0,0,0");
        assert_eq!(lines[3], "Total,10,8,2,1,8,1,4,4,3,1,2,2");
        assert_eq!(csv_field("a\nb"), "\"a\nb\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn csv_headings_follow_the_language() {
        for lang in Lang::ALL {
            let csv = appeal_csv(lang, &report());
            let first = csv
                .trim_start_matches('\u{feff}')
                .lines()
                .next()
                .expect("a heading line");
            let expected: Vec<String> = std::iter::once(t(lang, "stats.organisation"))
                .chain(
                    AppealCounts::FIELDS
                        .iter()
                        .map(|f| t(lang, &format!("stats.appeals.{f}"))),
                )
                .map(|h| csv_field(&h))
                .collect();
            assert_eq!(first, expected.join(","));
        }
        let ru = appeal_csv(Lang::Ru, &report());
        assert!(ru.contains("Поступило"), "{ru}");
        assert!(ru.contains("Итого,10"));
        let kk = timeliness_csv(Lang::Kk, &timeliness_rows());
        assert!(kk.contains("Барлығы"), "{kk}");
        let lines: Vec<&str> = kk.split("\r\n").collect();
        assert_eq!(
            lines[1],
            "kyzylorda-archives-department,archive-certificate,3,2,1,2,1,66.7"
        );
        assert_eq!(lines[2], "kyzylorda-oblast-akimat,appeal,0,0,0,1,1,");
        assert_eq!(lines[3], "Барлығы,,3,2,1,3,2,66.7");
    }

    /// The workbook's files: it is a ZIP that the `zip` crate opens.
    fn unzip(bytes: &[u8], name: &str) -> String {
        assert!(bytes.starts_with(b"PK\x03\x04"), "a ZIP file");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("ZIP opens");
        let mut text = String::new();
        archive
            .by_name(name)
            .expect("file in the workbook")
            .read_to_string(&mut text)
            .expect("UTF-8 XML");
        text
    }

    #[test]
    fn xlsx_opens_with_the_counts_and_headings() {
        for lang in Lang::ALL {
            let bytes = appeal_xlsx(lang, &report()).expect("appeals workbook");
            let sheet = unzip(&bytes, "xl/worksheets/sheet1.xml");
            // Received in the total row (row 4), column B.
            assert!(
                sheet.contains(r#"<c r="B4" s="2"><v>10</v></c>"#),
                "{sheet}"
            );
            assert!(sheet.contains("<v>9</v>"));
            assert!(sheet.contains(r#"<pane ySplit="1""#), "frozen heading row");
            assert!(sheet.contains(r#"customWidth="1""#), "column widths");
            let strings = unzip(&bytes, "xl/sharedStrings.xml");
            assert!(strings.contains(&t(lang, "stats.appeals.received")));
            let styles = unzip(&bytes, "xl/styles.xml");
            assert!(styles.contains("<b/>"), "a bold font");
            let workbook = unzip(&bytes, "xl/workbook.xml");
            assert!(workbook.contains(&t(lang, "stats.appeals.sheet")));

            let bytes = timeliness_xlsx(lang, &timeliness_rows()).expect("timeliness workbook");
            let sheet = unzip(&bytes, "xl/worksheets/sheet1.xml");
            assert!(sheet.contains("<v>0.6666666666666666</v>"), "{sheet}");
            let strings = unzip(&bytes, "xl/sharedStrings.xml");
            assert!(strings.contains("archive-certificate"));
            assert!(strings.contains(&t(lang, "stats.timeliness.share_in_term")));
        }
    }

    #[test]
    fn tables_have_a_row_per_body_and_the_total() {
        let html = appeal_table(Lang::Ru, &report(), |code| format!("<{code}>")).into_string();
        assert_eq!(html.matches("<tr>").count(), 4, "{html}");
        assert!(html.contains("&lt;ministry-justice&gt;"), "names escaped");
        assert!(html.contains(&t(Lang::Ru, "stats.appeals.title")));
        assert!(html.contains("<th scope=\"row\">Итого</th><td class=\"num\">10</td>"));
        let html = timeliness_table(Lang::Kk, &timeliness_rows(), str::to_owned, |code| {
            format!("service {code}")
        })
        .into_string();
        assert!(html.contains("66,7 %"), "{html}");
        assert!(html.contains("<td>service appeal</td>"));
        assert!(html.contains("—"));
        let empty = AppealReport {
            rows: Vec::new(),
            ..report()
        };
        let html = appeal_table(Lang::En, &empty, str::to_owned).into_string();
        assert!(html.contains(&t(Lang::En, "stats.empty")));
    }

    #[test]
    fn the_chart_has_one_bar_per_row_and_a_title() {
        let svg = appeal_chart(Lang::En, &report(), |code| format!("Body {code}")).into_string();
        assert_eq!(svg.matches("class=\"bar\"").count(), 2, "{svg}");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\""));
        let id = chart_id(&t(Lang::En, "stats.appeals.chart"));
        assert!(svg.contains(&format!("aria-labelledby=\"{id}\"")));
        assert!(svg.contains(&format!(
            "<title id=\"{id}\">{}</title>",
            t(Lang::En, "stats.appeals.chart")
        )));
        assert!(!svg.contains("<script"));
        // The longest bar fills the plot; the others are to scale.
        assert!(svg.contains(&format!("width=\"{PLOT_WIDTH}\"")));
        assert!(svg.contains("width=\"37\""), "1/9 of {PLOT_WIDTH}");

        let svg = timeliness_chart(Lang::Ru, &timeliness_rows(), str::to_owned, str::to_owned)
            .into_string();
        assert_eq!(svg.matches("class=\"bar\"").count(), 2);
        assert!(svg.contains("66,7 %"));
        assert!(svg.contains("width=\"220\""), "2/3 of {PLOT_WIDTH}");

        let many: Vec<Bar> = (0..7)
            .map(|i| Bar {
                label: "A very long name of a state body that does not fit".repeat(i % 2 + 1),
                value: i as f64,
                text: i.to_string(),
            })
            .collect();
        let svg = bar_chart_svg("Seven", &many, None).into_string();
        assert_eq!(svg.matches("<rect").count(), 7);
        assert!(svg.contains("…"));
    }

    /// The shipped regulations put the appeals, and only them, in the appeals report.
    #[test]
    fn the_appeals_report_counts_the_services_that_declare_it() {
        let catalogue = Catalogue::shipped().unwrap();
        assert_eq!(
            counted_in(&catalogue, StatisticalReport::Appeals),
            ["appeal"]
        );
    }
}
