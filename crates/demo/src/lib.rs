//! Demo and test data: the real directory annexes of the seeds, and a deterministic synthetic
//! population for the state registries. Pure: it builds records; storage loads them.

mod names;
pub mod population;

use qyzmet_domain::directory::Directory;

/// Organisations named by the seeds: the Kyzylorda archives and PSC branches of seed 004
/// annexes 1–2 and the central bodies the seeds name.
pub const DIRECTORY: &str = include_str!("../data/directory.toml");

pub fn directory() -> Directory {
    Directory::from_toml(DIRECTORY).expect("the built-in directory is valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use qyzmet_domain::directory::OrgKind;

    #[test]
    fn the_directory_holds_the_seed_004_annexes() {
        let d = directory();
        let archives = d
            .organisation
            .iter()
            .filter(|o| o.source.starts_with("004 annex 1"))
            .count();
        let pscs = d
            .organisation
            .iter()
            .filter(|o| o.source.starts_with("004 annex 2"))
            .count();
        assert_eq!(archives, 11, "004 annex 1 lists 11 archival institutions");
        assert_eq!(pscs, 13, "004 annex 2 lists the oblast PSC and 12 branches");
        assert!(
            d.organisation
                .iter()
                .any(|o| o.kind == OrgKind::CertificationAuthority)
        );
        assert!(d.providers_of("archival-reference-regional").count() >= 11);
        let branch = d
            .organisation
            .iter()
            .find(|o| o.source == "004 annex 2 row 8")
            .unwrap();
        assert_eq!(branch.phone.as_deref(), Some("8(336)227-54-82"));
    }
}
