//! Sealed artifacts: an artifact job's outputs are stored read-only and content-addressed
//! (`artifacts/sha256-<digest>/`, the digest being the SHA-256 of its manifest); every consumer
//! gets a private copy, hashed while copied and listed against the manifest before it starts.
//!
//! The manifest is the line `cdl-manifest/v1`, then one line per entry sorted by path bytes:
//! `f|l|d MODE SIZE SHA256|LINK-TARGET PATH` (MODE in octal without the write bits, which are
//! not part of an artifact; `-` in place of a folder's digest; paths and link targets escaped
//! with `%XX` for bytes that are not printable ASCII, a space or `%`). Entries are collected with
//! `lstat`: links are never followed, FIFOs, devices and setuid/setgid/sticky bits are refused,
//! and a link must point at another entry of the artifact.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::record::StoredArtifact;

/// The first line of every manifest.
pub const MANIFEST_HEADER: &str = "cdl-manifest/v1";

/// The permission bits a manifest keeps: read and execute for everyone, and the special bits
/// (refused when stored, so that one appearing later is a change).
const MODE_BITS: u32 = 0o7555;

/// Why an artifact could not be stored, copied or verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactError {
    /// An `outputs` pattern that is not a glob.
    BadPattern { pattern: String, reason: String },
    /// An `outputs` pattern that leaves the working folder (`/x`, `../x`).
    OutsideWorkdir { pattern: String },
    /// An `outputs` pattern that matched nothing.
    NoMatch { pattern: String, workdir: PathBuf },
    /// A file the artifact may not hold (a FIFO, a device, a setuid file, a link leaving it…).
    Refused { path: String, reason: String },
    /// A file system error.
    Io { path: PathBuf, error: String },
    /// What is there does not match what was stored: both digests, and what differs.
    Changed {
        what: String,
        recorded: String,
        found: String,
        differences: Vec<String>,
    },
}

impl fmt::Display for ArtifactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArtifactError::BadPattern { pattern, reason } => {
                write!(f, "the output `{pattern}` is not a valid glob: {reason}")
            }
            ArtifactError::OutsideWorkdir { pattern } => write!(
                f,
                "the output `{pattern}` is outside the working folder; outputs are relative paths inside it"
            ),
            ArtifactError::NoMatch { pattern, workdir } => write!(
                f,
                "the output `{pattern}` matched no file in {}",
                workdir.display()
            ),
            ArtifactError::Refused { path, reason } => {
                write!(f, "the output `{path}` cannot be stored: {reason}")
            }
            ArtifactError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            ArtifactError::Changed {
                what,
                recorded,
                found,
                differences,
            } => {
                write!(
                    f,
                    "{what} does not match the stored artifact: sha256 {recorded} was stored, sha256 {found} was found"
                )?;
                if !differences.is_empty() {
                    write!(f, " ({})", differences.join(", "))?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ArtifactError {}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ArtifactError + '_ {
    move |e| ArtifactError::Io {
        path: path.to_path_buf(),
        error: e.to_string(),
    }
}

/// One line of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    File { size: u64, sha256: String },
    Link { target: Vec<u8> },
    Folder,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    kind: Kind,
    mode: u32,
}

/// Entries by relative path (`/`-separated bytes), sorted by path bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    entries: BTreeMap<Vec<u8>, Entry>,
}

impl Manifest {
    /// The manifest's text, as hashed.
    pub fn text(&self) -> String {
        let mut out = format!("{MANIFEST_HEADER}\n");
        for (path, entry) in &self.entries {
            let mode = entry.mode & MODE_BITS;
            let line = match &entry.kind {
                Kind::File { size, sha256 } => format!("f {mode:o} {size} {sha256}"),
                Kind::Link { target } => {
                    format!("l {mode:o} {} {}", target.len(), escape(target))
                }
                Kind::Folder => format!("d {mode:o} 0 -"),
            };
            out.push_str(&line);
            out.push(' ');
            out.push_str(&escape(path));
            out.push('\n');
        }
        out
    }

