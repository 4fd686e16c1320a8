//! SVG of one channel of a regulation, for the service's page (issue 4): the picture of the BPMN export
//! ([`super::bpmn`]), drawn from the same [`super::layout`] in BPMN notation. A pool with a band per
//! unit; rounded boxes for tasks (a person for a user task, a gear for a system's service task);
//! diamonds with an X for conditions; a thin circle for the start and thick ones for ends (red for a
//! refusal); flows with arrowheads, the failure flows named by their message; a clock with the time
//! limit on each step that has one.
//!
//! Each step is a group `id="step-<id>"` with a `<title>` of its whole label, so that the page can
//! mark an application's current step (`#step-P10 .shape`) and a pointer shows the text a box had to
//! shorten. A standalone SVG 1.1 document: no fonts, scripts or stylesheets from outside.

use std::fmt::Write;

use quick_xml::escape::escape;

use super::layout::{self, Kind, Label, Layout, Node, Rect};
use super::{Channel, Regulation};

const INK: &str = "#222";
const FAILURE: &str = "#b3261e";
const REFUSAL_FILL: &str = "#fdecea";
const SYSTEM_FILL: &str = "#eef4fb";
const LANE_FILLS: [&str; 2] = ["#ffffff", "#f6f7f9"];

/// The SVG of `channel` in `regulation`, labels in `language` (`kk`, `ru` or `en`).
pub fn svg(regulation: &Regulation, channel: &Channel, language: &str) -> String {
    let layout = layout::layout(regulation, channel, language);
    // Ids of the document's own definitions, unique when several diagrams share a page.
    let prefix: String = format!("qyzmet-{}-{}", regulation.code, channel.code)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let (w, h) = (layout.width, layout.height);
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{prefix}-title" font-family="DejaVu Sans, Verdana, sans-serif" font-size="10" fill="{INK}">
<title id="{prefix}-title">{title}</title>
<defs>
<marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{INK}"/></marker>
<marker id="{prefix}-arrow-failure" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{FAILURE}"/></marker>
</defs>
<rect width="{w}" height="{h}" fill="#ffffff"/>
"##,
        title = escape(layout.title.as_str()),
    );
    pool(&mut out, &layout);
    let _ = writeln!(out, "<g class=\"flows\" fill=\"none\">");
    for edge in &layout.edges {
        let (colour, arrow, class) = if edge.failure {
            (FAILURE, format!("{prefix}-arrow-failure"), "flow failure")
        } else {
            (INK, format!("{prefix}-arrow"), "flow")
        };
        let points: Vec<String> = edge
            .waypoints
            .iter()
            .map(|(x, y)| format!("{x},{y}"))
            .collect();
        let _ = write!(
            out,
            "<g id=\"flow-{}\" class=\"{class}\">",
            escape(edge.key().as_str())
        );
        if let Some(name) = &edge.name {
            let _ = write!(out, "<title>{}</title>", escape(name.as_str()));
        }
        let _ = write!(
            out,
            "<polyline points=\"{}\" stroke=\"{colour}\" stroke-width=\"1.5\" stroke-linejoin=\"round\" marker-end=\"url(#{arrow})\"/>",
            points.join(" ")
        );
        if let Some(label) = &edge.label {
            text(
                &mut out,
                label,
                &format!(
                    " fill=\"{colour}\" stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\""
                ),
                None,
            );
        }
        let _ = writeln!(out, "</g>");
    }
    let _ = writeln!(out, "</g>");
    let s = layout.start;
    let _ = writeln!(
        out,
        "<g id=\"start\" class=\"start\"><circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"#ffffff\" stroke=\"{INK}\" stroke-width=\"2\"/></g>",
        s.cx(),
        s.cy(),
        s.w / 2 - 1
    );
    for node in &layout.nodes {
        step(&mut out, node, language);
    }
    out.push_str("</svg>\n");
    out
}

