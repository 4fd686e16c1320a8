//! BPMN 2.0 XML of one channel of a regulation (issue 4; seed 004 annex 4 draws its diagrams in BPMN):
//! a lane per unit, a task per action (user task for people, service task for systems), an exclusive
//! gateway per condition with its failure flow named by the message, an end event per end, and a
//! non-interrupting timer boundary event for each action's time limit, with diagram interchange
//! coordinates so that bpmn-js draws it.
//!
//! Written by hand rather than through an XML model crate: the document is a fixed shape, and the one
//! thing a writer must get right, escaping, is quick-xml's.

use std::fmt::Write;

use quick_xml::escape::escape;

use super::{Channel, Regulation, Step, TimeUnit, UnitKind};

const TASK_W: i32 = 120;
const TASK_H: i32 = 80;
const COLUMN: i32 = 170;
const LANE_H: i32 = 140;
const LANE_LABEL: i32 = 30;
const POOL_X: i32 = 40;

/// ISO 8601 duration of a limit, for the timer definition (working time is not expressible in BPMN:
/// the engine counts it on the legal calendar; the diagram shows the nominal length).
fn duration(amount: u32, unit: TimeUnit) -> String {
    match unit {
        TimeUnit::Seconds => format!("PT{amount}S"),
        TimeUnit::Minutes | TimeUnit::WorkingMinutes => format!("PT{amount}M"),
        TimeUnit::Hours => format!("PT{amount}H"),
        TimeUnit::CalendarDays | TimeUnit::WorkingDays => format!("P{amount}D"),
        TimeUnit::Months => format!("P{amount}M"),
    }
}

fn id(step: &Step) -> String {
    format!("Step_{}", step.id)
}

