//! Reading a bundle without trusting it: its members one by one, each a plain file with a
//! safe name within the limits, its content read through a bound.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::repositories::{REPOSITORIES_MANIFEST, REPOSITORIES_PREFIX};
use super::{BundleFile, BundleLimits, Hashing, MANIFEST_NAME, TREE_PREFIX, ZSTD_MAGIC, refused};
use crate::error::{BundleProblem, UpdateError};
use crate::tree_path::TreePath;

/// Opens a bundle, transparently decompressing zstd.
fn open_bundle(bundle: &Path) -> Result<Box<dyn Read>, UpdateError> {
    let mut file = std::fs::File::open(bundle).map_err(|e| UpdateError::io(bundle, e))?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(|e| UpdateError::io(bundle, e))?;
    use std::io::Seek as _;
    file.rewind().map_err(|e| UpdateError::io(bundle, e))?;
    if n == 4 && magic == ZSTD_MAGIC {
        let decoder = ruzstd::decoding::StreamingDecoder::new(std::io::BufReader::new(file))
            .map_err(|e| refused(bundle, BundleProblem::NotZstd { reason: e.to_string() }))?;
        Ok(Box::new(decoder))
    } else {
        Ok(Box::new(std::io::BufReader::new(file)))
    }
}

/// What a bundle holds, and so how its members are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Naming {
    /// One repository: its served tree under [`TREE_PREFIX`], then [`MANIFEST_NAME`].
    Tree,
    /// Named repositories: each one's own bundle as `repositories/NAME.tar`, then
    /// [`REPOSITORIES_MANIFEST`].
    Repositories,
}

/// One member of a bundle as [`for_each_member`] hands it over: a plain file with a safe
/// name, its size as the header declares it (checked against the limits).
pub(super) struct Member {
    /// The member's name: [`MANIFEST_NAME`], or a path under [`TREE_PREFIX`].
    pub name: String,
    /// The path in the served tree (empty for the manifest); for a bundle of named
    /// repositories, `NAME.tar`.
    pub relative: String,
    pub declared: u64,
}

impl Member {
    pub fn is_target(&self) -> bool {
        self.relative.starts_with("targets/")
    }
}

/// Goes through a bundle's members in order, refusing links, devices, unsafe or duplicate
/// names, members after the manifest, and members over the limits, and hands each plain
/// file to `visit` with a reader of its content. `visit` returns false to stop early.
pub(super) fn for_each_member(
    bundle: &Path,
    limits: &BundleLimits,
    naming: Naming,
    mut visit: impl FnMut(&Member, &mut dyn Read) -> Result<bool, UpdateError>,
) -> Result<(), UpdateError> {
    let mut archive = tar::Archive::new(open_bundle(bundle)?);
    // Raw entries: the tar crate would read a GNU long-name or PAX record into memory
    // whatever size it declares (a zstd bomb of a few kilobytes can declare gigabytes), so
    // those records come to us, are size-checked first, and name the member after them.
    let entries = archive
        .entries()
        .map_err(|e| refused(bundle, BundleProblem::NotTar { reason: e.to_string() }))?
        .raw(true);
    let mut admission = Admission {
        bundle,
        limits,
        naming,
        seen: BTreeSet::new(),
        manifest_seen: false,
        total: 0,
    };
    let mut long_name: Option<String> = None;
    for entry in entries {
        let mut entry = entry.map_err(|e| refused(bundle, BundleProblem::Damaged { reason: e.to_string() }))?;
        let kind = entry.header().entry_type();
        if kind.is_gnu_longname() || kind.is_pax_local_extensions() {
            if long_name.is_some() {
                return Err(refused(bundle, BundleProblem::TwoNameRecords));
            }
            long_name = Some(name_record(bundle, &mut entry)?);
            continue;
        }
        if kind.is_gnu_longlink() || kind.is_pax_global_extensions() {
            return Err(refused(
                bundle,
                BundleProblem::ExtensionRecord {
                    kind: format!("{kind:?}"),
                },
            ));
        }
        let name = match long_name.take().filter(|n| !n.is_empty()) {
            Some(name) => name,
            None => String::from_utf8(entry.path_bytes().into_owned())
                .map_err(|_| refused(bundle, BundleProblem::NameNotUtf8))?,
        };
        if kind.is_dir() {
            continue;
        }
        // The header's size: a PAX `size` record is refused in `name_record`.
        let member = admission.admit(name, kind, entry.size())?;
        if !visit(&member, &mut (&mut entry).take(member.declared))? {
            return Ok(());
        }
    }
    Ok(())
}

