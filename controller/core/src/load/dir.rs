//! Reading a document directory: every document file below it, in order, minus what its
//! ignore file leaves out.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::{IGNORE_FILE_NAME, SourceFile, Unreadable};
use crate::config::CONFIG_FILE_NAME;

/// Why a directory could not be read at all (a file that is not UTF-8 or too large is read, as
/// [`SourceFile::unreadable`]).
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}")]
pub struct ReadError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// Whether a file name is one a document set is read from.
pub fn is_document_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")
}

/// Reads every `.yaml`, `.yml` and `.json` file under `root` (or `root` itself when it is a
/// file), in path order. Skips hidden entries, the controller config file, and what the root's
/// `.ecs-topology-ignore` lists (one pattern a line, `#` comments; a pattern with no `/` matches a
/// name at any depth, one ending in `/` only directories; `*` matches within a name).
///
/// A file larger than `max_file_bytes` is not read, and a file that is not UTF-8 is kept as
/// such: both come back as [`SourceFile::unreadable`], for loading to report.
///
/// # Errors
/// A directory or file that cannot be read (missing, no permission, an I/O error).
pub fn read_dir_files(root: &Path, max_file_bytes: u64) -> Result<Vec<SourceFile>, ReadError> {
    let err = |path: &Path, source| ReadError {
        path: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(root).map_err(|e| err(root, e))?;
    if meta.is_file() {
        return Ok(vec![
            read_file(root, max_file_bytes).map_err(|e| err(root, e))?,
        ]);
    }
    let ignore = match std::fs::read_to_string(root.join(IGNORE_FILE_NAME)) {
        Ok(text) => IgnoreList::parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => IgnoreList::default(),
        Err(e) => return Err(err(&root.join(IGNORE_FILE_NAME), e)),
    };
    let mut paths = Vec::new();
    walk(root, root, &ignore, &mut paths).map_err(|(p, e)| err(&p, e))?;
    paths.sort();
    paths
        .into_iter()
        .map(|path| read_file(&path, max_file_bytes).map_err(|e| err(&path, e)))
        .collect()
}

/// One file, read only when it is at most `max_bytes` long.
fn read_file(path: &Path, max_bytes: u64) -> Result<SourceFile, std::io::Error> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > max_bytes {
        return Ok(SourceFile::unreadable(
            name,
            Unreadable::too_large(size, max_bytes),
        ));
    }
    // Read at most one byte past the limit, should the file have grown since.
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or_default());
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > max_bytes {
        let size = std::fs::metadata(path)?.len().max(max_bytes + 1);
        return Ok(SourceFile::unreadable(
            name,
            Unreadable::too_large(size, max_bytes),
        ));
    }
    Ok(SourceFile::from_bytes(name, bytes, max_bytes))
}

fn walk(
    root: &Path,
    dir: &Path,
    ignore: &IgnoreList,
    out: &mut Vec<PathBuf>,
) -> Result<(), (PathBuf, std::io::Error)> {
    let entries = std::fs::read_dir(dir).map_err(|e| (dir.to_owned(), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| (dir.to_owned(), e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let is_dir = entry.file_type().map_err(|e| (path.clone(), e))?.is_dir();
        if ignore.matches(&relative, is_dir) {
            continue;
        }
        if is_dir {
            walk(root, &path, ignore, out)?;
        } else if is_document_file(&name) && name != CONFIG_FILE_NAME {
            out.push(path);
        }
    }
    Ok(())
}

/// The patterns of an ignore file.
#[derive(Debug, Clone, Default)]
pub(super) struct IgnoreList {
    patterns: Vec<(String, bool)>,
}

impl IgnoreList {
    pub(super) fn parse(text: &str) -> IgnoreList {
        let patterns = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let dir_only = l.ends_with('/');
                (l.trim_matches('/').to_owned(), dir_only)
            })
            .collect();
        IgnoreList { patterns }
    }

    pub(super) fn matches(&self, relative: &str, is_dir: bool) -> bool {
        self.patterns.iter().any(|(pattern, dir_only)| {
            if *dir_only && !is_dir {
                return false;
            }
            if pattern.contains('/') {
                glob_path(pattern, relative)
            } else {
                relative
                    .rsplit('/')
                    .next()
                    .is_some_and(|name| glob(pattern, name))
            }
        })
    }
}

fn glob_path(pattern: &str, path: &str) -> bool {
    let p: Vec<_> = pattern.split('/').collect();
    let s: Vec<_> = path.split('/').collect();
    p.len() == s.len() && p.iter().zip(&s).all(|(p, s)| glob(p, s))
}

/// `*` matches any run of characters, `?` one character.
fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}
