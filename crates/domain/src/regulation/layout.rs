//! The picture of one channel of a regulation (issue 4), computed once for both drawings of it: the BPMN
//! export's diagram interchange ([`super::bpmn`]) and the SVG of the service's page ([`super::svg`]), so
//! that the two are the same diagram.
//!
//! A pool holds a lane per unit, in the order units first act (an end without a unit stays in the lane
//! of the step before it). Each step has a column of its own, in the file's order, so a vertical line
//! through a step's centre or through the gap between two columns meets no other step. Flows are routed
//! on that grid: to the next column straight or with one bend in the gap; over columns, out of the top
//! (or bottom) of the source, along the free band at the top (or bottom) of a lane, and down (or up) the
//! gap before the target; backwards, along the bottom band into the target's bottom. Labels that cannot
//! sit inside a shape (conditions, ends, failure flows) are wrapped and placed where no flow runs.
//!
//! Text is measured by an estimate of DejaVu Sans (the widest of the usual sans-serif faces), so that
//! a label wrapped here fits in whichever sans-serif face draws it.

use super::{Channel, Limit, Regulation, Step, StepKind, Text, TimeUnit, UnitKind};

/// Blank space around the pool.
pub(super) const MARGIN: i32 = 40;
/// The pool's band with its name, written vertically.
const POOL_LABEL: i32 = 36;
/// The part of a lane with the unit's name.
const LANE_HEADER: i32 = 150;
const LANE_H: i32 = 200;
const TASK_W: i32 = 160;
const TASK_H: i32 = 100;
/// Between two columns: where flows bend.
const GAP: i32 = 50;
const COLUMN: i32 = TASK_W + GAP;
/// From the lane's left edge to the first column (the start event sits between).
const FIRST_COLUMN: i32 = LANE_HEADER + 110;
const EVENT: i32 = 36;
const GATEWAY: i32 = 50;
/// Distance of a routed flow from the lane's top or bottom edge.
const GUTTER: i32 = 10;
/// The widest an external label may be: a column less a little air on each side.
const LABEL_W: i32 = COLUMN - 20;

/// Font sizes (px) of the labels: the first in which the text fits, else the last, shortened.
const FONTS: [i32; 3] = [10, 9, 8];
const FLOW_FONTS: [i32; 2] = [9, 8];
const LIMIT_FONT: i32 = 9;
const LANE_FONTS: [i32; 2] = [10, 9];
const POOL_FONTS: [i32; 4] = [12, 11, 10, 9];

/// The text of a label in `language` (`kk`, `ru` or `en`; English falls back to Russian).
pub(super) fn text<'a>(text: &'a Text, language: &str) -> &'a str {
    match language {
        "ru" => &text.ru,
        "en" => text.en.as_deref().unwrap_or(&text.ru),
        _ => &text.kk,
    }
}

