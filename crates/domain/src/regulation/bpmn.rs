//! BPMN 2.0 XML of one channel of a regulation (issue 4; seed 004 annex 4 draws its diagrams in BPMN):
//! a lane per unit, a task per action (user task for people, service task for systems), an exclusive
//! gateway per condition with its failure flow named by the message, an end event per end, and a
//! non-interrupting timer boundary event for each action's time limit, with diagram interchange
//! coordinates so that bpmn-js draws it. The coordinates are [`super::layout`]'s, which the SVG of the
//! service's page draws too.
//!
//! Written by hand rather than through an XML model crate: the document is a fixed shape, and the one
//! thing a writer must get right, escaping, is quick-xml's.

use std::fmt::Write;

use quick_xml::escape::escape;

use super::layout::{self, Kind, Label, Rect};
use super::{Channel, Regulation, Step, TimeUnit};

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

fn bounds(r: Rect) -> String {
    format!(
        "<dc:Bounds x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" />",
        r.x, r.y, r.w, r.h
    )
}

/// The diagram-interchange position of an external label.
fn label_di(label: Option<&Label>) -> String {
    label
        .filter(|l| !l.lines.is_empty())
        .map(|l| {
            format!(
                "        <bpmndi:BPMNLabel>\n          {}\n        </bpmndi:BPMNLabel>\n",
                bounds(l.bounds)
            )
        })
        .unwrap_or_default()
}

/// The BPMN 2.0 XML of `channel` in `regulation`, labels in `language` (`kk`, `ru` or `en`).
pub fn bpmn(regulation: &Regulation, channel: &Channel, language: &str) -> String {
    let layout = layout::layout(regulation, channel, language);
    let e = |text: &str| escape(text).into_owned();
    // Sequence flows: (id, source, target, name).
    let flows: Vec<(String, String, String, Option<String>)> = layout
        .edges
        .iter()
        .map(|edge| {
            (
                format!("Flow_{}", edge.key()),
                edge.source.map_or_else(|| "Start".to_owned(), id),
                id(edge.target),
                edge.name.as_deref().map(e),
            )
        })
        .collect();

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
    <bpmn:participant id="Participant_{process}" name="{name}" processRef="{process}" />
  </bpmn:collaboration>
  <bpmn:process id="{process}" isExecutable="false">
    <bpmn:laneSet id="LaneSet_{process}">
"#,
        code = e(&regulation.code),
        version = env!("CARGO_PKG_VERSION"),
        name = e(&layout.title),
    );
    for (l, lane) in layout.lanes.iter().enumerate() {
        let _ = writeln!(
            xml,
            r#"      <bpmn:lane id="Lane_{l}" name="{}">"#,
            e(&lane.label.text)
        );
        if l == 0 {
            let _ = writeln!(xml, "        <bpmn:flowNodeRef>Start</bpmn:flowNodeRef>");
        }
        for node in layout.nodes.iter().filter(|n| n.lane == l) {
            let _ = writeln!(
                xml,
                "        <bpmn:flowNodeRef>{}</bpmn:flowNodeRef>",
                id(node.step)
            );
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
    for node in &layout.nodes {
        let element = match node.kind {
            Kind::Condition => "exclusiveGateway",
            Kind::End | Kind::Refusal => "endEvent",
            Kind::ServiceTask => "serviceTask",
            Kind::UserTask => "userTask",
        };
        let _ = write!(
            xml,
            "    <bpmn:{element} id=\"{}\" name=\"{}\">\n{}    </bpmn:{element}>\n",
            id(node.step),
            e(&node.name),
            flow_refs(&id(node.step))
        );
    }
    for node in layout.nodes.iter().filter(|n| n.timer.is_some()) {
        if let Some(limit) = &node.step.time_limit {
            let _ = write!(
                xml,
                "    <bpmn:boundaryEvent id=\"Timer_{0}\" name=\"{1}\" attachedToRef=\"{2}\" cancelActivity=\"false\">\n      <bpmn:timerEventDefinition id=\"TimerDefinition_{0}\">\n        <bpmn:timeDuration>{3}</bpmn:timeDuration>\n      </bpmn:timerEventDefinition>\n    </bpmn:boundaryEvent>\n",
                node.step.id,
                e(&layout::limit_text(&limit.base, language)),
                id(node.step),
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
    let _ = write!(
        xml,
        "  <bpmndi:BPMNDiagram id=\"Diagram_{process}\">\n    <bpmndi:BPMNPlane id=\"Plane_{process}\" bpmnElement=\"Collaboration_{process}\">\n      <bpmndi:BPMNShape id=\"Participant_{process}_di\" bpmnElement=\"Participant_{process}\" isHorizontal=\"true\">\n        {}\n      </bpmndi:BPMNShape>\n",
        bounds(layout.pool)
    );
    for (l, lane) in layout.lanes.iter().enumerate() {
        let _ = write!(
            xml,
            "      <bpmndi:BPMNShape id=\"Lane_{l}_di\" bpmnElement=\"Lane_{l}\" isHorizontal=\"true\">\n        {}\n      </bpmndi:BPMNShape>\n",
            bounds(lane.bounds)
        );
    }
    let _ = write!(
        xml,
        "      <bpmndi:BPMNShape id=\"Start_di\" bpmnElement=\"Start\">\n        {}\n      </bpmndi:BPMNShape>\n",
        bounds(layout.start)
    );
    for node in &layout.nodes {
        let (marker, label) = match node.kind {
            Kind::Condition => (" isMarkerVisible=\"true\"", label_di(Some(&node.label))),
            Kind::End | Kind::Refusal => ("", label_di(Some(&node.label))),
            Kind::UserTask | Kind::ServiceTask => ("", String::new()),
        };
        let _ = write!(
            xml,
            "      <bpmndi:BPMNShape id=\"{0}_di\" bpmnElement=\"{0}\"{marker}>\n        {1}\n{label}      </bpmndi:BPMNShape>\n",
            id(node.step),
            bounds(node.bounds)
        );
        if let Some(timer) = node.timer {
            let _ = write!(
                xml,
                "      <bpmndi:BPMNShape id=\"Timer_{0}_di\" bpmnElement=\"Timer_{0}\">\n        {1}\n      </bpmndi:BPMNShape>\n",
                node.step.id,
                bounds(timer)
            );
        }
    }
    for ((flow, _, _, _), edge) in flows.iter().zip(&layout.edges) {
        let _ = writeln!(
            xml,
            "      <bpmndi:BPMNEdge id=\"{flow}_di\" bpmnElement=\"{flow}\">"
        );
        for (x, y) in &edge.waypoints {
            let _ = writeln!(xml, "        <di:waypoint x=\"{x}\" y=\"{y}\" />");
        }
        let _ = writeln!(
            xml,
            "{}      </bpmndi:BPMNEdge>",
            label_di(edge.label.as_ref())
        );
    }
    let _ = write!(
        xml,
        "    </bpmndi:BPMNPlane>\n  </bpmndi:BPMNDiagram>\n</bpmn:definitions>\n"
    );
    xml
}
