//! The domain core of Qyzmet: identifiers, the legal calendar, registry and directory records,
//! and the audit chain. Pure: no I/O, no clock, no database; callers pass time and data in.

pub mod application;
pub mod audit;
pub mod calendar;
pub mod directory;
pub mod ids;
pub mod queue;
pub mod registry;
pub mod regulation;
pub mod validation;
pub mod workflow;