/// A time limit as the diagram writes it: "15 кал. күн", "5 мин", "≥ 5 min".
pub(super) fn limit_text(limit: &Limit, language: &str) -> String {
    let one = limit.amount == 1;
    let unit = match (language, limit.unit) {
        ("ru", TimeUnit::Seconds) => "сек",
        ("ru", TimeUnit::Minutes) => "мин",
        ("ru", TimeUnit::WorkingMinutes) => "раб. мин",
        ("ru", TimeUnit::Hours) => "ч",
        ("ru", TimeUnit::CalendarDays) => "кал. дн.",
        ("ru", TimeUnit::WorkingDays) => "раб. дн.",
        ("ru", TimeUnit::Months) => "мес.",
        ("en", TimeUnit::Seconds) => "s",
        ("en", TimeUnit::Minutes) => "min",
        ("en", TimeUnit::WorkingMinutes) => "work. min",
        ("en", TimeUnit::Hours) => "h",
        ("en", TimeUnit::CalendarDays) if one => "cal. day",
        ("en", TimeUnit::CalendarDays) => "cal. days",
        ("en", TimeUnit::WorkingDays) if one => "work. day",
        ("en", TimeUnit::WorkingDays) => "work. days",
        ("en", TimeUnit::Months) if one => "month",
        ("en", TimeUnit::Months) => "months",
        (_, TimeUnit::Seconds) => "сек",
        (_, TimeUnit::Minutes) => "мин",
        (_, TimeUnit::WorkingMinutes) => "жұм. мин",
        (_, TimeUnit::Hours) => "сағ",
        (_, TimeUnit::CalendarDays) => "кал. күн",
        (_, TimeUnit::WorkingDays) => "жұм. күн",
        (_, TimeUnit::Months) => "ай",
    };
    let floor = if limit.at_least { "≥ " } else { "" };
    format!("{floor}{} {unit}", limit.amount)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Rect {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

impl Rect {
    pub fn cx(&self) -> i32 {
        self.x + self.w / 2
    }
    pub fn cy(&self) -> i32 {
        self.y + self.h / 2
    }
    pub fn right(&self) -> i32 {
        self.x + self.w
    }
    pub fn bottom(&self) -> i32 {
        self.y + self.h
    }
}

/// Text wrapped into lines, each centred horizontally in `bounds`, the first at its top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Label {
    /// The whole text, before wrapping and shortening.
    pub text: String,
    pub lines: Vec<String>,
    pub font: i32,
    pub bounds: Rect,
}

impl Label {
    /// `text` wrapped to `max_w` in the largest of `fonts` in which it fits `max_h` with no word broken;
    /// when it fits in none, in the last, shortened (at least one line).
    fn new(text: &str, fonts: &[i32], max_w: i32, max_h: i32) -> Label {
        let mut label = Label {
            text: text.to_owned(),
            lines: Vec::new(),
            font: fonts.first().copied().unwrap_or(10),
            bounds: Rect {
                x: 0,
                y: 0,
                w: 0,
                h: 0,
            },
        };
        for &font in fonts {
            let max_lines = (max_h / line_height(font)).max(1) as usize;
            let (lines, fits) = wrap(text, font, max_w, max_lines);
            label.bounds.w = lines.iter().map(|l| width(l, font)).max().unwrap_or(0);
            label.bounds.h = lines.len() as i32 * line_height(font);
            label.lines = lines;
            label.font = font;
            if fits {
                break;
            }
        }
        label
    }

    /// Moved so that its top edge is centred on (`cx`, `top`).
    fn below(mut self, cx: i32, top: i32) -> Label {
        self.bounds.x = cx - self.bounds.w / 2;
        self.bounds.y = top;
        self
    }

    /// Moved so that its bottom edge is centred on (`cx`, `bottom`).
    fn above(self, cx: i32, bottom: i32) -> Label {
        let h = self.bounds.h;
        self.below(cx, bottom - h)
    }

    pub fn line_height(&self) -> i32 {
        line_height(self.font)
    }

    /// The baseline of line `i`.
    pub fn baseline(&self, i: usize) -> i32 {
        let lh = self.line_height();
        self.bounds.y + i as i32 * lh + lh * 3 / 4
    }
}

fn line_height(font: i32) -> i32 {
    font + font / 5
}

/// Estimated advance of a character in em (DejaVu Sans Book as librsvg draws it, rounded up; Verdana,
/// the usual stand-in, is no wider).
fn advance(c: char) -> f32 {
    match c {
        ' ' | '.' | ',' | ':' | ';' | '\'' | '|' | 'i' | 'l' | 'j' | 'I' | 'J' | 'і' | 'І' => {
            0.34
        }
        '(' | ')' | '[' | ']' | '-' | '/' | '!' | 'f' | 'r' | 't' => 0.42,
        '"' | '–' | '?' => 0.55,
        'ж' | 'ф' | 'ш' | 'щ' | 'ю' | 'm' | 'w' => 0.95,
        'Ж' | 'Ш' | 'Щ' | 'Ю' | 'Ы' | 'М' | 'Ф' | 'Ъ' | 'M' | 'W' | '—' | '…' | '%' | '@' | '&'
        | '<' | '>' | '№' => 1.1,
        'м' | 'д' | 'ц' | 'ъ' | 'ы' => 0.8,
        c if c.is_uppercase() => 0.8,
        _ => 0.66,
    }
}

/// Estimated width in px of `text` in a font of `font` px.
fn width(text: &str, font: i32) -> i32 {
    (text.chars().map(advance).sum::<f32>() * font as f32).ceil() as i32
}

/// `text` broken at spaces into lines no wider than `max_w` (a word wider than that is broken where it
/// must); past `max_lines`, the last line ends with "…". The flag: whether the text fitted, with no
/// word broken and nothing left out.
fn wrap(text: &str, font: i32, max_w: i32, max_lines: usize) -> (Vec<String>, bool) {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut broken = false;
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if width(&candidate, font) <= max_w {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = word;
        if width(rest, font) > max_w {
            broken = true;
        }
        while width(rest, font) > max_w {
            let mut cut = rest
                .char_indices()
                .map(|(i, _)| i)
                .take_while(|&i| width(&rest[..i], font) <= max_w)
                .last()
                .unwrap_or(0);
            if cut == 0 {
                cut = rest.chars().next().map_or(rest.len(), char::len_utf8);
            }
            lines.push(rest[..cut].to_owned());
            rest = &rest[cut..];
        }
        line = rest.to_owned();
    }
    if !line.is_empty() {
        lines.push(line);
    }
    let shortened = lines.len() > max_lines;
    if shortened {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            let mut kept: String = last.clone();
            loop {
                let shortened = format!("{}…", kept.trim_end_matches([' ', ',', ';', ':', '.']));
                if width(&shortened, font) <= max_w || kept.is_empty() {
                    *last = shortened;
                    break;
                }
                kept.pop();
            }
        }
    }
    (lines, !shortened && !broken)
}

