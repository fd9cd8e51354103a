//! Every generated file is committed as `ops::generated` renders it: a stale one fails here
//! (run `qts ops render`, or this test with `QTS_OPS_WRITE=1`, which writes them instead).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn committed_files_are_what_the_registry_generates() {
    let root = ops::repo_root();
    let write = std::env::var("QTS_OPS_WRITE").as_deref() == Ok("1");
    let mut stale = Vec::new();
    for f in ops::generated() {
        let path = root.join(&f.path);
        if write {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &f.content).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(on_disk) if on_disk == f.content => {}
            Ok(_) => stale.push(format!("{} differs", f.path)),
            Err(e) => stale.push(format!("{}: {e}", f.path)),
        }
    }
    assert!(stale.is_empty(), "stale: run `qts ops render`: {stale:#?}");
}
