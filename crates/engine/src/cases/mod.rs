//! The use cases behind the doors people use: each is one function a web handler (or the CLI)
//! calls with what the request said, and which decides everything else — the registries, the
//! regulation's rules, the engine's moves — so that the portal, the machine API and the PSC counter
//! take the same path.

pub mod counter;
pub mod key_requests;
pub mod regulations;
pub mod staff;
pub mod subject;
pub mod submit;
