//! Tests of sealed artifacts: storing, copying, and every kind of tampering.

use super::*;

/// A temporary folder removed even when it holds read-only folders.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Scratch {
        Scratch(tempfile::tempdir().unwrap())
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        make_writable(self.0.path());
    }
}

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A work folder with `dist/a.txt`, `dist/sub/b.txt`, `dist/run.sh` (executable) and a link.
fn workdir() -> Scratch {
    let work = Scratch::new();
    write(work.path(), "dist/a.txt", "a");
    write(work.path(), "dist/sub/b.txt", "b");
    write(work.path(), "dist/run.sh", "#!/bin/sh\n");
    set_mode(&work.path().join("dist/run.sh"), 0o755).unwrap();
    std::os::unix::fs::symlink("sub/b.txt", work.path().join("dist/latest")).unwrap();
    work
}

fn stored(work: &Scratch) -> StoredArtifact {
    store(
        work.path(),
        &["dist".into()],
        &work.path().join(".cdl/artifacts"),
    )
    .unwrap()
}

/// Runs `tamper` on the stored folder (made writable first, then read-only again as stored)
/// and expects the consumer's copy to be refused with both digests and `difference`.
fn refused_after(tamper: impl Fn(&Path), difference: &str) {
    let work = workdir();
    let artifact = stored(&work);
    make_writable(&artifact.path);
    tamper(&artifact.path);
    let copy = work.path().join("copy");
    let error = fetch_for_consumer(&artifact, &copy).unwrap_err();
    let text = error.to_string();
    assert!(text.contains(&artifact.digest), "{text}");
    let ArtifactError::Changed { found, .. } = &error else {
        panic!("{error:?}")
    };
    assert_ne!(found, &artifact.digest);
    assert!(text.contains(found.as_str()), "{text}");
    assert!(text.contains(difference), "{text}");
}

#[test]
fn the_manifest_is_sorted_escaped_and_its_hash_is_the_digest() {
    let work = workdir();
    let artifact = stored(&work);
    let text = std::fs::read_to_string(work.path().join(format!(
        ".cdl/artifacts/sha256-{}.manifest",
        artifact.digest
    )))
    .unwrap();
    let sha = |s: &str| hex(&Sha256::digest(s.as_bytes()));
    let expected = format!(
        "cdl-manifest/v1\n\
         d 555 0 - dist\n\
         f 444 1 {} dist/a.txt\n\
         l 555 9 sub/b.txt dist/latest\n\
         f 555 10 {} dist/run.sh\n\
         d 555 0 - dist/sub\n\
         f 444 1 {} dist/sub/b.txt\n",
        sha("a"),
        sha("#!/bin/sh\n"),
        sha("b")
    );
    // A link's own mode is 777 on Linux; only its read and execute bits are kept.
    assert_eq!(text, expected);
    assert_eq!(artifact.digest, sha(&expected));
    assert_eq!(
        artifact.path,
        stored_folder(&work.path().join(".cdl/artifacts"), &artifact.digest)
    );
    assert_eq!(artifact.entries, 6);
    assert_eq!(artifact.size, 12);
    // Stored read-only, files and folders.
    let mode = |p: &str| {
        std::fs::symlink_metadata(artifact.path.join(p))
            .unwrap()
            .mode()
            & 0o777
    };
    assert_eq!(mode("dist/a.txt"), 0o444);
    assert_eq!(mode("dist/sub"), 0o555);
    assert_eq!(mode(""), 0o555);
    verify_store(&artifact).unwrap();
}

#[test]
fn hostile_names_round_trip_through_the_manifest() {
    let work = Scratch::new();
    let names: Vec<&[u8]> = vec![
        b"a b",
        b"new\nline",
        b"100%",
        b"tab\there",
        b"\xff\xfe not utf-8",
        b"-rf",
        b"f 644 1 x y",
    ];
    std::fs::create_dir(work.path().join("out")).unwrap();
    for name in &names {
        std::fs::write(
            work.path()
                .join("out")
                .join(std::ffi::OsStr::from_bytes(name)),
            name,
        )
        .unwrap();
    }
    let artifact = store(work.path(), &["out".into()], &work.path().join("store")).unwrap();
    assert_eq!(artifact.entries, names.len() + 1);
    let manifest = recorded_manifest(&artifact).expect("the manifest parses back");
    assert_eq!(manifest.len(), names.len() + 1);
    for line in manifest.text().lines() {
        assert_eq!(
            line.split(' ').count(),
            if line.starts_with("cdl") { 1 } else { 5 }
        );
    }
    let copy = work.path().join("copy");
    fetch_for_consumer(&artifact, &copy).unwrap();
    for name in &names {
        let path = copy.join("out").join(std::ffi::OsStr::from_bytes(name));
        assert_eq!(std::fs::read(path).unwrap(), *name);
    }
}