/// The BPMN 2.0 XML of `channel` in `regulation`, labels in `language` (`kk`, `ru` or `en`).
pub fn bpmn(regulation: &Regulation, channel: &Channel, language: &str) -> String {
    let label = |text: &super::Text| -> String {
        let chosen = match language {
            "ru" => &text.ru,
            "en" => text.en.as_ref().unwrap_or(&text.ru),
            _ => &text.kk,
        };
        escape(chosen.as_str()).into_owned()
    };
    // Lanes in the order units first act in the channel.
    let mut lanes: Vec<&str> = Vec::new();
    for step in &channel.steps {
        let unit = if step.kind == "end" {
            lanes.last().copied().unwrap_or(step.unit.as_str())
        } else {
            step.unit.as_str()
        };
        if !lanes.contains(&unit) {
            lanes.push(unit);
        }
    }
    let lane_of = |step: &Step, previous: Option<usize>| -> usize {
        if step.kind == "end" && step.unit.is_empty() {
            previous.unwrap_or(0)
        } else {
            lanes.iter().position(|l| *l == step.unit).unwrap_or(0)
        }
    };
    let mut positions = Vec::new();
    let mut previous = None;
    for (i, step) in channel.steps.iter().enumerate() {
        let lane = lane_of(step, previous);
        previous = Some(lane);
        let x = POOL_X + LANE_LABEL + 120 + i as i32 * COLUMN;
        let y = 40 + lane as i32 * LANE_H + (LANE_H - TASK_H) / 2;
        positions.push((x, y, lane));
    }
    let unit_label = |code: &str| {
        regulation
            .units
            .iter()
            .find(|u| u.code == code)
            .map(|u| label(&u.label))
            .unwrap_or_else(|| escape(code).into_owned())
    };
    let unit_kind = |code: &str| {
        regulation
            .units
            .iter()
            .find(|u| u.code == code)
            .map(|u| u.kind)
    };
    let index = |target: &str| channel.steps.iter().position(|s| s.id == target);

    // Sequence flows: (id, source, target, name).
    let mut flows: Vec<(String, String, String, Option<String>)> = Vec::new();
    if let Some(first) = channel.steps.first() {
        flows.push(("Flow_start".into(), "Start".into(), id(first), None));
    }
    for step in &channel.steps {
        if let Some(next) = &step.next
            && index(next).is_some()
        {
            flows.push((
                format!("Flow_{}_{}", step.id, next),
                id(step),
                format!("Step_{next}"),
                None,
            ));
        }
        if let Some(branch) = &step.on_failure
            && index(&branch.next).is_some()
        {
            flows.push((
                format!("Flow_{}_{}_failure", step.id, branch.next),
                id(step),
                format!("Step_{}", branch.next),
                Some(label(&branch.message)),
            ));
        }
    }

    let mut xml = String::new();
    let process = format!(
        "Process_{}_{}",
        regulation.code.replace('-', "_"),
        channel.code
    );
    let _ = write!(
        xml,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="Definitions_{process}" targetNamespace="https://qyzmet.kz/regulations/{code}" exporter="qyzmet" exporterVersion="{version}">
  <bpmn:collaboration id="Collaboration_{process}">
    <bpmn:participant id="Participant_{process}" name="{name} — {channel}" processRef="{process}" />
  </bpmn:collaboration>
  <bpmn:process id="{process}" isExecutable="false">
    <bpmn:laneSet id="LaneSet_{process}">
"#,
        code = escape(regulation.code.as_str()),
        version = env!("CARGO_PKG_VERSION"),
        name = label(&regulation.name),
        channel = label(&channel.label),
    );
    for (l, unit) in lanes.iter().enumerate() {
        let _ = writeln!(
            xml,
            r#"      <bpmn:lane id="Lane_{l}" name="{}">"#,
            unit_label(unit)
        );
        if l == 0 {
            let _ = writeln!(xml, "        <bpmn:flowNodeRef>Start</bpmn:flowNodeRef>");
        }
        for (step, (_, _, lane)) in channel.steps.iter().zip(&positions) {
            if *lane == l {
                let _ = writeln!(
                    xml,
                    "        <bpmn:flowNodeRef>{}</bpmn:flowNodeRef>",
                    id(step)
                );
            }
        }
        let _ = writeln!(xml, "      </bpmn:lane>");
    }
    let _ = writeln!(xml, "    </bpmn:laneSet>");
    let flow_refs = |node: &str| -> String {
        let mut refs = String::new();
        for (flow, _, target, _) in &flows {
            if target == node {
                let _ = writeln!(refs, "      <bpmn:incoming>{flow}</bpmn:incoming>");
            }
        }
        for (flow, source, _, _) in &flows {
            if source == node {
                let _ = writeln!(refs, "      <bpmn:outgoing>{flow}</bpmn:outgoing>");
            }
        }
        refs
    };
    let _ = write!(
        xml,
        "    <bpmn:startEvent id=\"Start\">\n{}    </bpmn:startEvent>\n",
        flow_refs("Start")
    );
    for step in &channel.steps {
        let element = match step.kind.as_str() {
            "condition" => "exclusiveGateway",
            "end" => "endEvent",
            _ if unit_kind(&step.unit) == Some(UnitKind::System) => "serviceTask",
            _ => "userTask",
        };
        let _ = write!(
            xml,
            "    <bpmn:{element} id=\"{}\" name=\"{}. {}\">\n{}    </bpmn:{element}>\n",
            id(step),
            escape(step.id.as_str()),
            label(&step.label),
            flow_refs(&id(step))
        );
    }
    for step in channel.steps.iter().filter(|s| s.kind == "action") {
        if let Some(limit) = &step.time_limit {
            let _ = write!(
                xml,
                "    <bpmn:boundaryEvent id=\"Timer_{0}\" name=\"{1}\" attachedToRef=\"{2}\" cancelActivity=\"false\">\n      <bpmn:timerEventDefinition id=\"TimerDefinition_{0}\">\n        <bpmn:timeDuration>{3}</bpmn:timeDuration>\n      </bpmn:timerEventDefinition>\n    </bpmn:boundaryEvent>\n",
                step.id,
                duration(limit.base.amount, limit.base.unit),
                id(step),
                duration(limit.base.amount, limit.base.unit),
            );
        }
    }
    for (flow, source, target, name) in &flows {
        let name = name
            .as_ref()
            .map(|n| format!(" name=\"{n}\""))
            .unwrap_or_default();
        let _ = writeln!(
            xml,
            "    <bpmn:sequenceFlow id=\"{flow}\"{name} sourceRef=\"{source}\" targetRef=\"{target}\" />"
        );
    }
    let _ = writeln!(xml, "  </bpmn:process>");

    // Diagram interchange.
    let width = LANE_LABEL + 120 + channel.steps.len() as i32 * COLUMN + 40;
    let height = lanes.len().max(1) as i32 * LANE_H;
    let _ = write!(
        xml,
        "  <bpmndi:BPMNDiagram id=\"Diagram_{process}\">\n    <bpmndi:BPMNPlane id=\"Plane_{process}\" bpmnElement=\"Collaboration_{process}\">\n      <bpmndi:BPMNShape id=\"Participant_{process}_di\" bpmnElement=\"Participant_{process}\" isHorizontal=\"true\">\n        <dc:Bounds x=\"{POOL_X}\" y=\"40\" width=\"{width}\" height=\"{height}\" />\n      </bpmndi:BPMNShape>\n"
    );
    for l in 0..lanes.len() {
        let _ = write!(
            xml,
            "      <bpmndi:BPMNShape id=\"Lane_{l}_di\" bpmnElement=\"Lane_{l}\" isHorizontal=\"true\">\n        <dc:Bounds x=\"{}\" y=\"{}\" width=\"{}\" height=\"{LANE_H}\" />\n      </bpmndi:BPMNShape>\n",
            POOL_X + LANE_LABEL,
            40 + l as i32 * LANE_H,
            width - LANE_LABEL
        );
    }
    let bounds = |step: &Step, (x, y): (i32, i32)| -> (i32, i32, i32, i32) {
        match step.kind.as_str() {
            "condition" => (x + 35, y + 15, 50, 50),
            "end" => (x + 42, y + 22, 36, 36),
            _ => (x, y, TASK_W, TASK_H),
        }
    };
    let start = (POOL_X + LANE_LABEL + 40, 40 + (LANE_H - 36) / 2, 36, 36);
    let _ = write!(
        xml,
        "      <bpmndi:BPMNShape id=\"Start_di\" bpmnElement=\"Start\">\n        <dc:Bounds x=\"{}\" y=\"{}\" width=\"36\" height=\"36\" />\n      </bpmndi:BPMNShape>\n",
        start.0, start.1
    );
    let mut boxes = std::collections::HashMap::new();
    boxes.insert("Start".to_owned(), start);
    for (step, (x, y, _)) in channel.steps.iter().zip(&positions) {
        let (bx, by, bw, bh) = bounds(step, (*x, *y));
        boxes.insert(id(step), (bx, by, bw, bh));
        let marker = if step.kind == "condition" {
            " isMarkerVisible=\"true\""
        } else {
            ""
        };
        let _ = write!(
            xml,
            "      <bpmndi:BPMNShape id=\"{0}_di\" bpmnElement=\"{0}\"{marker}>\n        <dc:Bounds x=\"{bx}\" y=\"{by}\" width=\"{bw}\" height=\"{bh}\" />\n      </bpmndi:BPMNShape>\n",
            id(step)
        );
        if step.kind == "action" && step.time_limit.is_some() {
            let _ = write!(
                xml,
                "      <bpmndi:BPMNShape id=\"Timer_{0}_di\" bpmnElement=\"Timer_{0}\">\n        <dc:Bounds x=\"{1}\" y=\"{2}\" width=\"36\" height=\"36\" />\n      </bpmndi:BPMNShape>\n",
                step.id,
                bx + bw - 48,
                by + bh - 18
            );
        }
    }
    for (flow, source, target, _) in &flows {
        let (Some(&(sx, sy, sw, sh)), Some(&(tx, ty, _, th))) =
            (boxes.get(source), boxes.get(target))
        else {
            continue;
        };
        let (x1, y1) = (sx + sw, sy + sh / 2);
        let (x2, y2) = (tx, ty + th / 2);
        let middle = if x2 > x1 { (x1 + x2) / 2 } else { x1 + 20 };
        let _ = write!(
            xml,
            "      <bpmndi:BPMNEdge id=\"{flow}_di\" bpmnElement=\"{flow}\">\n        <di:waypoint x=\"{x1}\" y=\"{y1}\" />\n        <di:waypoint x=\"{middle}\" y=\"{y1}\" />\n        <di:waypoint x=\"{middle}\" y=\"{y2}\" />\n        <di:waypoint x=\"{x2}\" y=\"{y2}\" />\n      </bpmndi:BPMNEdge>\n"
        );
    }
    let _ = write!(
        xml,
        "    </bpmndi:BPMNPlane>\n  </bpmndi:BPMNDiagram>\n</bpmn:definitions>\n"
    );
    xml
}