    /// The artifact's digest: the SHA-256 of the manifest's text.
    pub fn digest(&self) -> String {
        hex(&Sha256::digest(self.text().as_bytes()))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The bytes of all files.
    pub fn size(&self) -> u64 {
        self.entries
            .values()
            .map(|e| match e.kind {
                Kind::File { size, .. } => size,
                _ => 0,
            })
            .sum()
    }

    /// Reads a manifest's text back; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Manifest> {
        let mut lines = text.lines();
        if lines.next()? != MANIFEST_HEADER {
            return None;
        }
        let mut entries = BTreeMap::new();
        for line in lines {
            let fields: Vec<&str> = line.split(' ').collect();
            let [kind, mode, size, value, path] = fields.as_slice() else {
                return None;
            };
            let mode = u32::from_str_radix(mode, 8).ok()?;
            let size: u64 = size.parse().ok()?;
            let kind = match *kind {
                "f" => Kind::File {
                    size,
                    sha256: value.to_string(),
                },
                "l" => Kind::Link {
                    target: unescape(value)?,
                },
                "d" => Kind::Folder,
                _ => return None,
            };
            entries.insert(unescape(path)?, Entry { kind, mode });
        }
        Some(Manifest { entries })
    }

    /// What differs from `other` (this one being what was recorded), in words, at most a few.
    fn differences(&self, found: &Manifest) -> Vec<String> {
        let mut out = Vec::new();
        for (path, entry) in &found.entries {
            match self.entries.get(path) {
                None => out.push(format!("added: {}", escape(path))),
                Some(recorded) if recorded.kind != entry.kind => {
                    out.push(format!("changed: {}", escape(path)))
                }
                Some(recorded) if recorded.mode & MODE_BITS != entry.mode & MODE_BITS => {
                    out.push(format!(
                        "mode changed: {} ({:o} → {:o})",
                        escape(path),
                        recorded.mode & MODE_BITS,
                        entry.mode & MODE_BITS
                    ))
                }
                Some(_) => {}
            }
        }
        for path in self.entries.keys() {
            if !found.entries.contains_key(path) {
                out.push(format!("removed: {}", escape(path)));
            }
        }
        let total = out.len();
        if total > 5 {
            out.truncate(5);
            out.push(format!("{} more", total - 5));
        }
        out
    }
}