/// The checks each member of a bundle passes before it is handed over, with what they
/// remember of the members before it.
struct Admission<'a> {
    bundle: &'a Path,
    limits: &'a BundleLimits,
    naming: Naming,
    /// Every member name so far.
    seen: BTreeSet<String>,
    manifest_seen: bool,
    /// The declared sizes so far, added up.
    total: u64,
}

impl Admission<'_> {
    /// The member called `name`, of `kind` and `declared` bytes, if it may be read: a
    /// plain file, before the manifest, named once, within the limits, and named either
    /// [`MANIFEST_NAME`] or a safe path under [`TREE_PREFIX`].
    fn admit(&mut self, name: String, kind: tar::EntryType, declared: u64) -> Result<Member, UpdateError> {
        let (bundle, limits) = (self.bundle, self.limits);
        if !kind.is_file() {
            return Err(refused(
                bundle,
                BundleProblem::NotPlainFile {
                    name,
                    kind: format!("{kind:?}"),
                },
            ));
        }
        if self.manifest_seen {
            return Err(refused(bundle, BundleProblem::AfterManifest { name }));
        }
        if self.seen.contains(&name) {
            return Err(refused(bundle, BundleProblem::Duplicate { name }));
        }
        self.seen.insert(name.clone());
        if self.seen.len() > limits.max_files {
            return Err(refused(
                bundle,
                BundleProblem::TooManyMembers {
                    limit: limits.max_files,
                },
            ));
        }
        if declared > limits.max_file_size {
            return Err(refused(
                bundle,
                BundleProblem::MemberTooLarge {
                    name,
                    size: declared,
                    limit: limits.max_file_size,
                },
            ));
        }
        self.total = self.total.saturating_add(declared);
        if self.total > limits.max_total_size {
            return Err(refused(
                bundle,
                BundleProblem::TotalTooLarge {
                    limit: limits.max_total_size,
                },
            ));
        }
        let relative = match self.naming {
            Naming::Tree if name == MANIFEST_NAME => {
                self.manifest_seen = true;
                String::new()
            }
            Naming::Repositories if name == REPOSITORIES_MANIFEST => {
                self.manifest_seen = true;
                String::new()
            }
            Naming::Tree => tree_member(bundle, &name)?,
            Naming::Repositories => repository_member(bundle, &name)?,
        };
        Ok(Member {
            name,
            relative,
            declared,
        })
    }
}

/// The path in the served tree of member `name` of a one-repository bundle.
fn tree_member(bundle: &Path, name: &str) -> Result<String, UpdateError> {
    let Some(relative) = name.strip_prefix(TREE_PREFIX) else {
        let name = name.to_string();
        if name.starts_with(REPOSITORIES_PREFIX) || name == REPOSITORIES_MANIFEST {
            return Err(refused(bundle, BundleProblem::NamedRepositories { name }));
        }
        return Err(refused(bundle, BundleProblem::OutsideTree { name }));
    };
    if let Err(reason) = TreePath::new(relative) {
        return Err(refused(
            bundle,
            BundleProblem::UnsafeName {
                name: name.to_string(),
                reason,
            },
        ));
    }
    Ok(relative.to_string())
}