/// The pool, its name, and the lanes with their units' names.
fn pool(out: &mut String, layout: &Layout) {
    let p = layout.pool;
    let _ = writeln!(out, "<g class=\"pool\">");
    for (l, lane) in layout.lanes.iter().enumerate() {
        let b = lane.bounds;
        let _ = write!(
            out,
            "<g class=\"lane\" id=\"lane-{}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"{INK}\"/>",
            escape(lane.unit),
            b.x,
            b.y,
            b.w,
            b.h,
            LANE_FILLS[l % 2]
        );
        text(out, &lane.label, " font-weight=\"bold\"", None);
        let _ = writeln!(out, "</g>");
    }
    let _ = writeln!(
        out,
        "<rect class=\"shape\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.5\"/>",
        p.x, p.y, p.w, p.h
    );
    // The pool's name, turned a quarter anticlockwise about the middle of its band.
    let band = layout.pool_label.bounds;
    let (cx, cy) = (band.cx(), band.cy());
    let label = &layout.pool_label;
    let lh = label.line_height();
    let block = label.lines.len() as i32 * lh;
    let turned = Label {
        bounds: Rect {
            x: cx - band.h / 2,
            y: cy - block / 2,
            w: band.h,
            h: block,
        },
        ..label.clone()
    };
    let _ = write!(out, "<g transform=\"rotate(-90 {cx} {cy})\">");
    text(out, &turned, " font-weight=\"bold\"", None);
    let _ = writeln!(out, "</g>\n</g>");
}

/// A step: its shape, marker, label and clock, in a group named by its id.
fn step(out: &mut String, node: &Node, language: &str) {
    let b = node.bounds;
    let (class, colour) = match node.kind {
        Kind::UserTask => ("task user", INK),
        Kind::ServiceTask => ("task service", INK),
        Kind::Condition => ("condition", INK),
        Kind::End => ("end result", INK),
        Kind::Refusal => ("end refusal", FAILURE),
    };
    let number = format!("{}.", node.step.id);
    let _ = write!(
        out,
        "<g id=\"step-{}\" class=\"step {class}\"><title>{}</title>",
        escape(node.step.id.as_str()),
        escape(node.name.as_str())
    );
    match node.kind {
        Kind::UserTask | Kind::ServiceTask => {
            let fill = if node.kind == Kind::ServiceTask {
                SYSTEM_FILL
            } else {
                "#ffffff"
            };
            let _ = write!(
                out,
                "<rect class=\"shape\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"10\" fill=\"{fill}\" stroke=\"{INK}\" stroke-width=\"1.5\"/>",
                b.x, b.y, b.w, b.h
            );
            let (mx, my) = (b.x + 11, b.y + 10);
            if node.kind == Kind::ServiceTask {
                // A gear: a ring with eight teeth.
                let _ = write!(
                    out,
                    "<g class=\"marker\" fill=\"none\" stroke=\"{INK}\"><circle cx=\"{mx}\" cy=\"{my}\" r=\"4\" stroke-width=\"1.5\"/><path d=\"M{mx},{} v3 M{mx},{} v3 M{},{my} h3 M{},{my} h3 M{},{} l2,2 M{},{} l2,2 M{},{} l2,-2 M{},{} l2,-2\" stroke-width=\"1.5\"/><circle cx=\"{mx}\" cy=\"{my}\" r=\"1.3\" fill=\"{INK}\" stroke=\"none\"/></g>",
                    my - 7,
                    my + 4,
                    mx - 7,
                    mx + 4,
                    mx - 6,
                    my - 6,
                    mx + 4,
                    my + 4,
                    mx - 6,
                    my + 6,
                    mx + 4,
                    my - 4
                );
            } else {
                // A person: a head and shoulders.
                let _ = write!(
                    out,
                    "<g class=\"marker\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.2\"><circle cx=\"{mx}\" cy=\"{}\" r=\"3\"/><path d=\"M{},{} a6,5 0 0 1 12,0 z\"/></g>",
                    my - 3,
                    mx - 6,
                    my + 7
                );
            }
            text(out, &node.label, "", Some(&number));
        }
        Kind::Condition => {
            let _ = write!(
                out,
                "<path class=\"shape\" d=\"M{},{} L{},{} L{},{} L{},{} Z\" fill=\"#ffffff\" stroke=\"{INK}\" stroke-width=\"1.5\"/><path class=\"marker\" d=\"M{},{} l14,14 M{},{} l-14,14\" stroke=\"{INK}\" stroke-width=\"3\"/>",
                b.cx(),
                b.y,
                b.right(),
                b.cy(),
                b.cx(),
                b.bottom(),
                b.x,
                b.cy(),
                b.cx() - 7,
                b.cy() - 7,
                b.cx() + 7,
                b.cy() - 7
            );
            text(out, &node.label, "", Some(&number));
        }
        Kind::End | Kind::Refusal => {
            let fill = if node.kind == Kind::Refusal {
                REFUSAL_FILL
            } else {
                "#ffffff"
            };
            let _ = write!(
                out,
                "<circle class=\"shape\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{fill}\" stroke=\"{colour}\" stroke-width=\"4\"/>",
                b.cx(),
                b.cy(),
                b.w / 2 - 2
            );
            text(
                out,
                &node.label,
                &format!(" fill=\"{colour}\""),
                Some(&number),
            );
        }
    }
    if let Some(limit) = &node.limit {
        let term = node.step.time_limit.as_ref().map(|term| {
            std::iter::once(&term.base)
                .chain(term.extensions.iter().map(|e| &e.up_to))
                .map(|l| layout::limit_text(l, language))
                .collect::<Vec<_>>()
                .join(" → ")
        });
        let _ = write!(
            out,
            "<g class=\"limit\"><title>{}</title>",
            escape(term.unwrap_or_default().as_str())
        );
        match node.timer {
            Some(t) => clock(out, t.cx(), t.cy(), t.w / 2, true),
            None => clock(out, limit.bounds.x - 8, limit.bounds.cy(), 5, false),
        }
        text(out, limit, "", None);
        out.push_str("</g>");
    }
    let _ = writeln!(out, "</g>");
}