#[test]
fn globs_follow_the_glob_crate() {
    let work = Scratch::new();
    write(work.path(), "out/sub/x/one.txt", "1");
    write(work.path(), "out/sub/two.txt", "2");
    write(work.path(), "out/other.txt", "3");
    let artifact = store(work.path(), &["out/sub/**".into()], &work.path().join("s")).unwrap();
    let manifest = list(&artifact.path).unwrap();
    let paths: Vec<String> = manifest.entries.keys().map(|k| escape(k)).collect();
    assert_eq!(
        paths,
        [
            "out",
            "out/sub",
            "out/sub/two.txt",
            "out/sub/x",
            "out/sub/x/one.txt"
        ]
    );
    let artifact = store(
        work.path(),
        &["out/**/*.txt".into()],
        &work.path().join("s"),
    )
    .unwrap();
    assert_eq!(artifact.entries, 6);
    let error = store(work.path(), &["missing/*".into()], &work.path().join("s")).unwrap_err();
    assert!(matches!(error, ArtifactError::NoMatch { .. }), "{error}");
}

#[test]
fn the_same_bytes_are_stored_once() {
    let work = workdir();
    let first = stored(&work);
    let second = stored(&work);
    assert_eq!(first, second);
    write(work.path(), "dist/a.txt", "changed");
    let third = stored(&work);
    assert_ne!(third.digest, first.digest);
    verify_store(&first).unwrap();
    verify_store(&third).unwrap();
}

#[test]
fn a_consumer_gets_a_private_writable_copy() {
    let work = workdir();
    let artifact = stored(&work);
    let copy = work.path().join("inputs/deploy/app");
    fetch_for_consumer(&artifact, &copy).unwrap();
    assert_eq!(
        std::fs::read_to_string(copy.join("dist/sub/b.txt")).unwrap(),
        "b"
    );
    assert_eq!(
        std::fs::read_link(copy.join("dist/latest")).unwrap(),
        Path::new("sub/b.txt")
    );
    let meta = std::fs::metadata(copy.join("dist/run.sh")).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o755);
    // No hard link to the store: changing the copy leaves the store alone.
    assert_eq!(meta.nlink(), 1);
    std::fs::write(copy.join("dist/a.txt"), "mine").unwrap();
    verify_store(&artifact).unwrap();
    verify_copy(&artifact, &copy).unwrap_err();
    // A second fetch replaces the copy, whatever the job left there.
    std::fs::create_dir(copy.join("dist/locked")).unwrap();
    write(&copy, "dist/locked/x", "x");
    set_mode(&copy.join("dist/locked"), 0o500).unwrap();
    fetch_for_consumer(&artifact, &copy).unwrap();
    verify_copy(&artifact, &copy).unwrap();
}

#[test]
fn an_added_file_in_the_store_is_refused() {
    // Finding 11: a test on staging slips `evil.sh` into what production receives.
    refused_after(
        |root| std::fs::write(root.join("dist/evil.sh"), "rm -rf /").unwrap(),
        "added: dist/evil.sh",
    );
}

#[test]
fn a_removed_file_in_the_store_is_refused() {
    refused_after(
        |root| std::fs::remove_file(root.join("dist/a.txt")).unwrap(),
        "removed: dist/a.txt",
    );
}

#[test]
fn a_changed_file_in_the_store_is_refused() {
    refused_after(
        |root| {
            set_mode(&root.join("dist/a.txt"), 0o644).unwrap();
            std::fs::write(root.join("dist/a.txt"), "A").unwrap();
            set_mode(&root.join("dist/a.txt"), 0o444).unwrap();
        },
        "changed: dist/a.txt",
    );
}