/// How a step is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A person acts (the applicant or staff).
    UserTask,
    /// An information system acts.
    ServiceTask,
    Condition,
    /// An end where the service is given.
    End,
    /// An end where the service is refused.
    Refusal,
}

pub(super) struct Lane<'a> {
    /// The unit's code.
    pub unit: &'a str,
    pub bounds: Rect,
    /// The unit's label, in the lane's header.
    pub label: Label,
}

pub(super) struct Node<'a> {
    pub step: &'a Step,
    pub kind: Kind,
    pub lane: usize,
    pub bounds: Rect,
    /// "P3. Label": the step's number and label (the BPMN name).
    pub name: String,
    /// The name as drawn: inside a task, below a condition or an end.
    pub label: Label,
    /// The time limit as written on the diagram: inside an action left of its timer, under a
    /// condition's label.
    pub limit: Option<Label>,
    /// An action's time limit as a BPMN timer boundary event on its bottom edge.
    pub timer: Option<Rect>,
}

pub(super) struct Edge<'a> {
    /// None: from the start event.
    pub source: Option<&'a Step>,
    pub target: &'a Step,
    /// A condition's failure flow, named by the message the applicant sees.
    pub failure: bool,
    pub name: Option<String>,
    pub waypoints: Vec<(i32, i32)>,
    pub label: Option<Label>,
}

impl Edge<'_> {
    /// Unique in the channel: `start`, `P1_P3`, `P1_P2_failure`.
    pub fn key(&self) -> String {
        match (self.source, self.failure) {
            (None, _) => "start".to_owned(),
            (Some(source), false) => format!("{}_{}", source.id, self.target.id),
            (Some(source), true) => format!("{}_{}_failure", source.id, self.target.id),
        }
    }
}

pub(super) struct Layout<'a> {
    /// "Service — channel": the pool's name.
    pub title: String,
    /// The whole drawing, margins included.
    pub width: i32,
    pub height: i32,
    pub pool: Rect,
    /// The pool's name, to be written turned a quarter anticlockwise in the pool's band.
    pub pool_label: Label,
    pub lanes: Vec<Lane<'a>>,
    pub start: Rect,
    pub nodes: Vec<Node<'a>>,
    pub edges: Vec<Edge<'a>>,
}

/// Which sides of each node flows already leave or enter by (besides left and right).
#[derive(Default, Clone, Copy)]
struct Ports {
    top: bool,
    bottom: bool,
}