/// `%XX` for every byte that is not printable ASCII, a space or `%`.
fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn unescape(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A relative path's `/`-separated bytes.
fn path_bytes(relative: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for component in relative.components() {
        if !out.is_empty() {
            out.push(b'/');
        }
        out.extend_from_slice(component.as_os_str().as_bytes());
    }
    out
}

fn relative_path(bytes: &[u8]) -> PathBuf {
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

/// Whether an `outputs` entry stays inside the working folder (E0307 at check time).
pub fn output_inside_workdir(pattern: &str) -> bool {
    crate::check::outputs::inside_workdir(pattern)
}

/// The folder in `artifacts_dir` that holds the artifact with `digest`.
pub fn stored_folder(artifacts_dir: &Path, digest: &str) -> PathBuf {
    artifacts_dir.join(format!("sha256-{digest}"))
}

fn manifest_file(artifacts_dir: &Path, digest: &str) -> PathBuf {
    artifacts_dir.join(format!("sha256-{digest}.manifest"))
}

// ------------------------------------------------------------------ storing

/// Seals the outputs (paths or globs relative to `workdir`, as the `glob` crate matches them)
/// into `artifacts_dir/sha256-<digest>/`: copied into a temporary folder while hashed, made
/// read-only, renamed into place. Storing the same bytes twice keeps the first copy.
/// `artifacts_dir` is `<state folder>/runs/<id>/artifacts`: nothing under the state folder is
/// ever part of an artifact (`**/*.whl` must not pick up other artifacts' copies).
#[cfg_attr(not(test), allow(dead_code))]
pub fn store(
    workdir: &Path,
    outputs: &[String],
    artifacts_dir: &Path,
) -> Result<StoredArtifact, ArtifactError> {
    store_outputs(workdir, outputs, &[], artifacts_dir)
}

/// [`store`], with v2 i13k's `optional_outputs`: patterns that may match nothing.
pub fn store_outputs(
    workdir: &Path,
    outputs: &[String],
    optional: &[String],
    artifacts_dir: &Path,
) -> Result<StoredArtifact, ArtifactError> {
    let state = artifacts_dir.ancestors().nth(3).unwrap_or(artifacts_dir);
    let excluded = excluded_folder(workdir, state);
    let sources = collect_outputs(workdir, outputs, optional, excluded.as_deref())?;
    std::fs::create_dir_all(artifacts_dir).map_err(io(artifacts_dir))?;
    let temp = tempfile::Builder::new()
        .prefix(".store-")
        .tempdir_in(artifacts_dir)
        .map_err(io(artifacts_dir))?;
    let mut manifest = Manifest::default();
    for (relative, entry) in &sources {
        let source = workdir.join(relative_path(relative));
        let target = temp.path().join(relative_path(relative));
        let kind = match &entry.kind {
            Kind::Folder => {
                std::fs::create_dir(&target).map_err(io(&target))?;
                Kind::Folder
            }
            Kind::Link { target: link } => {
                std::os::unix::fs::symlink(relative_path(link), &target).map_err(io(&target))?;
                Kind::Link {
                    target: link.clone(),
                }
            }
            Kind::File { .. } => {
                let (size, sha256) = copy_hashing(&source, &target)?;
                Kind::File { size, sha256 }
            }
        };
        manifest.entries.insert(
            relative.clone(),
            Entry {
                kind,
                mode: entry.mode & MODE_BITS,
            },
        );
    }
    check_links(&manifest)?;
    let digest = manifest.digest();
    let folder = stored_folder(artifacts_dir, &digest);
    let manifest_path = manifest_file(artifacts_dir, &digest);
    write_atomically(artifacts_dir, &manifest_path, manifest.text().as_bytes())?;
    // One flush of the file system for every file stored, rather than one `fsync` each
    // (10 ms apiece here: 2,000 files took 12 s).
    sync_file_system(temp.path())?;
    let temp = temp.keep();
    if folder.exists() {
        make_writable(&temp);
        std::fs::remove_dir_all(&temp).map_err(io(&temp))?;
    } else {
        // Deepest first, so that a read-only folder does not stop the ones below it.
        for (relative, entry) in manifest.entries.iter().rev() {
            if !matches!(entry.kind, Kind::Link { .. }) {
                let path = temp.join(relative_path(relative));
                set_mode(&path, entry.mode)?;
            }
        }
        std::fs::rename(&temp, &folder).map_err(io(&folder))?;
        set_mode(&folder, 0o555)?;
        // The rename itself reaches the disk before the record names the artifact.
        std::fs::File::open(artifacts_dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io(artifacts_dir))?;
    }
    Ok(StoredArtifact {
        path: folder,
        digest,
        entries: manifest.len(),
        size: manifest.size(),
    })
}

/// The state folder relative to the working folder, when it is inside it.
fn excluded_folder(workdir: &Path, state: &Path) -> Option<PathBuf> {
    let workdir = std::fs::canonicalize(workdir).ok()?;
    let state = std::fs::canonicalize(state).ok()?;
    state
        .strip_prefix(&workdir)
        .ok()
        .filter(|r| !r.as_os_str().is_empty())
        .map(Path::to_path_buf)
}

/// Every entry the outputs name, with the folders leading to them; files are only looked at
/// here (`lstat`), their bytes are hashed when copied.
fn collect_outputs(
    workdir: &Path,
    outputs: &[String],
    optional: &[String],
    excluded: Option<&Path>,
) -> Result<BTreeMap<Vec<u8>, Entry>, ArtifactError> {
    let mut entries = BTreeMap::new();
    let root = glob::Pattern::escape(&workdir.to_string_lossy());
    let patterns = outputs
        .iter()
        .map(|p| (p, true))
        .chain(optional.iter().map(|p| (p, false)));
    for (pattern, required) in patterns {
        if !output_inside_workdir(pattern) {
            return Err(ArtifactError::OutsideWorkdir {
                pattern: pattern.clone(),
            });
        }
        let bad = |e: glob::PatternError| ArtifactError::BadPattern {
            pattern: pattern.clone(),
            reason: e.to_string(),
        };
        let mut matches: Vec<glob::GlobResult> = glob::glob(&format!("{root}/{pattern}"))
            .map_err(bad)?
            .collect();
        // The crate documents `**` as matching the current directory too, but its walker
        // yields only the subdirectories of `dir/**`: add `dir` itself (and so its files).
        if let Some(folder) = pattern.strip_suffix("/**") {
            matches.extend(glob::glob(&format!("{root}/{folder}")).map_err(bad)?);
        }
        let mut matched = false;
        for path in matches {
            let path = path.map_err(|e| ArtifactError::Io {
                path: e.path().to_path_buf(),
                error: e.error().to_string(),
            })?;
            let Ok(relative) = path.strip_prefix(workdir) else {
                continue;
            };
            let relative = relative.to_path_buf();
            if relative.as_os_str().is_empty() {
                return Err(ArtifactError::Refused {
                    path: pattern.clone(),
                    reason: "it matches the whole working folder".into(),
                });
            }
            if excluded.is_some_and(|x| relative.starts_with(x)) {
                continue;
            }
            matched = true;
            add_with_parents(workdir, &relative, excluded, &mut entries)?;
        }
        if !matched && required {
            return Err(ArtifactError::NoMatch {
                pattern: pattern.clone(),
                workdir: workdir.to_path_buf(),
            });
        }
    }
    Ok(entries)
}

/// Adds the folders between `workdir` and `relative` (each must be a real folder, not a link
/// to one), then `relative` itself, and everything under it when it is a folder.
fn add_with_parents(
    workdir: &Path,
    relative: &Path,
    excluded: Option<&Path>,
    entries: &mut BTreeMap<Vec<u8>, Entry>,
) -> Result<(), ArtifactError> {
    let mut prefix = PathBuf::new();
    let components: Vec<Component> = relative.components().collect();
    for component in &components[..components.len() - 1] {
        prefix.push(component);
        let full = workdir.join(&prefix);
        let meta = std::fs::symlink_metadata(&full).map_err(io(&full))?;
        if !meta.file_type().is_dir() {
            return Err(ArtifactError::Refused {
                path: prefix.to_string_lossy().into_owned(),
                reason: "it is a link to a folder; links are stored, never followed".into(),
            });
        }
        entries.entry(path_bytes(&prefix)).or_insert(Entry {
            kind: Kind::Folder,
            mode: meta.mode(),
        });
    }
    add_tree(workdir, relative, excluded, entries)
}

fn add_tree(
    workdir: &Path,
    relative: &Path,
    excluded: Option<&Path>,
    entries: &mut BTreeMap<Vec<u8>, Entry>,
) -> Result<(), ArtifactError> {
    let key = path_bytes(relative);
    if entries
        .get(&key)
        .is_some_and(|e| !matches!(e.kind, Kind::Folder))
    {
        return Ok(());
    }
    let full = workdir.join(relative);
    let meta = std::fs::symlink_metadata(&full).map_err(io(&full))?;
    let refuse = |reason: &str| ArtifactError::Refused {
        path: relative.to_string_lossy().into_owned(),
        reason: reason.to_string(),
    };
    if meta.mode() & 0o7000 != 0 {
        return Err(refuse(
            "it has the setuid, setgid or sticky bit; remove it (chmod) before storing",
        ));
    }
    let file_type = meta.file_type();
    let kind = if file_type.is_dir() {
        Kind::Folder
    } else if file_type.is_file() {
        Kind::File {
            size: meta.len(),
            sha256: String::new(),
        }
    } else if file_type.is_symlink() {
        let target = std::fs::read_link(&full).map_err(io(&full))?;
        Kind::Link {
            target: target.as_os_str().as_bytes().to_vec(),
        }
    } else {
        return Err(refuse(
            "it is a FIFO, a socket or a device; only files, folders and links are stored",
        ));
    };
    let is_folder = kind == Kind::Folder;
    entries.insert(
        key,
        Entry {
            kind,
            mode: meta.mode(),
        },
    );
    if is_folder {
        let mut children: Vec<PathBuf> = std::fs::read_dir(&full)
            .map_err(io(&full))?
            .map(|e| e.map(|e| relative.join(e.file_name())))
            .collect::<Result<_, _>>()
            .map_err(io(&full))?;
        children.sort();
        for child in children {
            if !excluded.is_some_and(|x| child.starts_with(x)) {
                add_tree(workdir, &child, excluded, entries)?;
            }
        }
    }
    Ok(())
}

/// Every link must point, relative to its folder, at another entry of the artifact.
fn check_links(manifest: &Manifest) -> Result<(), ArtifactError> {
    for (path, entry) in &manifest.entries {
        let Kind::Link { target } = &entry.kind else {
            continue;
        };
        let mut resolved: Vec<&[u8]> = path.split(|b| *b == b'/').collect();
        resolved.pop();
        let mut inside = !target.starts_with(b"/") && !target.is_empty();
        for part in target.split(|b| *b == b'/') {
            match part {
                b"" | b"." => {}
                b".." => inside &= resolved.pop().is_some(),
                part => resolved.push(part),
            }
        }
        let resolved = resolved.join(&b'/');
        if !inside || !manifest.entries.contains_key(&resolved) {
            return Err(ArtifactError::Refused {
                path: escape(path),
                reason: format!(
                    "it is a link to `{}`, which is not part of the artifact",
                    escape(target)
                ),
            });
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ consumers

/// Gives a consumer its private copy of `stored` at `dest` (replacing whatever is there):
/// every entry of the store is hashed while it is copied, and the copy's manifest must be the
/// one recorded — an added, removed or changed file is an error with both digests.
pub fn fetch_for_consumer(stored: &StoredArtifact, dest: &Path) -> Result<(), ArtifactError> {
    remove_tree(dest)?;
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    std::fs::create_dir(dest).map_err(io(dest))?;
    let mut found = Manifest::default();
    copy_listing(&stored.path, dest, Path::new(""), &mut found)?;
    compare(stored, &found, "the stored copy")
}

/// Lists a consumer's copy again (a deploy's, after it ran): `Err` with both digests when a
/// file was added, removed or changed.
pub fn verify_copy(stored: &StoredArtifact, copy: &Path) -> Result<(), ArtifactError> {
    let found = list(copy)?;
    compare(stored, &found, "the job's copy")
}

/// Lists the stored copy itself against its manifest (for a supervisor or `cdl verify`).
#[allow(dead_code)]
pub fn verify_store(stored: &StoredArtifact) -> Result<(), ArtifactError> {
    let found = list(&stored.path)?;
    compare(stored, &found, "the stored copy")
}

fn compare(stored: &StoredArtifact, found: &Manifest, what: &str) -> Result<(), ArtifactError> {
    let digest = found.digest();
    if digest == stored.digest {
        return Ok(());
    }
    let differences = recorded_manifest(stored)
        .map(|recorded| recorded.differences(found))
        .unwrap_or_default();
    Err(ArtifactError::Changed {
        what: what.to_string(),
        recorded: stored.digest.clone(),
        found: digest,
        differences,
    })
}

/// The manifest kept beside the stored folder, when its digest is still the artifact's.
fn recorded_manifest(stored: &StoredArtifact) -> Option<Manifest> {
    let dir = stored.path.parent()?;
    let text = std::fs::read_to_string(manifest_file(dir, &stored.digest)).ok()?;
    let manifest = Manifest::parse(&text)?;
    (manifest.digest() == stored.digest).then_some(manifest)
}

/// The manifest of what is under `root` now (`lstat`, links not followed).
pub fn list(root: &Path) -> Result<Manifest, ArtifactError> {
    let mut manifest = Manifest::default();
    list_into(root, Path::new(""), &mut manifest)?;
    Ok(manifest)
}

fn list_into(root: &Path, relative: &Path, manifest: &mut Manifest) -> Result<(), ArtifactError> {
    let dir = root.join(relative);
    for child in sorted_children(&dir)? {
        let relative = relative.join(&child);
        let full = root.join(&relative);
        let meta = std::fs::symlink_metadata(&full).map_err(io(&full))?;
        let kind = if meta.file_type().is_dir() {
            Kind::Folder
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&full).map_err(io(&full))?;
            Kind::Link {
                target: target.as_os_str().as_bytes().to_vec(),
            }
        } else if meta.file_type().is_file() {
            let (size, sha256) = hash_file(&full)?;
            Kind::File { size, sha256 }
        } else {
            // A FIFO or a device: listed with a digest no file has, so it is a change.
            Kind::File {
                size: 0,
                sha256: "not-a-file".into(),
            }
        };
        let is_folder = kind == Kind::Folder;
        manifest.entries.insert(
            path_bytes(&relative),
            Entry {
                kind,
                mode: meta.mode() & MODE_BITS,
            },
        );
        if is_folder {
            list_into(root, &relative, manifest)?;
        }
    }
    Ok(())
}

/// Copies the store's tree into `dest` while listing and hashing it; the copy is writable by
/// its owner (write bits are not part of an artifact).
fn copy_listing(
    source_root: &Path,
    dest_root: &Path,
    relative: &Path,
    manifest: &mut Manifest,
) -> Result<(), ArtifactError> {
    let dir = source_root.join(relative);
    for child in sorted_children(&dir)? {
        let relative = relative.join(&child);
        let source = source_root.join(&relative);
        let dest = dest_root.join(&relative);
        let meta = std::fs::symlink_metadata(&source).map_err(io(&source))?;
        let mode = meta.mode() & MODE_BITS;
        let kind = if meta.file_type().is_dir() {
            std::fs::create_dir(&dest).map_err(io(&dest))?;
            Kind::Folder
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&source).map_err(io(&source))?;
            std::os::unix::fs::symlink(&target, &dest).map_err(io(&dest))?;
            Kind::Link {
                target: target.as_os_str().as_bytes().to_vec(),
            }
        } else if meta.file_type().is_file() {
            let (size, sha256) = copy_hashing(&source, &dest)?;
            Kind::File { size, sha256 }
        } else {
            Kind::File {
                size: 0,
                sha256: "not-a-file".into(),
            }
        };
        let is_folder = kind == Kind::Folder;
        manifest
            .entries
            .insert(path_bytes(&relative), Entry { kind, mode });
        if is_folder {
            copy_listing(source_root, dest_root, &relative, manifest)?;
        }
        if !matches!(
            manifest.entries[&path_bytes(&relative)].kind,
            Kind::Link { .. }
        ) && dest.exists()
        {
            set_mode(&dest, (mode & 0o777) | 0o200)?;
        }
    }
    Ok(())
}

fn sorted_children(dir: &Path) -> Result<Vec<std::ffi::OsString>, ArtifactError> {
    let mut names: Vec<std::ffi::OsString> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .map_err(io(dir))?;
    names.sort();
    Ok(names)
}

// ------------------------------------------------------------------ files

/// Copies a file (never through a link: the source is opened with `O_NOFOLLOW`), returning
/// the size and SHA-256 of the bytes written. Not flushed: the store is flushed once, with
/// `syncfs`, and a consumer's copy is made again if lost.
fn copy_hashing(source: &Path, dest: &Path) -> Result<(u64, String), ArtifactError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut input = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(source)
        .map_err(io(source))?;
    let mut output = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
        .map_err(io(dest))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = input.read(&mut buffer).map_err(io(source))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        super::fault::write_all(super::fault::Place::Artifact, &mut output, &buffer[..n])
            .map_err(io(dest))?;
        size += n as u64;
        if size == n as u64 && n == buffer.len() {
            // After the first 64 KiB of a file longer than that: mid-copy.
            crate::failpoint!("artifact-copy");
        }
    }
    Ok((size, hex(&hasher.finalize())))
}

fn hash_file(path: &Path) -> Result<(u64, String), ArtifactError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((size, hex(&hasher.finalize())))
}