#[test]
fn a_chmod_in_the_store_is_refused() {
    refused_after(
        |root| set_mode(&root.join("dist/a.txt"), 0o555).unwrap(),
        "mode changed: dist/a.txt (444 → 555)",
    );
}

#[test]
fn a_symlink_swap_in_the_store_is_refused() {
    refused_after(
        |root| {
            std::fs::remove_file(root.join("dist/a.txt")).unwrap();
            std::os::unix::fs::symlink("/etc/passwd", root.join("dist/a.txt")).unwrap();
        },
        "changed: dist/a.txt",
    );
    refused_after(
        |root| {
            std::fs::remove_file(root.join("dist/latest")).unwrap();
            std::os::unix::fs::symlink("../../../../etc", root.join("dist/latest")).unwrap();
        },
        "changed: dist/latest",
    );
}

#[test]
fn a_tampered_consumer_copy_is_refused_with_both_digests() {
    type Tamper = Box<dyn Fn(&Path)>;
    let tampers: Vec<(&str, Tamper)> = vec![
        (
            "added: dist/evil.sh",
            Box::new(|c| std::fs::write(c.join("dist/evil.sh"), "x").unwrap()),
        ),
        (
            "removed: dist/sub/b.txt",
            Box::new(|c| std::fs::remove_file(c.join("dist/sub/b.txt")).unwrap()),
        ),
        (
            "changed: dist/a.txt",
            Box::new(|c| std::fs::write(c.join("dist/a.txt"), "A").unwrap()),
        ),
        (
            "mode changed: dist/a.txt",
            Box::new(|c| set_mode(&c.join("dist/a.txt"), 0o744).unwrap()),
        ),
        (
            "changed: dist/run.sh",
            Box::new(|c| {
                std::fs::remove_file(c.join("dist/run.sh")).unwrap();
                std::os::unix::fs::symlink("/bin/sh", c.join("dist/run.sh")).unwrap();
            }),
        ),
    ];
    for (difference, tamper) in tampers {
        let work = workdir();
        let artifact = stored(&work);
        let copy = work.path().join("copy");
        fetch_for_consumer(&artifact, &copy).unwrap();
        verify_copy(&artifact, &copy).unwrap();
        tamper(&copy);
        let text = verify_copy(&artifact, &copy).unwrap_err().to_string();
        assert!(text.contains(&artifact.digest), "{text}");
        assert!(text.contains(difference), "{difference}: {text}");
        assert!(text.contains("was found"), "{text}");
    }
}

#[test]
fn what_cannot_be_sealed_is_refused() {
    let work = Scratch::new();
    write(work.path(), "a/file", "x");
    let store_at = work.path().join("s");
    let refused = |outputs: &[&str]| {
        let outputs: Vec<String> = outputs.iter().map(|s| s.to_string()).collect();
        store(work.path(), &outputs, &store_at).unwrap_err()
    };
    assert!(matches!(
        refused(&["../a/x"]),
        ArtifactError::OutsideWorkdir { .. }
    ));
    assert!(matches!(
        refused(&["/etc/passwd"]),
        ArtifactError::OutsideWorkdir { .. }
    ));
    assert!(matches!(
        refused(&["a/../../x"]),
        ArtifactError::OutsideWorkdir { .. }
    ));
    // A link leaving the artifact, or pointing at a file not in it.
    std::os::unix::fs::symlink("/etc/passwd", work.path().join("a/abs")).unwrap();
    assert!(
        refused(&["a"])
            .to_string()
            .contains("not part of the artifact")
    );
    std::fs::remove_file(work.path().join("a/abs")).unwrap();
    std::os::unix::fs::symlink("../outside", work.path().join("a/rel")).unwrap();
    assert!(
        refused(&["a"])
            .to_string()
            .contains("not part of the artifact")
    );
    std::fs::remove_file(work.path().join("a/rel")).unwrap();
    // A folder reached through a link.
    std::os::unix::fs::symlink("a", work.path().join("b")).unwrap();
    assert!(refused(&["b/file"]).to_string().contains("link"));
    std::fs::remove_file(work.path().join("b")).unwrap();
    // setuid.
    set_mode(&work.path().join("a/file"), 0o4755).unwrap();
    assert!(refused(&["a"]).to_string().contains("setuid"));
    set_mode(&work.path().join("a/file"), 0o644).unwrap();
    // A FIFO.
    let fifo = std::ffi::CString::new(work.path().join("a/fifo").as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    assert!(refused(&["a"]).to_string().contains("FIFO"));
    std::fs::remove_file(work.path().join("a/fifo")).unwrap();
    // Nothing was stored by the refusals, and what is left stores fine.
    store(work.path(), &["a".into()], &store_at).unwrap();
}

#[test]
fn a_damaged_manifest_still_gives_both_digests() {
    let work = workdir();
    let artifact = stored(&work);
    let manifest = work.path().join(format!(
        ".cdl/artifacts/sha256-{}.manifest",
        artifact.digest
    ));
    std::fs::write(&manifest, "cdl-manifest/v1\n").unwrap();
    make_writable(&artifact.path);
    std::fs::write(artifact.path.join("dist/evil.sh"), "x").unwrap();
    let text = fetch_for_consumer(&artifact, &work.path().join("c"))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains(&artifact.digest) && text.contains("was found"),
        "{text}"
    );
}