/// `NAME.tar` of member `repositories/NAME.tar` of a bundle of named repositories, the
/// name checked as every repository name is.
fn repository_member(bundle: &Path, name: &str) -> Result<String, UpdateError> {
    if name.starts_with(TREE_PREFIX) || name == MANIFEST_NAME {
        return Err(refused(bundle, BundleProblem::OneRepository { name: name.to_string() }));
    }
    let repository = name
        .strip_prefix(REPOSITORIES_PREFIX)
        .and_then(|rest| rest.strip_suffix(".tar"))
        .filter(|repository| crate::set::check_name(repository).is_ok());
    match repository {
        Some(repository) => Ok(format!("{repository}.tar")),
        None => Err(refused(
            bundle,
            BundleProblem::NotARepository { name: name.to_string() },
        )),
    }
}

/// Copies a member's content to `out` (or nowhere), hashing it; refuses a short member.
pub(super) fn copy_member(
    bundle: &Path,
    member: &Member,
    content: &mut dyn Read,
    out: &mut dyn Write,
) -> Result<BundleFile, UpdateError> {
    let mut reader = Hashing {
        inner: content,
        hasher: Sha256::new(),
        count: 0,
    };
    std::io::copy(&mut reader, out).map_err(|e| {
        refused(
            bundle,
            BundleProblem::MemberUnreadable {
                name: member.name.clone(),
                reason: e.to_string(),
            },
        )
    })?;
    if reader.count != member.declared {
        return Err(refused(
            bundle,
            BundleProblem::MemberTruncated {
                name: member.name.clone(),
                read: reader.count,
                declared: member.declared,
            },
        ));
    }
    Ok(BundleFile {
        length: reader.count,
        sha256: hex::encode(reader.hasher.finalize()),
    })
}

/// Writes a member into the unpacked tree at `into`, as a new file.
pub(super) fn write_member(
    bundle: &Path,
    into: &Path,
    member: &Member,
    content: &mut dyn Read,
) -> Result<BundleFile, UpdateError> {
    let destination = into.join(&member.relative);
    if let Some(parent) = destination.parent() {
        std::fs::create_dir_all(parent).map_err(|e| UpdateError::io(parent, e))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&destination)
        .map_err(|e| UpdateError::io(&destination, e))?;
    copy_member(bundle, member, content, &mut file)
}

/// Longest GNU long-name or PAX record accepted (names in a bundle are short).
const MAX_NAME_RECORD: u64 = 64 * 1024;

/// Reads a GNU long-name or PAX record (raw mode) after checking its size, and returns
/// the member name it gives (empty for a PAX record without `path`).
fn name_record<R: Read>(bundle: &Path, entry: &mut tar::Entry<'_, R>) -> Result<String, UpdateError> {
    let size = entry.size();
    if size > MAX_NAME_RECORD {
        return Err(refused(
            bundle,
            BundleProblem::NameRecordTooLarge {
                size,
                limit: MAX_NAME_RECORD,
            },
        ));
    }
    let mut bytes = Vec::new();
    entry
        .take(size)
        .read_to_end(&mut bytes)
        .map_err(|e| refused(bundle, BundleProblem::NameRecordTruncated { reason: e.to_string() }))?;
    if entry.header().entry_type().is_gnu_longname() {
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        return String::from_utf8(bytes).map_err(|_| refused(bundle, BundleProblem::NameNotUtf8));
    }
    let mut name = String::new();
    for record in tar::PaxExtensions::new(&bytes) {
        let record = record.map_err(|e| refused(bundle, BundleProblem::PaxRecordDamaged { reason: e.to_string() }))?;
        match record.key() {
            Ok("path") => {
                name = record
                    .value()
                    .map_err(|_| refused(bundle, BundleProblem::NameNotUtf8))?
                    .to_string();
            }
            Ok("size") => {
                return Err(refused(bundle, BundleProblem::PaxSizeRecord));
            }
            _ => {}
        }
    }
    Ok(name)
}