/// The layout of `channel` of `regulation`, labels in `language`.
pub(super) fn layout<'a>(
    regulation: &'a Regulation,
    channel: &'a Channel,
    language: &str,
) -> Layout<'a> {
    let steps = &channel.steps;
    let mut units: Vec<&str> = Vec::new();
    let mut lane_of: Vec<usize> = Vec::with_capacity(steps.len());
    for step in steps {
        let lane = if step.kind == StepKind::End && step.unit.is_empty() {
            lane_of.last().copied().unwrap_or(0)
        } else if let Some(l) = units.iter().position(|u| *u == step.unit) {
            l
        } else {
            units.push(&step.unit);
            units.len() - 1
        };
        lane_of.push(lane);
    }
    if units.is_empty() {
        units.push("");
    }

    let pool = Rect {
        x: MARGIN,
        y: MARGIN,
        w: POOL_LABEL + FIRST_COLUMN + steps.len() as i32 * COLUMN,
        h: units.len() as i32 * LANE_H,
    };
    let lane_rect = |l: usize| Rect {
        x: pool.x + POOL_LABEL,
        y: pool.y + l as i32 * LANE_H,
        w: pool.w - POOL_LABEL,
        h: LANE_H,
    };
    let column_x = |i: usize| pool.x + POOL_LABEL + FIRST_COLUMN + i as i32 * COLUMN;
    let unit = |code: &str| regulation.units.iter().find(|u| u.code == code);

    let lanes: Vec<Lane> = units
        .iter()
        .enumerate()
        .map(|(l, code)| {
            let bounds = lane_rect(l);
            let name = unit(code).map_or(*code, |u| text(&u.label, language));
            // Written bold: a tenth wider.
            let label = Label::new(name, &LANE_FONTS, (LANE_HEADER - 16) * 9 / 10, LANE_H - 20);
            let top = bounds.cy() - label.bounds.h / 2;
            Lane {
                unit: code,
                bounds,
                label: label.below(bounds.x + LANE_HEADER / 2, top),
            }
        })
        .collect();

    let first_lane = lane_rect(0);
    let start = Rect {
        x: first_lane.x + LANE_HEADER + 30,
        y: first_lane.cy() - EVENT / 2,
        w: EVENT,
        h: EVENT,
    };

    // Shapes.
    let mut nodes: Vec<Node> = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        let lane = lane_of[i];
        let slot = Rect {
            x: column_x(i),
            y: lane_rect(lane).y + (LANE_H - TASK_H) / 2,
            w: TASK_W,
            h: TASK_H,
        };
        let centred = |size: i32| Rect {
            x: slot.cx() - size / 2,
            y: slot.cy() - size / 2,
            w: size,
            h: size,
        };
        let (kind, bounds) = match step.kind {
            StepKind::Condition => (Kind::Condition, centred(GATEWAY)),
            StepKind::End if step.outcome == Some(super::Outcome::Refusal) => {
                (Kind::Refusal, centred(EVENT))
            }
            StepKind::End => (Kind::End, centred(EVENT)),
            _ if unit(&step.unit).map(|u| u.kind) == Some(UnitKind::System) => {
                (Kind::ServiceTask, slot)
            }
            _ => (Kind::UserTask, slot),
        };
        let timer = (step.kind == StepKind::Action && step.time_limit.is_some()).then_some(Rect {
            x: bounds.right() - 48,
            y: bounds.bottom() - 18,
            w: EVENT,
            h: EVENT,
        });
        nodes.push(Node {
            step,
            kind,
            lane,
            bounds,
            name: format!("{}. {}", step.id, text(&step.label, language)),
            label: Label::new("", &FONTS, 0, 0),
            limit: None,
            timer,
        });
    }

    // Flows, in the order of the steps: the success branch, then the failure branch.
    let index = |id: &str| steps.iter().position(|s| s.id == id);
    let mut ports = vec![Ports::default(); steps.len()];
    let mut edges: Vec<Edge> = Vec::new();
    let mut spots: Vec<Spot> = Vec::new();
    if let Some(first) = steps.first() {
        let target = nodes[0].bounds;
        edges.push(Edge {
            source: None,
            target: first,
            failure: false,
            name: None,
            waypoints: bend(start, target, column_x(0) - GAP / 2),
            label: None,
        });
        spots.push(Spot {
            left: start.right(),
            right: target.x,
            y: start.cy(),
            under: false,
        });
    }
    for (i, step) in steps.iter().enumerate() {
        let branches = [
            step.next.as_deref().map(|next| (next, None)),
            step.on_failure
                .as_ref()
                .map(|b| (b.next.as_str(), Some(text(&b.message, language)))),
        ];
        for (next, message) in branches.into_iter().flatten() {
            let Some(j) = index(next) else { continue };
            let (s, t) = (nodes[i].bounds, nodes[j].bounds);
            let (l, m) = (lane_of[i], lane_of[j]);
            // Where the flow's name goes: along a stretch of it that no other line meets.
            let mut spot = Spot {
                left: s.right(),
                right: t.x,
                y: s.cy(),
                under: false,
            };
            let waypoints = if j == i + 1 {
                // Over the first stretch, into the empty slot of the target's column, when the flow
                // turns down; over the last, from the empty slot of the source's column, when it
                // turns up.
                if t.cy() > s.cy() {
                    spot.right = column_x(j) + TASK_W;
                } else if t.cy() < s.cy() {
                    // (Right of the source's centre, if a flow already leaves its top.)
                    spot.left = if ports[i].top { s.cx() } else { column_x(i) };
                    spot.y = t.cy();
                }
                bend(s, t, column_x(j) - GAP / 2)
            } else if j > i {
                // Over the columns between: out of the top, along the top band of the higher lane; when
                // the top is taken, out of the bottom, along the bottom band of the lower lane.
                let (exit, band) = if ports[i].top {
                    ports[i].bottom = true;
                    (s.bottom(), lane_rect(l.max(m)).bottom() - GUTTER)
                } else {
                    ports[i].top = true;
                    spot.under = true;
                    (s.y, lane_rect(l.min(m)).y + GUTTER)
                };
                let gap = column_x(j) - GAP / 2;
                spot = Spot {
                    left: s.cx(),
                    right: gap,
                    y: band,
                    ..spot
                };
                vec![
                    (s.cx(), exit),
                    (s.cx(), band),
                    (gap, band),
                    (gap, t.cy()),
                    (t.x, t.cy()),
                ]
            } else {
                // Back: out of the bottom, along the bottom band of the lower lane, into the target's
                // bottom (a step back to itself leaves by its right).
                ports[i].bottom = true;
                ports[j].bottom = true;
                let band = lane_rect(l.max(m)).bottom() - GUTTER;
                spot = Spot {
                    left: t.cx(),
                    right: s.cx(),
                    y: band,
                    under: false,
                };
                let mut back = vec![
                    (s.cx(), s.bottom()),
                    (s.cx(), band),
                    (t.cx(), band),
                    (t.cx(), t.bottom()),
                ];
                if i == j {
                    let x = s.right() + GAP / 3;
                    back.splice(..2, [(s.right(), s.cy()), (x, s.cy()), (x, band)]);
                }
                back
            };
            spots.push(spot);
            edges.push(Edge {
                source: Some(step),
                target: &steps[j],
                failure: message.is_some(),
                name: message.map(str::to_owned),
                waypoints,
                label: None,
            });
        }
    }
    // Flows' names, once every line is drawn.
    let lines: Vec<Vec<Line>> = edges
        .iter()
        .map(|e| {
            e.waypoints
                .windows(2)
                .map(|w| Line {
                    from: (w[0].0.min(w[1].0), w[0].1.min(w[1].1)),
                    to: (w[0].0.max(w[1].0), w[0].1.max(w[1].1)),
                })
                .collect()
        })
        .collect();
    for (k, (edge, spot)) in edges.iter_mut().zip(&spots).enumerate() {
        let others: Vec<Line> = lines
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != k)
            .flat_map(|(_, l)| l.iter().copied())
            .collect();
        edge.label = edge
            .name
            .as_deref()
            .map(|name| edge_label(name, *spot, &others));
    }

    // Labels, where the flows left room.
    for (node, ports) in nodes.iter_mut().zip(&ports) {
        let b = node.bounds;
        let limit = node
            .step
            .time_limit
            .as_ref()
            .filter(|_| node.kind != Kind::End && node.kind != Kind::Refusal)
            .map(|term| {
                let limit = limit_text(&term.base, language);
                Label::new(&limit, &[LIMIT_FONT], LABEL_W, line_height(LIMIT_FONT))
            });
        // Under a condition or an end, down to the lane's bottom band.
        let room = lane_rect(node.lane).bottom() - GUTTER - 4 - (b.bottom() + 4);
        match node.kind {
            Kind::UserTask | Kind::ServiceTask => {
                // Inside, under the task's marker and above the limit.
                let bottom = if node.timer.is_some() {
                    b.bottom() - 18
                } else {
                    b.bottom() - 4
                };
                let top = b.y + 16;
                let label = Label::new(&node.name, &FONTS, b.w - 12, bottom - top);
                let h = label.bounds.h;
                node.label = label.below(b.cx(), top + (bottom - top - h) / 2);
                node.limit = limit.map(|limit| {
                    let right = node.timer.map_or(b.right() - 6, |t| t.x - 3);
                    let w = limit.bounds.w;
                    limit.above(right - w / 2, b.bottom() - 3)
                });
            }
            Kind::Condition => {
                // Below; right of the flow that leaves by the bottom, if one does.
                let limit_h = limit.as_ref().map_or(0, |l| l.bounds.h + 2);
                let max_w = if ports.bottom {
                    LABEL_W / 2 - 6
                } else {
                    LABEL_W
                };
                let label = Label::new(&node.name, &FONTS, max_w, room - limit_h);
                let cx = if ports.bottom {
                    b.cx() + 6 + label.bounds.w / 2
                } else {
                    b.cx()
                };
                node.label = label.below(cx, b.bottom() + 4);
                // The limit after a small clock.
                let top = node.label.bounds.bottom() + 2;
                node.limit = limit.map(|l| l.below(cx + 6, top));
            }
            Kind::End | Kind::Refusal => {
                node.label =
                    Label::new(&node.name, &FONTS, LABEL_W, room).below(b.cx(), b.bottom() + 4);
            }
        }
    }

    let pool_label = Label {
        bounds: Rect {
            x: pool.x,
            y: pool.y,
            w: POOL_LABEL,
            h: pool.h,
        },
        ..Label::new(
            &format!(
                "{} — {}",
                text(&regulation.name, language),
                text(&channel.label, language)
            ),
            &POOL_FONTS,
            pool.h - 20,
            POOL_LABEL - 2,
        )
    };

    Layout {
        title: pool_label.text.clone(),
        width: pool.w + 2 * MARGIN,
        height: pool.h + 2 * MARGIN,
        pool,
        pool_label,
        lanes,
        start,
        nodes,
        edges,
    }
}

