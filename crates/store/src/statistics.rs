//! Statistics for a state body's back office, counted by the database from `workflow_instance`:
//! the appeals report in the manner of form 1-OL and the timeliness of every service per body.
//! One `GROUP BY` query each, the same SQL on SQLite and PostgreSQL; nothing is written.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store};

#[cfg(doc)]
use qyzmet_domain::regulation::StatisticalReport;

/// A reporting period of epoch milliseconds, half-open: `from_ms <= t < to_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from_ms: i64,
    pub to_ms: i64,
}

/// The counts of one body's appeals in a period (see [`Store::appeal_report`] for what each
/// counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppealCounts {
    /// Appeals the body received: delivered to its ESEDO (000 §10.1), started in the period.
    pub received: i64,
    pub from_individuals: i64,
    pub from_legal_entities: i64,
    /// Refused registration (000 §10.2) by the end of the period.
    pub registration_refused: i64,
    /// Registered (000 §10.3): the last status reached is registration or one after it.
    pub registered: i64,
    /// Sent to another body by competence (000 §10.5, §9.4) by the end of the period.
    pub redirected: i64,
    /// Answered (000 §9.5, §10.5) by the end of the period.
    pub answered: i64,
    /// Not closed at the end of the period.
    pub in_progress: i64,
    /// Answered by the end of the period, on or before the term (with its extensions).
    pub answered_in_term: i64,
    /// Answered by the end of the period, after the term.
    pub answered_late: i64,
    /// Not closed at the end of the period although the term ended before it.
    pub overdue_open: i64,
    /// The term was extended at least once (000 §13.2, by the law on appeals).
    pub extended: i64,
}

impl AppealCounts {
    /// Every count, in the order of [`AppealCounts::FIELDS`].
    pub fn values(&self) -> [i64; 12] {
        [
            self.received,
            self.from_individuals,
            self.from_legal_entities,
            self.registration_refused,
            self.registered,
            self.redirected,
            self.answered,
            self.in_progress,
            self.answered_in_term,
            self.answered_late,
            self.overdue_open,
            self.extended,
        ]
    }

    /// The names of the counts, in the order of [`AppealCounts::values`] (stable keys for
    /// headings and exports).
    pub const FIELDS: [&'static str; 12] = [
        "received",
        "from_individuals",
        "from_legal_entities",
        "registration_refused",
        "registered",
        "redirected",
        "answered",
        "in_progress",
        "answered_in_term",
        "answered_late",
        "overdue_open",
        "extended",
    ];

    fn add(&mut self, other: &AppealCounts) {
        self.received += other.received;
        self.from_individuals += other.from_individuals;
        self.from_legal_entities += other.from_legal_entities;
        self.registration_refused += other.registration_refused;
        self.registered += other.registered;
        self.redirected += other.redirected;
        self.answered += other.answered;
        self.in_progress += other.in_progress;
        self.answered_in_term += other.answered_in_term;
        self.answered_late += other.answered_late;
        self.overdue_open += other.overdue_open;
        self.extended += other.extended;
    }
}

/// One body's line of the appeals report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealRow {
    /// The organisation's directory code.
    pub provider: String,
    pub counts: AppealCounts,
}

/// The appeals report of a period: one row per body that received appeals, by directory code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealReport {
    pub period: Period,
    pub rows: Vec<AppealRow>,
}

impl AppealReport {
    /// The sum of every row.
    pub fn total(&self) -> AppealCounts {
        let mut total = AppealCounts::default();
        for row in &self.rows {
            total.add(&row.counts);
        }
        total
    }
}

/// Timeliness of one service at one body in a period (see [`Store::timeliness`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TimelinessRow {
    /// The organisation's directory code.
    pub provider: String,
    /// The service (regulation) code.
    pub regulation: String,
    /// Applications closed (with a result or a refusal) in the period.
    pub finished: i64,
    /// Of those, closed on or before their term.
    pub finished_in_term: i64,
    /// Of those, closed after their term.
    pub finished_late: i64,
    /// Applications started before the end of the period and not closed at its end.
    pub open: i64,
    /// Of those, the ones whose term ended before the end of the period.
    pub open_overdue: i64,
    /// `finished_in_term / finished`, from 0 to 1; `None` when nothing finished.
    pub share_in_term: Option<f64>,
}

/// The statuses at or after registration, of those the appeals report counts by
/// ([`StatisticalReport::statuses`]: a regulation counted in the report has each of them).
const REGISTERED_OR_LATER: [&str; 4] = ["registered", "sent_for_execution", REDIRECTED, ANSWERED];
/// Registration refused (000 §10.2).
const REFUSED: &str = "registration_refused";
/// Sent to the competent body (000 §10.5).
const REDIRECTED: &str = "redirected";
/// Answered (000 §9.5).
const ANSWERED: &str = "answered";

