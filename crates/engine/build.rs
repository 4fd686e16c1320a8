//! Compiles the shipped regulations into the binary: every `regulations/*.toml` of the repository,
//! so that a new service is a new file and no code names it.

use std::fmt::Write;

fn main() {
    // Read when the script runs, not when it is compiled: a checkout elsewhere sharing the target
    // directory must not point this one at its own regulations.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = std::path::Path::new(&manifest).join("../../regulations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the regulations directory")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    let mut out = String::from(
        "/// (file name, text) of every shipped regulation.\npub const SHIPPED: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 file name");
        let absolute = path.canonicalize().expect("canonical path");
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            absolute.display()
        )
        .expect("write");
    }
    out.push_str("];\n");
    let target =
        std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("shipped.rs");
    std::fs::write(target, out).expect("write shipped.rs");
}