/// From `s`'s right to `t`'s left, bending in the gap at `x` when they are not level.
fn bend(s: Rect, t: Rect, x: i32) -> Vec<(i32, i32)> {
    if s.cy() == t.cy() {
        vec![(s.right(), s.cy()), (t.x, t.cy())]
    } else {
        vec![(s.right(), s.cy()), (x, s.cy()), (x, t.cy()), (t.x, t.cy())]
    }
}

/// A horizontal stretch of a flow with room over (or `under`) it for the flow's name.
#[derive(Clone, Copy)]
struct Spot {
    left: i32,
    right: i32,
    y: i32,
    under: bool,
}

/// A straight piece of a flow, `from` its top left `to` its bottom right.
#[derive(Clone, Copy)]
struct Line {
    from: (i32, i32),
    to: (i32, i32),
}

/// A flow's name at its spot, clear of the ends of the stretch: under it down to the tops of the
/// steps, or over it up to the names under the lane's top band. Where `others` (the other flows)
/// cross the spot, in the widest part between them, preferring a part that no other flow runs along
/// (two flows into one step share the last stretch).
fn edge_label(message: &str, spot: Spot, others: &[Line]) -> Label {
    let (max_h, top) = if spot.under {
        (30, spot.y + 3)
    } else {
        (50, spot.y - 3 - 50)
    };
    let mut cuts: Vec<i32> = others
        .iter()
        .filter(|l| l.from.0 == l.to.0 && l.from.1 < top + max_h && top < l.to.1)
        .map(|l| l.from.0)
        .filter(|x| spot.left < *x && *x < spot.right)
        .collect();
    cuts.extend([spot.left, spot.right]);
    cuts.sort_unstable();
    let shared = |x: i32| {
        others
            .iter()
            .any(|l| l.from.1 == spot.y && l.to.1 == spot.y && l.from.0 < x && x < l.to.0)
    };
    let (left, right) = cuts
        .windows(2)
        .map(|w| (w[0], w[1]))
        .max_by_key(|&(l, r)| (!shared((l + r) / 2) && r - l >= GAP * 2, r - l))
        .unwrap_or((spot.left, spot.right));
    let w = (right - left - 16).max(GAP * 2);
    let cx = (left + right) / 2;
    if spot.under {
        Label::new(message, &FLOW_FONTS, w, max_h).below(cx, top)
    } else {
        Label::new(message, &FLOW_FONTS, w, max_h).above(cx, spot.y - 3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_wraps_within_the_width_and_ends_with_an_ellipsis_past_the_last_line() {
        let text =
            "Тұтынушы қосымша деректерді енгізіп, құжаттардың сканерленген көшірмелерін тіркейді";
        let (lines, fits) = wrap(text, 10, 120, 10);
        assert!(lines.len() > 2 && fits);
        assert!(lines.iter().all(|l| width(l, 10) <= 120), "{lines:?}");
        assert_eq!(lines.join(" "), text);
        let (short, fits) = wrap(text, 10, 120, 2);
        assert_eq!(short.len(), 2);
        assert!(!fits && short[1].ends_with('…'));
        assert!(short.iter().all(|l| width(l, 10) <= 120), "{short:?}");
        let (word, fits) = wrap("ЭЦҚ-ныңтүпнұсқалығынжәнетіркеукуәлігінің", 10, 60, 10);
        assert!(!fits && word.len() > 1 && word.iter().all(|l| width(l, 10) <= 60));
    }

    /// Shipped regulations with every shape of flow: over columns, up and down lanes, back.
    const REGULATIONS: [&str; 3] = [
        include_str!("../../../../regulations/archival-reference-regional.toml"),
        include_str!("../../../../regulations/appeal.toml"),
        include_str!("../../../../regulations/kkm-conclusion.toml"),
    ];

    fn overlap(a: Rect, b: Rect) -> bool {
        a.x < b.right() && b.x < a.right() && a.y < b.bottom() && b.y < a.bottom()
    }

    /// The stretches of every flow, as thin rectangles.
    fn stretches<'a>(layout: &'a Layout) -> impl Iterator<Item = (String, Rect)> + 'a {
        layout.edges.iter().flat_map(|edge| {
            edge.waypoints.windows(2).map(move |w| {
                let (x, y) = (w[0].0.min(w[1].0), w[0].1.min(w[1].1));
                let rect = Rect {
                    x,
                    y,
                    w: (w[0].0 - w[1].0).abs(),
                    h: (w[0].1 - w[1].1).abs(),
                };
                (edge.key(), rect)
            })
        })
    }

    /// The shipped regulations, and one with the flows no shipped file has yet: a condition that
    /// sends back (a retry), one whose both branches jump over columns, a step that repeats itself.
    fn every_layout(check: impl Fn(&str, &Layout)) {
        let mut regulations: Vec<Regulation> = REGULATIONS
            .iter()
            .map(|text| crate::regulation::check("f", text).unwrap())
            .collect();
        let mut odd = regulations[0].clone();
        odd.code = "odd".into();
        let portal = &mut odd.channels[0];
        let retry = portal.steps.iter().position(|s| s.id == "C1").unwrap();
        portal.steps[retry].on_failure.as_mut().unwrap().next = "P5".into();
        let both = portal.steps.iter().position(|s| s.id == "P1").unwrap();
        portal.steps[both].on_failure.as_mut().unwrap().next = "P4".into();
        let itself = portal.steps.iter().position(|s| s.id == "P10").unwrap();
        portal.steps[itself].next = Some("P10".into());
        regulations.push(odd);
        for r in &regulations {
            for channel in &r.channels {
                for language in ["kk", "ru", "en"] {
                    let layout = layout(r, channel, language);
                    check(&format!("{} {} {language}", r.code, channel.code), &layout);
                }
            }
        }
    }

    #[test]
    fn no_flow_runs_through_a_step_and_every_flow_is_orthogonal() {
        every_layout(|at, layout| {
            let mut shapes = vec![("start".to_owned(), layout.start)];
            for node in &layout.nodes {
                shapes.push((node.step.id.clone(), node.bounds));
                if let Some(timer) = node.timer {
                    shapes.push((format!("timer of {}", node.step.id), timer));
                }
            }
            for (edge, stretch) in stretches(layout) {
                assert!(
                    stretch.w == 0 || stretch.h == 0,
                    "{at}: {edge} is not orthogonal"
                );
                // A line is as thin as nothing: widen it by one pixel each way but along its ends.
                let line = if stretch.w == 0 {
                    Rect {
                        x: stretch.x - 1,
                        w: 2,
                        ..stretch
                    }
                } else {
                    Rect {
                        y: stretch.y - 1,
                        h: 2,
                        ..stretch
                    }
                };
                for (name, shape) in &shapes {
                    assert!(
                        !overlap(line, *shape),
                        "{at}: flow {edge} runs through {name}"
                    );
                }
            }
        });
    }

    #[test]
    fn labels_overlap_no_shape_no_flow_and_no_other_label() {
        every_layout(|at, layout| {
            let mut shapes = vec![("start".to_owned(), layout.start)];
            let mut labels: Vec<(String, Rect)> = Vec::new();
            for node in &layout.nodes {
                shapes.push((node.step.id.clone(), node.bounds));
                if let Some(timer) = node.timer {
                    shapes.push((format!("timer of {}", node.step.id), timer));
                }
                let inside = matches!(node.kind, Kind::UserTask | Kind::ServiceTask);
                if inside {
                    for label in std::iter::once(&node.label).chain(&node.limit) {
                        let b = node.bounds;
                        assert!(
                            label.bounds.x >= b.x
                                && label.bounds.right() <= b.right()
                                && label.bounds.y >= b.y
                                && label.bounds.bottom() <= b.bottom(),
                            "{at}: {}'s label leaves its box",
                            node.step.id
                        );
                    }
                } else {
                    labels.push((format!("label of {}", node.step.id), node.label.bounds));
                    if let Some(limit) = &node.limit {
                        labels.push((format!("limit of {}", node.step.id), limit.bounds));
                    }
                }
            }
            for edge in &layout.edges {
                if let Some(label) = &edge.label {
                    labels.push((format!("label of {}", edge.key()), label.bounds));
                }
            }
            for lane in &layout.lanes {
                labels.push((format!("lane {}", lane.unit), lane.label.bounds));
            }
            for (i, (name, label)) in labels.iter().enumerate() {
                for (other, shape) in shapes.iter().chain(&labels[i + 1..]) {
                    assert!(!overlap(*label, *shape), "{at}: {name} overlaps {other}");
                }
                for (edge, stretch) in stretches(layout) {
                    assert!(
                        !overlap(*label, stretch),
                        "{at}: {name} lies on flow {edge}"
                    );
                }
            }
        });
    }

    #[test]
    fn a_label_takes_a_smaller_font_before_it_is_shortened() {
        let text = "Отказ в услуге в связи с неподтверждением подлинности ЭЦП потребителя";
        let roomy = Label::new(text, &[10, 9], 150, 60);
        assert_eq!((roomy.font, roomy.lines.join(" ")), (10, text.to_owned()));
        let tight = Label::new(text, &[10, 9], 150, 30);
        assert_eq!(tight.font, 9);
        let cramped = Label::new(text, &[10, 9], 150, 10);
        assert_eq!(cramped.lines.len(), 1);
        assert!(cramped.lines[0].ends_with('…'));
        assert!(cramped.bounds.w <= 150 && cramped.bounds.h == line_height(9));
    }
}