/// `$first, $first+1, …` for `count` parameters.
fn parameters(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `AND provider = $n` when the report is for one organisation.
fn organisation_clause(organisation: Option<&str>, parameter: usize) -> String {
    match organisation {
        Some(_) => format!(" AND provider = ${parameter}"),
        None => String::new(),
    }
}

fn count(row: &AnyRow, column: &str) -> Result<i64, sqlx::Error> {
    row.try_get(column)
}

impl Store {
    /// The appeals report of `period` for one organisation or (`None`) every one, in the manner of
    /// statistical form No. 1-OL "On consideration of appeals of individuals and legal entities",
    /// over the applications of `regulations`: the services whose regulation declares the report
    /// (`reports = ["appeals"]`; none, and the report is empty).
    ///
    /// Decision (000 §13.3, and its requirement 10: "the form's columns are not in this seed"):
    /// the seed names form 1-OL (order of the Prosecutor General of 30.05.2007 No. 20) but not its
    /// columns, so we derive only what the appeal records themselves establish, each from
    /// `regulations/appeal.toml`'s statuses (000 §10) and the instance's term:
    ///
    /// - *received*, split *from individuals* and *from legal entities* (the Annex 1 and Annex 2
    ///   cards): appeals delivered to the body's ESEDO (a status was reached; an appeal stopped
    ///   on the portal for want of an EDS, 000 §18.1, never reached the body) whose start falls in
    ///   the period (delivery follows the start within minutes; its own time is not stored);
    /// - how they were disposed of by the end of the period (closed before `to_ms`):
    ///   *registration refused* (000 §10.2, §13.4), *redirected by competence* (§10.5, §15.2),
    ///   *answered* (§9.5); the rest are *in progress at period end*, so
    ///   received = refused + redirected + answered + in progress;
    /// - *registered* (§10.3): appeals whose last status is registration or later. Only the last
    ///   status is stored, so this is as of the report's time, not the period's end;
    /// - timeliness against the term of the law on appeals (000 §13.1–§13.2): *answered within
    ///   term* (`closed_ms <= due_ms`), *answered late*, *overdue open* (open at the period's end
    ///   with the term ended before it) and *extended* (at least one extension taken).
    ///
    /// The breakdowns 1-OL is known to have beyond these (subject of the appeal, the applicant's
    /// social category, region, outcome "satisfied/explained/rejected") are not recorded by the
    /// appeal card (000 Annexes 1–2) or its statuses, so they are not invented here.
    pub async fn appeal_report(
        &self,
        regulations: &[String],
        organisation: Option<&str>,
        period: Period,
    ) -> Result<AppealReport> {
        if regulations.is_empty() {
            return Ok(AppealReport {
                period,
                rows: Vec::new(),
            });
        }
        let closed_by_end = "closed_ms IS NOT NULL AND closed_ms < $2";
        let open_at_end = "(closed_ms IS NULL OR closed_ms >= $2)";
        let sum = |condition: &str, column: &str| {
            format!("CAST(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS BIGINT) AS {column}")
        };
        let columns = [
            "CAST(COUNT(*) AS BIGINT) AS received".to_owned(),
            sum("recipient = 'individual'", "from_individuals"),
            sum("recipient = 'legal_entity'", "from_legal_entities"),
            sum(
                &format!("status = '{REFUSED}' AND {closed_by_end}"),
                "registration_refused",
            ),
            sum(
                &format!("status IN ('{}')", REGISTERED_OR_LATER.join("', '")),
                "registered",
            ),
            sum(
                &format!("status = '{REDIRECTED}' AND {closed_by_end}"),
                "redirected",
            ),
            sum(
                &format!("status = '{ANSWERED}' AND {closed_by_end}"),
                "answered",
            ),
            sum(open_at_end, "in_progress"),
            sum(
                &format!("status = '{ANSWERED}' AND {closed_by_end} AND closed_ms <= due_ms"),
                "answered_in_term",
            ),
            sum(
                &format!("status = '{ANSWERED}' AND {closed_by_end} AND closed_ms > due_ms"),
                "answered_late",
            ),
            sum(&format!("{open_at_end} AND due_ms < $2"), "overdue_open"),
            sum("extensions > 0", "extended"),
        ];
        let first_code = if organisation.is_some() { 4 } else { 3 };
        let sql = format!(
            "SELECT provider, {} FROM workflow_instance \
             WHERE regulation IN ({}) AND status IS NOT NULL \
               AND started_ms >= $1 AND started_ms < $2{} \
             GROUP BY provider ORDER BY provider",
            columns.join(", "),
            parameters(first_code, regulations.len()),
            organisation_clause(organisation, 3),
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(period.from_ms)
            .bind(period.to_ms);
        if let Some(organisation) = organisation {
            query = query.bind(organisation);
        }
        for regulation in regulations {
            query = query.bind(regulation.as_str());
        }
        let mut rows = Vec::new();
        for row in query.fetch_all(&self.pool).await? {
            rows.push(AppealRow {
                provider: row.try_get("provider")?,
                counts: AppealCounts {
                    received: count(&row, "received")?,
                    from_individuals: count(&row, "from_individuals")?,
                    from_legal_entities: count(&row, "from_legal_entities")?,
                    registration_refused: count(&row, "registration_refused")?,
                    registered: count(&row, "registered")?,
                    redirected: count(&row, "redirected")?,
                    answered: count(&row, "answered")?,
                    in_progress: count(&row, "in_progress")?,
                    answered_in_term: count(&row, "answered_in_term")?,
                    answered_late: count(&row, "answered_late")?,
                    overdue_open: count(&row, "overdue_open")?,
                    extended: count(&row, "extended")?,
                },
            });
        }
        Ok(AppealReport { period, rows })
    }

    /// Timeliness of every service per body in `period`, for one organisation or (`None`) every
    /// one, ordered by body and service. An application counts as *finished* in the period it was
    /// closed in (with a result or a refusal: both are the service's answer), *in term* when it
    /// closed on or before its term with the extensions taken (`closed_ms <= due_ms`); as *open*
    /// when it started before the period's end and was not closed by then, *overdue* when its term
    /// ended before the period's end. A body and service with nothing finished or open in the
    /// period has no row.
    pub async fn timeliness(
        &self,
        organisation: Option<&str>,
        period: Period,
    ) -> Result<Vec<TimelinessRow>> {
        let finished = "closed_ms IS NOT NULL AND closed_ms >= $1 AND closed_ms < $2";
        let open = "started_ms < $2 AND (closed_ms IS NULL OR closed_ms >= $2)";
        let sum = |condition: &str, column: &str| {
            format!("CAST(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS BIGINT) AS {column}")
        };
        let sql = format!(
            "SELECT provider, regulation, {}, {}, {}, {}, {} FROM workflow_instance \
             WHERE (({finished}) OR ({open})){} \
             GROUP BY provider, regulation ORDER BY provider, regulation",
            sum(finished, "finished"),
            sum(
                &format!("{finished} AND closed_ms <= due_ms"),
                "finished_in_term"
            ),
            sum(
                &format!("{finished} AND closed_ms > due_ms"),
                "finished_late"
            ),
            sum(open, "open"),
            sum(&format!("{open} AND due_ms < $2"), "open_overdue"),
            organisation_clause(organisation, 3),
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(period.from_ms)
            .bind(period.to_ms);
        if let Some(organisation) = organisation {
            query = query.bind(organisation);
        }
        let mut rows = Vec::new();
        for row in query.fetch_all(&self.pool).await? {
            let finished = count(&row, "finished")?;
            let finished_in_term = count(&row, "finished_in_term")?;
            rows.push(TimelinessRow {
                provider: row.try_get("provider")?,
                regulation: row.try_get("regulation")?,
                finished,
                finished_in_term,
                finished_late: count(&row, "finished_late")?,
                open: count(&row, "open")?,
                open_overdue: count(&row, "open_overdue")?,
                share_in_term: (finished > 0).then(|| finished_in_term as f64 / finished as f64),
            });
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::{InstanceRow, insert_instance, put_regulation};

    const DAY: i64 = 86_400_000;
    /// 1 January 2026, 00:00 UTC.
    const T0: i64 = 1_767_225_600_000;
    const PERIOD: Period = Period {
        from_ms: T0,
        to_ms: T0 + 30 * DAY,
    };

    /// What a test says about an instance; the rest is filler.
    struct Case {
        regulation: &'static str,
        provider: &'static str,
        recipient: &'static str,
        status: Option<&'static str>,
        outcome: Option<&'static str>,
        started: i64,
        due: i64,
        extensions: i32,
        closed: Option<i64>,
    }

    fn appeal(provider: &'static str, status: Option<&'static str>) -> Case {
        Case {
            regulation: "appeal",
            provider,
            recipient: "individual",
            status,
            outcome: None,
            started: T0 + DAY,
            due: T0 + 16 * DAY,
            extensions: 0,
            closed: None,
        }
    }

    async fn insert(store: &Store, cases: Vec<Case>) {
        let mut tx = store.begin_write().await.expect("begin");
        for regulation in ["appeal", "archive-certificate"] {
            put_regulation(&mut tx, regulation, regulation, "code = \"x\"")
                .await
                .expect("regulation");
        }
        for (i, case) in cases.into_iter().enumerate() {
            let row = InstanceRow {
                id: format!("i{i}"),
                regulation: case.regulation.into(),
                version: case.regulation.into(),
                channel: "portal".into(),
                recipient: case.recipient.into(),
                applicant: "860101300011".into(),
                provider: case.provider.into(),
                step: "x".into(),
                moves: 1,
                status: case.status.map(Into::into),
                outcome: case.outcome.map(Into::into),
                message: None,
                data: "{}".into(),
                started_ms: case.started,
                due_ms: case.due,
                extensions: case.extensions,
                step_started_ms: case.started,
                step_due_ms: None,
                alarm_ms: None,
                alarms_fired: 0,
                closed_ms: case.closed,
                office: None,
            };
            insert_instance(&mut tx, &row).await.expect("insert");
        }
        let seeded = crate::audit::Event::new("test", "test.seed", "instance", "cases");
        tx.commit(&[seeded]).await.expect("commit");
    }

    fn closed(mut case: Case, outcome: &'static str, at: i64) -> Case {
        case.outcome = Some(outcome);
        case.closed = Some(at);
        case
    }

    /// Two bodies' appeals covering every column, and rows that must not count.
    async fn appeal_counts(store: &Store) {
        let a = "kyzylorda-oblast-akimat";
        let b = "ministry-justice";
        let mut cases = vec![
            // Body A: answered in term, from a legal entity, with an extension.
            Case {
                recipient: "legal_entity",
                extensions: 1,
                due: T0 + 31 * DAY,
                ..closed(appeal(a, Some("answered")), "result", T0 + 20 * DAY)
            },
            // Answered on the last millisecond of the term: in term.
            closed(appeal(a, Some("answered")), "result", T0 + 16 * DAY),
            // Answered late.
            closed(appeal(a, Some("answered")), "result", T0 + 17 * DAY),
            // Refused registration.
            closed(
                appeal(a, Some("registration_refused")),
                "refusal",
                T0 + 2 * DAY,
            ),
            // Redirected by competence, from a legal entity.
            Case {
                recipient: "legal_entity",
                ..closed(appeal(a, Some("redirected")), "result", T0 + 5 * DAY)
            },
            // Open, registered, overdue at the period's end.
            appeal(a, Some("registered")),
            // Open, sent for execution, extended, not overdue.
            Case {
                extensions: 1,
                due: T0 + 40 * DAY,
                ..appeal(a, Some("sent_for_execution"))
            },
            // Delivered only, not yet registered, term after the period's end.
            Case {
                started: T0 + 29 * DAY,
                due: T0 + 44 * DAY,
                ..appeal(a, Some("delivered"))
            },
            // Answered after the period's end, late: in progress and overdue at the end.
            closed(appeal(a, Some("answered")), "result", T0 + 35 * DAY),
            // Body B: one answered in term.
            closed(appeal(b, Some("answered")), "result", T0 + 3 * DAY),
        ];
        // Not counted: not delivered (no EDS), started before or at the end of the period,
        // another service.
        cases.push(closed(appeal(a, None), "refusal", T0 + DAY));
        cases.push(appeal(a, None));
        cases.push(Case {
            started: T0 - 1,
            ..appeal(a, Some("registered"))
        });
        cases.push(Case {
            started: T0 + 30 * DAY,
            ..appeal(a, Some("registered"))
        });
        cases.push(Case {
            regulation: "archive-certificate",
            ..appeal(a, Some("registered"))
        });
        insert(store, cases).await;

        let appeals = ["appeal".to_owned()];
        let report = store
            .appeal_report(&appeals, None, PERIOD)
            .await
            .expect("report");
        assert_eq!(report.period, PERIOD);
        let providers: Vec<&str> = report.rows.iter().map(|r| r.provider.as_str()).collect();
        assert_eq!(providers, [a, b]);
        let expected_a = AppealCounts {
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
        };
        assert_eq!(report.rows[0].counts, expected_a);
        let expected_b = AppealCounts {
            received: 1,
            from_individuals: 1,
            registered: 1,
            answered: 1,
            answered_in_term: 1,
            ..AppealCounts::default()
        };
        assert_eq!(report.rows[1].counts, expected_b);
        let total = report.total();
        assert_eq!(total.received, 10);
        assert_eq!(total.answered_in_term, 3);
        assert_eq!(
            total.received,
            total.registration_refused + total.redirected + total.answered + total.in_progress
        );

        let only_b = store
            .appeal_report(&appeals, Some(b), PERIOD)
            .await
            .expect("report");
        assert_eq!(only_b.rows.len(), 1);
        assert_eq!(only_b.rows[0].counts, expected_b);
        let nobody = store
            .appeal_report(&appeals, Some("no-such-body"), PERIOD)
            .await
            .expect("report");
        assert!(nobody.rows.is_empty());
        assert_eq!(nobody.total(), AppealCounts::default());
        // The report counts the services it is given: none, nothing; two, both.
        let none = store
            .appeal_report(&[], None, PERIOD)
            .await
            .expect("report");
        assert!(none.rows.is_empty());
        let both = ["archive-certificate".to_owned(), "appeal".to_owned()];
        let with_certificates = store
            .appeal_report(&both, Some(a), PERIOD)
            .await
            .expect("report");
        assert_eq!(
            with_certificates.rows[0].counts.received,
            expected_a.received + 1
        );
        let certificates_only = store
            .appeal_report(&both[..1], None, PERIOD)
            .await
            .expect("report");
        assert_eq!(certificates_only.total().received, 1);
    }

    /// Finished in the period by close time, open at its end by start time, per body and service.
    async fn timeliness_counts(store: &Store) {
        let a = "kyzylorda-archives-department";
        let b = "kyzylorda-oblast-akimat";
        let cert = |provider: &'static str, started: i64, due: i64| Case {
            regulation: "archive-certificate",
            provider,
            recipient: "individual",
            status: None,
            outcome: None,
            started,
            due,
            extensions: 0,
            closed: None,
        };
        let cases = vec![
            // Started before the period, finished in it, in term.
            closed(cert(a, T0 - 5 * DAY, T0 + 2 * DAY), "result", T0 + DAY),
            // Finished in the period with a refusal, in term (closed exactly at the term).
            closed(cert(a, T0, T0 + 3 * DAY), "refusal", T0 + 3 * DAY),
            // Finished late.
            closed(cert(a, T0, T0 + 3 * DAY), "result", T0 + 4 * DAY),
            // Finished before the period: not counted.
            closed(cert(a, T0 - 9 * DAY, T0 - 2 * DAY), "result", T0 - DAY),
            // Open, started before the period, overdue.
            cert(a, T0 - 9 * DAY, T0 - 2 * DAY),
            // Open at the end, closed after it; term after the end.
            closed(
                cert(a, T0 + 25 * DAY, T0 + 35 * DAY),
                "result",
                T0 + 31 * DAY,
            ),
            // Started after the period: not counted.
            cert(a, T0 + 30 * DAY, T0 + 40 * DAY),
            // Another service of another body: an appeal, open and overdue at the end.
            Case {
                due: T0 + 29 * DAY,
                ..appeal(b, Some("registered"))
            },
        ];
        insert(store, cases).await;

        let rows = store.timeliness(None, PERIOD).await.expect("timeliness");
        assert_eq!(
            rows,
            [
                TimelinessRow {
                    provider: a.into(),
                    regulation: "archive-certificate".into(),
                    finished: 3,
                    finished_in_term: 2,
                    finished_late: 1,
                    open: 2,
                    open_overdue: 1,
                    share_in_term: Some(2.0 / 3.0),
                },
                TimelinessRow {
                    provider: b.into(),
                    regulation: "appeal".into(),
                    finished: 0,
                    finished_in_term: 0,
                    finished_late: 0,
                    open: 1,
                    open_overdue: 1,
                    share_in_term: None,
                },
            ]
        );
        let only_b = store.timeliness(Some(b), PERIOD).await.expect("timeliness");
        assert_eq!(only_b.len(), 1);
        assert_eq!(only_b[0].regulation, "appeal");
        let before = Period {
            from_ms: T0 - 100 * DAY,
            to_ms: T0 - 50 * DAY,
        };
        assert!(
            store
                .timeliness(None, before)
                .await
                .expect("timeliness")
                .is_empty()
        );
    }

    crate::both_backends!(appeal_counts, timeliness_counts);

    /// Every status the report's SQL names is one the regulation format makes a regulation counted
    /// in the report declare.
    #[test]
    fn the_report_counts_by_statuses_a_declaring_regulation_has() {
        let required = qyzmet_domain::regulation::StatisticalReport::Appeals.statuses();
        let named = REGISTERED_OR_LATER.into_iter().chain([REFUSED]);
        for status in named {
            assert!(required.contains(&status), "{status}");
        }
    }
}
