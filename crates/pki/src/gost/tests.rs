use super::*;

#[test]
fn gost34311_test_sbox_vectors() {
    // GOST R 34.11-94 with the test parameter set (FACTS.md §2.4; the standard's own examples).
    assert_eq!(
        hex::encode(gost34311(b"abc")),
        "f3134348c44fb1b2a277729e2285ebb5cb5e0f29c975bc753b70497c06a4d51d"
    );
}