/// Lines of `label`, each centred in its bounds; a step's `number` that begins the first line, bold.
fn text(out: &mut String, label: &Label, attributes: &str, number: Option<&str>) {
    if label.lines.is_empty() {
        return;
    }
    let cx = label.bounds.cx();
    let _ = write!(
        out,
        "<text x=\"{cx}\" text-anchor=\"middle\" font-size=\"{}\"{attributes}>",
        label.font
    );
    for (i, line) in label.lines.iter().enumerate() {
        let _ = write!(out, "<tspan x=\"{cx}\" y=\"{}\">", label.baseline(i));
        match number
            .filter(|_| i == 0)
            .and_then(|n| Some((n, line.strip_prefix(n)?)))
        {
            Some((number, rest)) => {
                let _ = write!(
                    out,
                    "<tspan font-weight=\"bold\">{}</tspan>{}",
                    escape(number),
                    escape(rest)
                );
            }
            None => out.push_str(&escape(line.as_str())),
        }
        out.push_str("</tspan>");
    }
    out.push_str("</text>");
}

/// A clock of radius `r` at (`cx`, `cy`); `boundary`: drawn as BPMN's timer event (a double ring).
fn clock(out: &mut String, cx: i32, cy: i32, r: i32, boundary: bool) {
    let face = if boundary {
        let _ = write!(
            out,
            "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{r}\" fill=\"#ffffff\" stroke=\"{INK}\" stroke-width=\"1.2\"/><circle cx=\"{cx}\" cy=\"{cy}\" r=\"{}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.2\"/>",
            r - 3
        );
        r - 7
    } else {
        r
    };
    let hand = face * 3 / 4;
    let _ = write!(
        out,
        "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{face}\" fill=\"#ffffff\" stroke=\"{INK}\" stroke-width=\"1.2\"/><path d=\"M{cx},{} L{cx},{cy} L{},{cy}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.2\"/>",
        cy - hand,
        cx + hand * 2 / 3
    );
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use quick_xml::Reader;
    use quick_xml::events::{BytesStart, Event};

    use super::super::{StepKind, bpmn, check};
    use super::*;

    const ARCHIVAL_REFERENCE: &str =
        include_str!("../../../../regulations/archival-reference-regional.toml");

    /// An element of a parsed document: its name, attributes, and the id of the innermost element
    /// around it that has one.
    struct Element {
        name: String,
        attributes: HashMap<String, String>,
        within: Option<String>,
    }

    struct Parsed {
        elements: Vec<Element>,
        /// The text of each `<title>`, by the id of the element it names.
        titles: HashMap<String, String>,
    }

    /// Every event of `xml`, read to the end; a document that is not well-formed fails the test.
    fn parse(xml: &str) -> Parsed {
        let mut reader = Reader::from_str(xml);
        let mut open: Vec<(String, Option<String>)> = Vec::new();
        let mut parsed = Parsed {
            elements: Vec::new(),
            titles: HashMap::new(),
        };
        let mut title = String::new();
        let element = |e: &BytesStart, open: &[(String, Option<String>)]| Element {
            name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
            attributes: e
                .attributes()
                .map(|a| {
                    let a = a.expect("attribute");
                    (
                        String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                        a.unescape_value().expect("attribute value").into_owned(),
                    )
                })
                .collect(),
            within: open.iter().rev().find_map(|(_, id)| id.clone()),
        };
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Eof => break,
                Event::Start(e) => {
                    let found = element(&e, &open);
                    let id = found.attributes.get("id").cloned();
                    open.push((found.name.clone(), id));
                    parsed.elements.push(found);
                    title.clear();
                }
                Event::Empty(e) => parsed.elements.push(element(&e, &open)),
                Event::Text(t) => title.push_str(&t.decode().expect("UTF-8")),
                Event::GeneralRef(r) => {
                    title.push_str(&format!("&{};", r.decode().expect("UTF-8")));
                }
                Event::End(_) => {
                    let (name, own) = open.pop().expect("an open element");
                    // A title names its parent, unless it has an id of its own (the diagram's).
                    if name == "title"
                        && let Some(id) =
                            own.or_else(|| open.iter().rev().find_map(|(_, id)| id.clone()))
                    {
                        let text = quick_xml::escape::unescape(&title).expect("entities");
                        parsed.titles.entry(id).or_insert(text.into_owned());
                    }
                }
                _ => {}
            }
        }
        assert!(open.is_empty(), "unclosed elements: {open:?}");
        parsed
    }

    fn number(attributes: &HashMap<String, String>, key: &str) -> i32 {
        attributes[key].parse().expect("a whole number")
    }

    #[test]
    fn every_channel_draws_as_well_formed_svg_with_a_group_and_title_per_step() {
        let r = check("f", ARCHIVAL_REFERENCE).unwrap();
        for channel in &r.channels {
            for language in ["kk", "ru", "en"] {
                let svg = svg(&r, channel, language);
                let parsed = parse(&svg);
                let root = &parsed.elements[0];
                assert_eq!(root.name, "svg");
                assert_eq!(root.attributes["xmlns"], "http://www.w3.org/2000/svg");
                assert_eq!(root.attributes["role"], "img");
                let (w, h) = (
                    number(&root.attributes, "width"),
                    number(&root.attributes, "height"),
                );
                assert_eq!(root.attributes["viewBox"], format!("0 0 {w} {h}"));
                // The diagram's own title names the service and the channel.
                let diagram = &parsed.titles[&root.attributes["aria-labelledby"]];
                assert!(
                    diagram.contains(layout::text(&r.name, language)),
                    "{diagram}"
                );
                assert!(diagram.contains(layout::text(&channel.label, language)));
                for step in &channel.steps {
                    let group = format!("step-{}", step.id);
                    assert!(
                        parsed
                            .elements
                            .iter()
                            .any(|e| e.name == "g" && e.attributes.get("id") == Some(&group)),
                        "{} {}: no group {group}",
                        channel.code,
                        language
                    );
                    let name = format!("{}. {}", step.id, layout::text(&step.label, language));
                    assert_eq!(parsed.titles.get(&group), Some(&name));
                    assert!(svg.contains(escape(name.as_str()).as_ref()));
                    // Everything drawn lies on the drawing.
                    for e in parsed
                        .elements
                        .iter()
                        .filter(|e| e.within.as_ref() == Some(&group))
                    {
                        for key in ["x", "cx", "y", "cy"] {
                            if let Some(v) = e.attributes.get(key) {
                                let v: i32 = v.parse().expect("a whole number");
                                assert!((0..=w.max(h)).contains(&v), "{group}: {key}={v}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn failure_flows_carry_their_message_in_a_title_and_as_their_label() {
        let r = check("f", ARCHIVAL_REFERENCE).unwrap();
        let portal = r.channel("portal").unwrap();
        let parsed = parse(&svg(&r, portal, "ru"));
        let mut failures = 0;
        for step in &portal.steps {
            if let Some(branch) = &step.on_failure {
                failures += 1;
                let group = format!("flow-{}_{}_failure", step.id, branch.next);
                assert_eq!(
                    parsed.titles.get(&group).map(String::as_str),
                    Some(branch.message.ru.as_str()),
                    "{group}"
                );
                let flow = parsed
                    .elements
                    .iter()
                    .find(|e| e.name == "polyline" && e.within.as_ref() == Some(&group))
                    .expect("the failure flow's line");
                assert!(flow.attributes["marker-end"].contains("arrow-failure"));
            }
        }
        assert_eq!(failures, 3);
    }

    /// The SVG and the BPMN export's diagram interchange are one picture: each task's box is its
    /// BPMN shape's bounds, and each flow follows its BPMN edge's waypoints.
    #[test]
    fn boxes_and_flows_are_where_the_bpmn_diagram_interchange_puts_them() {
        let r = check("f", ARCHIVAL_REFERENCE).unwrap();
        for channel in &r.channels {
            let svg = parse(&svg(&r, channel, "kk"));
            let bpmn = parse(&bpmn(&r, channel, "kk"));
            let mut tasks = 0;
            for step in channel.steps.iter().filter(|s| s.kind == StepKind::Action) {
                let shape = format!("Step_{}_di", step.id);
                let di = bpmn
                    .elements
                    .iter()
                    .find(|e| e.name == "dc:Bounds" && e.within.as_ref() == Some(&shape))
                    .expect("the BPMN shape's bounds");
                let group = format!("step-{}", step.id);
                let drawn = svg
                    .elements
                    .iter()
                    .find(|e| {
                        e.name == "rect"
                            && e.within.as_ref() == Some(&group)
                            && e.attributes.get("class").map(String::as_str) == Some("shape")
                    })
                    .expect("the task's box");
                for (svg_key, bpmn_key) in [
                    ("x", "x"),
                    ("y", "y"),
                    ("width", "width"),
                    ("height", "height"),
                ] {
                    assert_eq!(
                        number(&drawn.attributes, svg_key),
                        number(&di.attributes, bpmn_key),
                        "{} {}: {svg_key}",
                        channel.code,
                        step.id
                    );
                }
                tasks += 1;
            }
            assert!(tasks > 5);
            for line in svg.elements.iter().filter(|e| e.name == "polyline") {
                let group = line.within.as_ref().expect("a flow's group");
                let edge = format!("Flow_{}_di", group.trim_start_matches("flow-"));
                let waypoints: Vec<String> = bpmn
                    .elements
                    .iter()
                    .filter(|e| e.name == "di:waypoint" && e.within.as_ref() == Some(&edge))
                    .map(|e| format!("{},{}", e.attributes["x"], e.attributes["y"]))
                    .collect();
                assert!(waypoints.len() >= 2, "{edge}");
                assert_eq!(line.attributes["points"], waypoints.join(" "), "{edge}");
            }
        }
    }

    #[test]
    fn markup_in_labels_is_escaped() {
        let mut r = check("f", ARCHIVAL_REFERENCE).unwrap();
        let hostile = "A <b>&</b> \"quoted\" 'label' <&>";
        r.name.kk = hostile.to_owned();
        r.units[0].label.kk = hostile.to_owned();
        let channel = &mut r.channels[0];
        channel.label.kk = hostile.to_owned();
        for step in &mut channel.steps {
            step.label.kk = format!("{hostile} {}", step.id);
            if let Some(branch) = &mut step.on_failure {
                branch.message.kk = hostile.to_owned();
            }
        }
        let channel = r.channels[0].clone();
        let svg = svg(&r, &channel, "kk");
        let parsed = parse(&svg);
        assert!(!svg.contains("<b>") && !svg.contains("<&>"));
        assert!(svg.contains("&lt;&amp;&gt;"));
        for step in &channel.steps {
            assert_eq!(
                parsed.titles[&format!("step-{}", step.id)],
                format!("{}. {hostile} {}", step.id, step.id)
            );
        }
        // The BPMN export of the same channel stays well-formed too.
        parse(&bpmn(&r, &channel, "kk"));
    }

    #[test]
    fn time_limits_are_written_with_the_language_s_unit() {
        let r = check("f", ARCHIVAL_REFERENCE).unwrap();
        let portal = r.channel("portal").unwrap();
        let kk = svg(&r, portal, "kk");
        assert!(
            kk.contains(">15 кал. күн<"),
            "the archive's 15 calendar days"
        );
        assert!(
            kk.contains("15 кал. күн → 30 кал. күн → 6 ай"),
            "with its extensions"
        );
        assert!(svg(&r, portal, "ru").contains(">15 кал. дн.<"));
        assert!(svg(&r, portal, "en").contains(">15 cal. days<"));
        assert!(kk.contains(">5 мин<"));
    }
}
