//! ASN.1 times ↔ `jiff::Timestamp`: UTCTime before 2050, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5).

use std::time::Duration;

use der::DateTime;
use der::asn1::{GeneralizedTime, UtcTime};
use jiff::Timestamp;
use x509_cert::time::Time;

use crate::PkiError;

fn date_time(ts: Timestamp) -> Result<DateTime, PkiError> {
    let secs = u64::try_from(ts.as_second())
        .map_err(|_| PkiError::Rejected(format!("time {ts} before 1970")))?;
    DateTime::from_unix_duration(Duration::from_secs(secs))
        .map_err(|e| PkiError::Rejected(format!("time {ts}: {e}")))
}

pub fn to_x509(ts: Timestamp) -> Result<Time, PkiError> {
    let dt = date_time(ts)?;
    Ok(if dt.year() < 2050 {
        Time::UtcTime(UtcTime::from_date_time(dt).map_err(|e| PkiError::Rejected(e.to_string()))?)
    } else {
        Time::GeneralTime(GeneralizedTime::from_date_time(dt))
    })
}

pub fn to_generalized(ts: Timestamp) -> Result<GeneralizedTime, PkiError> {
    Ok(GeneralizedTime::from_date_time(date_time(ts)?))
}

pub fn from_x509(time: &Time) -> Timestamp {
    from_unix(time.to_unix_duration())
}

pub fn from_generalized(time: &GeneralizedTime) -> Timestamp {
    from_unix(time.to_unix_duration())
}

fn from_unix(d: Duration) -> Timestamp {
    i64::try_from(d.as_secs())
        .ok()
        .and_then(|s| Timestamp::from_second(s).ok())
        .unwrap_or(Timestamp::MAX)
}