#[test]
fn manifest_parse_refuses_what_is_not_one() {
    assert!(Manifest::parse("").is_none());
    assert!(Manifest::parse("cdl-manifest/v2\n").is_none());
    assert!(Manifest::parse("cdl-manifest/v1\nx 644 1 a b\n").is_none());
    assert!(Manifest::parse("cdl-manifest/v1\nf 9z 1 a b\n").is_none());
    assert!(Manifest::parse("cdl-manifest/v1\nf 644 1 a b%\n").is_none());
    assert!(Manifest::parse("cdl-manifest/v1\nf 644 1 a b%é\n").is_none());
    assert_eq!(Manifest::parse("cdl-manifest/v1\n").unwrap().len(), 0);
}

#[test]
fn outputs_inside_the_working_folder() {
    for good in ["a", "a/b", "./a", "dist/**", "a..b"] {
        assert!(output_inside_workdir(good), "{good}");
    }
    for bad in ["", "/a", "../a", "a/../../b", "a/.."] {
        assert!(!output_inside_workdir(bad), "{bad}");
    }
}

#[test]
fn the_state_folder_is_never_part_of_an_artifact() {
    let work = Scratch::new();
    write(work.path(), "dist/app.whl", "app");
    write(work.path(), "./other/lib.whl", "lib");
    let artifacts = work.path().join(".cdl/runs/1/artifacts");
    write(work.path(), ".cdl/runs/1/inputs/j/a/dist/old.whl", "old");
    let first = store(work.path(), &["**/*.whl".into()], &artifacts).unwrap();
    let paths: Vec<String> = list(&first.path)
        .unwrap()
        .entries
        .keys()
        .map(|k| escape(k))
        .collect();
    assert_eq!(paths, ["dist", "dist/app.whl", "other", "other/lib.whl"]);
    // `**` brings every folder but the state folder; `./dist` and `dist/` are `dist`.
    let all = store(work.path(), &["**".into()], &artifacts).unwrap();
    assert!(
        list(&all.path)
            .unwrap()
            .entries
            .keys()
            .all(|k| !k.starts_with(b".cdl"))
    );
    let dotted = store(work.path(), &["./dist".into()], &artifacts).unwrap();
    let slashed = store(work.path(), &["dist/".into()], &artifacts).unwrap();
    let plain = store(work.path(), &["dist".into()], &artifacts).unwrap();
    assert_eq!(dotted.digest, plain.digest);
    assert_eq!(slashed.digest, plain.digest);
    // Only the state folder matching: nothing matched.
    let error = store(work.path(), &[".cdl".into()], &artifacts).unwrap_err();
    assert!(matches!(error, ArtifactError::NoMatch { .. }), "{error}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A file name: any bytes but `/` and NUL, not `.` or `..`.
    fn name() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                Just(b'a'),
                Just(b' '),
                Just(b'%'),
                Just(b'\n'),
                Just(0xffu8),
                1u8..=255
            ],
            1..8,
        )
        .prop_filter("a plain name", |n| {
            !n.contains(&b'/') && n != b"." && n != b".."
        })
    }

    /// A tree: files (name, bytes, executable) in `out/` and in `out/sub/`.
    fn tree() -> impl Strategy<Value = Vec<(bool, Vec<u8>, Vec<u8>, bool)>> {
        proptest::collection::vec(
            (
                any::<bool>(),
                name(),
                proptest::collection::vec(any::<u8>(), 0..64),
                any::<bool>(),
            ),
            1..6,
        )
    }

    #[derive(Debug, Clone)]
    enum Tamper {
        Add(Vec<u8>),
        Remove(usize),
        Change(usize, u8),
        Chmod(usize),
    }

    fn tamper() -> impl Strategy<Value = Tamper> {
        prop_oneof![
            name().prop_map(Tamper::Add),
            any::<usize>().prop_map(Tamper::Remove),
            (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Tamper::Change(i, b)),
            any::<usize>().prop_map(Tamper::Chmod),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Whatever the names and bytes: the copy has the manifest's digest, the manifest's
        /// text parses back to itself, and any one tampering of the copy is noticed.
        #[test]
        fn copies_verify_and_every_tampering_is_noticed(files in tree(), change in tamper()) {
            let work = Scratch::new();
            let mut paths: Vec<PathBuf> = Vec::new();
            for (nested, file, bytes, executable) in &files {
                let folder = if *nested { "out/sub" } else { "out" };
                let path = work.path().join(folder).join(std::ffi::OsStr::from_bytes(file));
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                if path.is_dir() {
                    continue;
                }
                std::fs::write(&path, bytes).unwrap();
                set_mode(&path, if *executable { 0o755 } else { 0o644 }).unwrap();
                if !paths.contains(&path) {
                    paths.push(path);
                }
            }
            let artifact = store(work.path(), &["out".into()], &work.path().join("store")).unwrap();
            let manifest = recorded_manifest(&artifact).unwrap();
            prop_assert_eq!(Manifest::parse(&manifest.text()).unwrap(), manifest.clone());
            let copy = work.path().join("copy");
            fetch_for_consumer(&artifact, &copy).unwrap();
            prop_assert_eq!(list(&copy).unwrap().digest(), artifact.digest.clone());
            for path in &paths {
                let relative = path.strip_prefix(work.path()).unwrap();
                prop_assert_eq!(std::fs::read(copy.join(relative)).unwrap(), std::fs::read(path).unwrap());
            }
            let target = |i: usize| copy.join(paths[i % paths.len()].strip_prefix(work.path()).unwrap());
            match &change {
                Tamper::Add(file) => {
                    let path = copy.join("out").join(std::ffi::OsStr::from_bytes(file));
                    if path.exists() {
                        return Ok(());
                    }
                    std::fs::write(path, b"x").unwrap();
                }
                Tamper::Remove(i) => std::fs::remove_file(target(*i)).unwrap(),
                Tamper::Change(i, byte) => {
                    let mut bytes = std::fs::read(target(*i)).unwrap();
                    bytes.push(*byte);
                    std::fs::write(target(*i), bytes).unwrap();
                }
                Tamper::Chmod(i) => {
                    let mode = std::fs::metadata(target(*i)).unwrap().mode() & 0o777;
                    set_mode(&target(*i), mode ^ 0o111).unwrap();
                }
            }
            let error = verify_copy(&artifact, &copy).unwrap_err();
            let ArtifactError::Changed { recorded, found, differences, .. } = &error else {
                panic!("{error}");
            };
            prop_assert_eq!(recorded, &artifact.digest);
            prop_assert_ne!(found, &artifact.digest);
            prop_assert!(!differences.is_empty(), "{}", error);
        }
    }
}

#[test]
fn a_working_folder_with_glob_characters_in_its_name() {
    let scratch = Scratch::new();
    let work = scratch.path().join("we[ir]d *dir?");
    write(&work, "dist/a.txt", "a");
    write(&work, "dist/b.txt", "b");
    let artifact = store(
        &work,
        &["dist/*.txt".into()],
        &work.join(".cdl/runs/1/artifacts"),
    )
    .unwrap();
    assert_eq!(artifact.entries, 3);
    let copy = scratch.path().join("copy");
    fetch_for_consumer(&artifact, &copy).unwrap();
    assert_eq!(
        std::fs::read_to_string(copy.join("dist/b.txt")).unwrap(),
        "b"
    );
}
