//! Delegation resolution without I/O: which roles may sign for a target path, and in
//! which order a client visits them (spec 5.6.7: pre-order depth-first, in the order the
//! delegator lists its roles, stopping at terminating roles).

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use crate::metadata::{DelegatedRole, Delegations, SuccinctRoles, TargetFile, Targets};
use crate::names::RoleName;

/// Shell-style match of one path segment (`*`, `?`, `[seq]`, `[!seq]`), as Python's
/// `fnmatch.fnmatchcase`; case-sensitive.
fn segment_matches(text: &[char], pattern: &[char]) -> bool {
    let (mut t, mut p) = (0usize, 0usize);
    // Position to resume from after the last `*`: (pattern index after it, text index).
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        let step = match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p + 1, t));
                p += 1;
                continue;
            }
            Some('?') => Some(1),
            Some('[') => match match_class(text[t], &pattern[p..]) {
                Some((true, width)) => Some(width),
                Some((false, _)) => None,
                None => (text[t] == '[').then_some(1),
            },
            Some(c) => (*c == text[t]).then_some(1),
            None => None,
        };
        match step {
            Some(width) => {
                t += 1;
                p += width;
            }
            None => match backtrack {
                Some((bp, bt)) => {
                    p = bp;
                    t = bt + 1;
                    backtrack = Some((bp, bt + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// Matches `c` against a `[...]` class at the start of `pattern`. Returns whether it
/// matched and the class's width, or `None` when the `[` opens no class (it is literal).
fn match_class(c: char, pattern: &[char]) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(pattern.get(i), Some('!'));
    if negate {
        i += 1;
    }
    let start = i;
    let mut matched = false;
    while i < pattern.len() {
        if pattern[i] == ']' && i > start {
            return Some((matched != negate, i + 1));
        }
        if i + 2 < pattern.len() && pattern[i + 1] == '-' && pattern[i + 2] != ']' {
            if pattern[i] <= c && c <= pattern[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if pattern[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

/// True when `target` matches the delegation path `pattern`: both split on `/` into the
/// same number of segments, each matched shell-style (so `*` never matches a `/`).
pub fn path_matches(pattern: &str, target: &str) -> bool {
    let pattern_parts: Vec<&str> = pattern.split('/').collect();
    let target_parts: Vec<&str> = target.split('/').collect();
    if pattern_parts.len() != target_parts.len() {
        return false;
    }
    pattern_parts.iter().zip(&target_parts).all(|(p, t)| {
        let p: Vec<char> = p.chars().collect();
        let t: Vec<char> = t.chars().collect();
        segment_matches(&t, &p)
    })
}

fn target_hash(target: &str) -> [u8; 32] {
    Sha256::digest(target.as_bytes()).into()
}

impl DelegatedRole {
    /// True when this role is trusted for `target`: by `paths`, or by
    /// `path_hash_prefixes` on the sha256 of the path. A role with neither is trusted for
    /// nothing.
    pub fn is_delegated_path(&self, target: &str) -> bool {
        self.is_delegated(target, &std::cell::OnceCell::new())
    }

    /// [`Self::is_delegated_path`] with the hex sha256 of `target` computed at most once
    /// for all the roles asked (256 hashed bins would otherwise hash the path 256 times).
    fn is_delegated(&self, target: &str, digest: &std::cell::OnceCell<String>) -> bool {
        if let Some(paths) = &self.paths {
            return paths.iter().any(|p| path_matches(p, target));
        }
        if let Some(prefixes) = &self.path_hash_prefixes {
            let digest = digest.get_or_init(|| hex::encode(target_hash(target)));
            return prefixes.iter().any(|p| digest.starts_with(p.as_str()));
        }
        false
    }
}

impl SuccinctRoles {
    /// Number of bins.
    pub fn bin_count(&self) -> u64 {
        1u64 << self.bit_length.min(32)
    }

    fn suffix_width(&self) -> usize {
        format!("{:x}", self.bin_count() - 1).len()
    }

    /// The name of bin `index`.
    pub fn bin_name(&self, index: u64) -> String {
        format!("{}-{:0width$x}", self.name_prefix, index, width = self.suffix_width())
    }

    /// The bin responsible for `target`, found directly from the path's hash.
    pub fn bin_for_target(&self, target: &str) -> String {
        let digest = target_hash(target);
        let first = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        let index = u64::from(first) >> (32 - self.bit_length.min(32));
        self.bin_name(index)
    }

    /// True when `name` is one of this delegation's bins.
    pub fn is_bin(&self, name: &str) -> bool {
        let Some(suffix) = name.strip_prefix(&self.name_prefix).and_then(|s| s.strip_prefix('-')) else {
            return false;
        };
        suffix.len() == self.suffix_width()
            && suffix.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            && u64::from_str_radix(suffix, 16).is_ok_and(|i| i < self.bin_count())
    }

    /// Every bin name, in order.
    pub fn bin_names(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.bin_count()).map(|i| self.bin_name(i))
    }
}

impl Delegations {
    /// How many roles this delegation names: its listed roles, or its number of bins.
    pub fn child_count(&self) -> u64 {
        match (&self.roles, &self.succinct_roles) {
            (Some(roles), _) => roles.len() as u64,
            (None, Some(succinct)) => succinct.bin_count(),
            (None, None) => 0,
        }
    }

    /// Every role this delegation names, in delegation order: the listed roles, or every
    /// hashed bin. Lazy, since a succinct delegation may name up to 2^32 bins: check
    /// [`Self::child_count`] against a limit before collecting.
    pub fn children(&self) -> impl Iterator<Item = String> + '_ {
        let listed = self.roles.iter().flatten().map(|r| r.name.clone());
        // Metadata with both is refused when parsed; a hand-built value lists roles first.
        let bins = self.succinct_roles.iter().flat_map(SuccinctRoles::bin_names);
        listed.chain(bins)
    }

    /// The key IDs and threshold this delegation gives to `name`, if it delegates to it.
    pub fn role_keys(&self, name: &str) -> Option<(&[String], u64)> {
        if let Some(roles) = &self.roles {
            return roles
                .iter()
                .find(|r| r.name == name)
                .map(|r| (r.keyids.as_slice(), r.threshold));
        }
        if let Some(succinct) = &self.succinct_roles
            && succinct.is_bin(name)
        {
            return Some((succinct.keyids.as_slice(), succinct.threshold));
        }
        None
    }

    /// The roles to consult for `target`, in order, each with whether it is terminating.
    /// Succinct bins yield exactly one role, which terminates the search.
    pub fn roles_for_target(&self, target: &str) -> Vec<(String, bool)> {
        if let Some(roles) = &self.roles {
            let digest = std::cell::OnceCell::new();
            return roles
                .iter()
                .filter(|r| r.is_delegated(target, &digest))
                .map(|r| (r.name.clone(), r.terminating))
                .collect();
        }
        if let Some(succinct) = &self.succinct_roles {
            return vec![(succinct.bin_for_target(target), true)];
        }
        Vec::new()
    }
}

/// Role lists at least this long are indexed: below it, scanning the list is as fast.
const INDEXED_FROM: usize = 16;

/// An index of a delegating role's list of roles by `path_hash_prefixes`, so a lookup
/// costs one hash map probe per distinct prefix length instead of a scan of every role
/// (256 hashed bins: 256 prefix comparisons per target otherwise). Roles trusted by
/// `paths` patterns are still matched one by one, in order. The answer is exactly that
/// of [`Delegations::roles_for_target`].
#[derive(Debug, Clone, Default)]
pub struct DelegationIndex {
    /// Role positions by hash prefix, each list in delegation order.
    by_prefix: HashMap<String, Vec<usize>>,
    /// The distinct prefix lengths, in bytes (a prefix longer than a digest never matches).
    prefix_lengths: Vec<usize>,
    /// Roles matched by `paths` patterns, in delegation order.
    by_pattern: Vec<usize>,
}

impl DelegationIndex {
    /// The index of `delegations`' listed roles, when it has enough of them to be worth it.
    pub fn build(delegations: &Delegations) -> Option<DelegationIndex> {
        let roles = delegations.roles.as_ref().filter(|r| r.len() >= INDEXED_FROM)?;
        let mut index = DelegationIndex::default();
        for (position, role) in roles.iter().enumerate() {
            // The same precedence as `is_delegated`: `paths` first, when present.
            if role.paths.is_some() {
                index.by_pattern.push(position);
                continue;
            }
            for prefix in role.path_hash_prefixes.iter().flatten() {
                let at = index.by_prefix.entry(prefix.clone()).or_default();
                // A role listing one prefix twice is still visited once.
                if at.last() != Some(&position) {
                    at.push(position);
                }
            }
        }
        let mut lengths: Vec<usize> = index.by_prefix.keys().map(String::len).collect();
        lengths.sort_unstable();
        lengths.dedup();
        index.prefix_lengths = lengths;
        Some(index)
    }

    /// The positions of the roles trusted for `target`, in delegation order.
    fn matching(&self, roles: &[DelegatedRole], target: &str) -> Vec<usize> {
        let mut found = Vec::new();
        if !self.by_prefix.is_empty() {
            let digest = hex::encode(target_hash(target));
            for &length in &self.prefix_lengths {
                if let Some(positions) = digest.get(..length).and_then(|p| self.by_prefix.get(p)) {
                    found.extend_from_slice(positions);
                }
            }
        }
        found.extend(
            self.by_pattern
                .iter()
                .copied()
                .filter(|&position| roles[position].paths.iter().flatten().any(|p| path_matches(p, target))),
        );
        found.sort_unstable();
        found.dedup();
        found
    }
}

impl Delegations {
    /// [`Self::roles_for_target`] through `index` (built from these delegations by
    /// [`DelegationIndex::build`]), or by scanning when there is none.
    pub fn roles_for_target_indexed(&self, target: &str, index: Option<&DelegationIndex>) -> Vec<(String, bool)> {
        match (index, &self.roles) {
            (Some(index), Some(roles)) => index
                .matching(roles, target)
                .into_iter()
                .map(|position| (roles[position].name.clone(), roles[position].terminating))
                .collect(),
            _ => self.roles_for_target(target),
        }
    }
}

/// A role the search wants to look into, and the role that delegated to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleToVisit {
    pub name: RoleName,
    pub delegator: RoleName,
}

/// The search for one target through the delegation graph, driven by the caller:
///
/// ```text
/// let mut search = TargetSearch::new(path, limits.max_delegations);
/// while let Some(role) = search.next_role() {
///     let targets = /* make sure `role` is loaded and verified, get its Targets */;
///     if let Some(target) = search.visit(&role, targets) { return Some(target) }
/// }
/// ```
///
/// Roles already visited are skipped (cycles), a terminating role ends backtracking, and
/// at most `max_roles` roles are visited.
#[derive(Debug, Clone)]
pub struct TargetSearch {
    target: String,
    stack: Vec<RoleToVisit>,
    visited: HashSet<RoleName>,
    max_roles: usize,
}

impl TargetSearch {
    pub fn new(target: &str, max_roles: usize) -> Self {
        TargetSearch {
            target: target.to_string(),
            stack: vec![RoleToVisit {
                name: RoleName::new("targets"),
                delegator: RoleName::new("root"),
            }],
            visited: HashSet::new(),
            max_roles,
        }
    }

    /// The next role to load and visit, or `None` when the search is over.
    pub fn next_role(&mut self) -> Option<RoleToVisit> {
        while self.visited.len() < self.max_roles {
            let role = self.stack.pop()?;
            if !self.visited.contains(&role.name) {
                return Some(role);
            }
        }
        None
    }

    /// True when the search stopped at the bound on visited roles with roles left.
    pub fn hit_limit(&self) -> bool {
        self.visited.len() >= self.max_roles && !self.stack.is_empty()
    }

    /// Looks for the target in `targets` (the metadata of `role`); if it is not there,
    /// queues the roles it delegates the path to.
    pub fn visit(&mut self, role: &RoleToVisit, targets: &Targets) -> Option<TargetFile> {
        self.visit_indexed(role, targets, None)
    }

    /// [`Self::visit`], with the roles `targets` delegates to found through `index` (see
    /// [`DelegationIndex::build`]).
    pub fn visit_indexed(
        &mut self,
        role: &RoleToVisit,
        targets: &Targets,
        index: Option<&DelegationIndex>,
    ) -> Option<TargetFile> {
        if let Some(found) = targets.targets.get(&self.target) {
            return Some(found.clone());
        }
        self.visited.insert(role.name.clone());
        if let Some(delegations) = &targets.delegations {
            let mut children = Vec::new();
            for (name, terminating) in delegations.roles_for_target_indexed(&self.target, index) {
                children.push(RoleToVisit {
                    name: RoleName::new(name),
                    delegator: role.name.clone(),
                });
                if terminating {
                    self.stack.clear();
                    break;
                }
            }
            self.stack.extend(children.into_iter().rev());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_patterns_match_segment_by_segment() {
        assert!(path_matches("*", "file.txt"));
        assert!(!path_matches("*", "dir/file.txt"));
        assert!(path_matches("dir/*", "dir/file.txt"));
        assert!(path_matches("*/*.txt", "dir/file.txt"));
        assert!(!path_matches("dir/*.txt", "dir/file.json"));
        assert!(path_matches("f?le.txt", "file.txt"));
        assert!(!path_matches("f?le.txt", "fle.txt"));
        assert!(path_matches("[a-c]x", "bx"));
        assert!(!path_matches("[!a-c]x", "bx"));
        assert!(path_matches("a*b*c", "aXXbYYc"));
        assert!(!path_matches("a*b*c", "aXXbYY"));
        assert!(path_matches("[x", "[x"));
        assert!(!path_matches("File.txt", "file.txt"));
        assert!(path_matches("", ""));
    }

    #[test]
    fn children_are_the_listed_roles_or_every_bin() {
        let succinct = SuccinctRoles {
            keyids: vec![],
            threshold: 1,
            bit_length: 2,
            name_prefix: "bin".to_string(),
            unknown: Default::default(),
        };
        let bins = Delegations {
            keys: Default::default(),
            roles: None,
            succinct_roles: Some(succinct),
            unknown: Default::default(),
        };
        assert_eq!(bins.child_count(), 4);
        assert_eq!(
            bins.children().collect::<Vec<_>>(),
            ["bin-0", "bin-1", "bin-2", "bin-3"]
        );
        let none = Delegations {
            succinct_roles: None,
            ..bins
        };
        assert_eq!(none.child_count(), 0);
        assert_eq!(none.children().count(), 0);
    }

    fn hashed_role(name: &str, prefixes: &[&str], terminating: bool) -> DelegatedRole {
        DelegatedRole {
            name: name.to_string(),
            keyids: vec![],
            threshold: 1,
            terminating,
            paths: None,
            path_hash_prefixes: Some(prefixes.iter().map(|p| p.to_string()).collect()),
            unknown: Default::default(),
        }
    }

    #[test]
    fn the_prefix_index_answers_exactly_as_the_scan() {
        // 256 bins of one prefix each, plus roles of other shapes mixed in: a longer
        // prefix, an empty one (trusted for everything), a prefix no digest has, and a
        // role trusted by a pattern.
        let mut roles: Vec<DelegatedRole> = (0..256)
            .map(|i| hashed_role(&format!("bin-{i:02x}"), &[&format!("{i:02x}")], false))
            .collect();
        roles.insert(3, hashed_role("long", &["a1b", "00", "00"], false));
        roles.insert(40, hashed_role("all", &[""], false));
        roles.insert(
            41,
            hashed_role(
                "never",
                &[
                    "XY",
                    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
                ],
                true,
            ),
        );
        roles.insert(
            7,
            DelegatedRole {
                paths: Some(vec!["dir/*".to_string()]),
                path_hash_prefixes: Some(vec!["ff".to_string()]),
                ..hashed_role("pattern", &[], true)
            },
        );
        let delegations = Delegations {
            keys: Default::default(),
            roles: Some(roles),
            succinct_roles: None,
            unknown: Default::default(),
        };
        let index = DelegationIndex::build(&delegations).expect("enough roles to index");
        for i in 0..2000 {
            let target = if i % 3 == 0 {
                format!("dir/{i}.txt")
            } else {
                format!("{i}/file")
            };
            assert_eq!(
                delegations.roles_for_target_indexed(&target, Some(&index)),
                delegations.roles_for_target(&target),
                "{target}"
            );
        }
    }

    #[test]
    fn short_role_lists_are_not_indexed() {
        let delegations = Delegations {
            keys: Default::default(),
            roles: Some(vec![hashed_role("a", &["0"], false)]),
            succinct_roles: None,
            unknown: Default::default(),
        };
        assert!(DelegationIndex::build(&delegations).is_none());
    }

    #[test]
    fn succinct_bins_are_found_from_the_path_hash() {
        let roles = SuccinctRoles {
            keyids: vec![],
            threshold: 1,
            bit_length: 8,
            name_prefix: "bin".to_string(),
            unknown: Default::default(),
        };
        assert_eq!(roles.bin_count(), 256);
        assert_eq!(roles.bin_name(0), "bin-00");
        assert_eq!(roles.bin_name(255), "bin-ff");
        let digest = target_hash("a.txt");
        let expected = format!("bin-{:02x}", digest[0]);
        assert_eq!(roles.bin_for_target("a.txt"), expected);
        assert!(roles.is_bin("bin-ff"));
        assert!(!roles.is_bin("bin-100"));
        assert!(!roles.is_bin("bin-FF"));
        assert!(!roles.is_bin("other-00"));
    }
}