/// Flushes the file system holding `path` to disk (`syncfs`).
fn sync_file_system(path: &Path) -> Result<(), ArtifactError> {
    use std::os::fd::AsRawFd;
    let folder = std::fs::File::open(path).map_err(io(path))?;
    // SAFETY: a valid, open file descriptor for the duration of the call.
    if unsafe { libc::syncfs(folder.as_raw_fd()) } != 0 {
        return Err(io(path)(std::io::Error::last_os_error()));
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), ArtifactError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io(path))
}

/// Adds the owner's write bit to every folder under `path`, so that it can be removed.
fn make_writable(path: &Path) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if meta.file_type().is_dir() {
        let _ = std::fs::set_permissions(
            path,
            std::fs::Permissions::from_mode((meta.mode() & 0o777) | 0o700),
        );
        if let Ok(entries) = std::fs::read_dir(path) {
            for entry in entries.flatten() {
                make_writable(&entry.path());
            }
        }
    }
}

/// Removes a tree that may hold read-only folders; nothing there is fine.
pub fn remove_tree(path: &Path) -> Result<(), ArtifactError> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(());
    }
    make_writable(path);
    let meta = std::fs::symlink_metadata(path).map_err(io(path))?;
    if meta.file_type().is_dir() {
        std::fs::remove_dir_all(path).map_err(io(path))
    } else {
        std::fs::remove_file(path).map_err(io(path))
    }
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), ArtifactError> {
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    file.write_all(bytes).map_err(io(path))?;
    file.as_file().sync_data().map_err(io(path))?;
    file.persist(path).map_err(|e| ArtifactError::Io {
        path: path.to_path_buf(),
        error: e.error.to_string(),
    })?;
    Ok(())
}

#[cfg(test)]
#[path = "artifacts_tests.rs"]
mod tests;
