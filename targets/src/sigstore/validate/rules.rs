//! Every rule of the linter in one table: its id, the part of a document it applies to,
//! and its check. The walkers find the parts (the document, each section, each instance,
//! each service list and service) and run the rules that apply to each, in table order,
//! so findings come in the same order every time. A check reports through [`Ctx`] and
//! records what later rules of the same part use (a parsed key, a chain's order).

use super::Ctx;
use super::authority::{self as ca, AuthorityPart};
use super::log::{self, LogPart};
use super::signing_config::{self as sc, ConfigDoc, ServiceListPart};
use super::trusted_root::{self as tr, RootDoc, SectionPart};

/// The part of a document a rule applies to, with the rule's check.
#[derive(Clone, Copy)]
pub(super) enum Check {
    /// The trusted root as a whole.
    TrustedRoot(fn(&mut Ctx, &mut RootDoc<'_>)),
    /// One section of the trusted root (`tlogs`, `certificateAuthorities`, ...).
    Section(fn(&mut Ctx, &mut SectionPart<'_>)),
    /// A transparency log or CT log instance.
    Log(fn(&mut Ctx, &mut LogPart<'_>)),
    /// A certificate authority or timestamp authority.
    Authority(fn(&mut Ctx, &mut AuthorityPart<'_>)),
    /// The signing config as a whole.
    SigningConfig(fn(&mut Ctx, &mut ConfigDoc<'_>)),
    /// One v0.2 service list of the signing config.
    ServiceList(fn(&mut Ctx, &mut ServiceListPart<'_>)),
    /// One service of a v0.2 service list (the list's service in focus).
    Service(fn(&mut Ctx, &mut ServiceListPart<'_>)),
}

/// A rule: an id, and the check of the part it applies to. The finding codes a check
/// reports are listed in its documentation where they differ from the id.
pub(super) struct Rule {
    pub id: &'static str,
    pub check: Check,
}

impl Check {
    /// The part of a document the rule applies to, in words.
    pub(super) fn applies_to(&self) -> &'static str {
        match self {
            Check::TrustedRoot(_) => "trusted root",
            Check::Section(_) => "trusted root section",
            Check::Log(_) => "transparency log or CT log",
            Check::Authority(_) => "certificate or timestamp authority",
            Check::SigningConfig(_) => "signing config",
            Check::ServiceList(_) => "signing config service list",
            Check::Service(_) => "signing config service",
        }
    }
}

const fn rule(id: &'static str, check: Check) -> Rule {
    Rule { id, check }
}

/// The rules, in the order they run on each part.
pub(super) const RULES: &[Rule] = &[
    // trusted_root.json
    rule("media-type", Check::TrustedRoot(tr::root_media_type)),
    rule("unknown-field", Check::TrustedRoot(tr::root_fields)),
    rule("sections", Check::TrustedRoot(tr::root_sections)),
    rule("no-ctlogs", Check::TrustedRoot(tr::root_ctlogs_for_cas)),
    // Each section.
    rule("section-present", Check::Section(tr::section_present)),
    rule("instances", Check::Section(tr::section_instances)),
    rule("not-sorted", Check::Section(tr::section_sorted)),
    rule("duplicate", Check::Section(tr::section_duplicates)),
    rule("open-ended-overlap", Check::Section(tr::section_open_ended)),
    rule("no-current-instance", Check::Section(tr::section_current)),
    // Each transparency log and CT log.
    rule("unknown-field", Check::Log(log::log_fields)),
    rule("base-url", Check::Log(log::log_base_url)),
    rule("hash-algorithm", Check::Log(log::log_hash_algorithm)),
    rule("operator", Check::Log(log::log_operator)),
    rule("public-key", Check::Log(log::log_key)),
    rule("log-id", Check::Log(log::log_log_id)),
    rule("checkpoint-key-id", Check::Log(log::log_checkpoint_key_id)),
    rule("window-ends-soon", Check::Log(log::log_as_of)),
    // Each certificate authority and timestamp authority.
    rule("unknown-field", Check::Authority(ca::authority_fields)),
    rule("subject", Check::Authority(ca::authority_subject)),
    rule("uri", Check::Authority(ca::authority_uri)),
    rule("operator", Check::Authority(ca::authority_operator)),
    rule("validity", Check::Authority(ca::authority_validity)),
    rule("certificate-chain", Check::Authority(ca::authority_chain)),
    rule("chain-order", Check::Authority(ca::authority_chain_order)),
    rule("anchor", Check::Authority(ca::authority_anchor)),
    rule("subject-mismatch", Check::Authority(ca::authority_subject_matches)),
    rule("tsa-eku", Check::Authority(ca::authority_tsa_eku)),
    rule(
        "window-within-certs",
        Check::Authority(ca::authority_window_within_certs),
    ),
    rule("certificates-as-of", Check::Authority(ca::authority_as_of)),
    // signing_config.json
    rule("media-type", Check::SigningConfig(sc::config_media_type)),
    rule("v01-services", Check::SigningConfig(sc::config_v01_services)),
    rule("unknown-field", Check::SigningConfig(sc::config_fields)),
    rule("service-lists", Check::SigningConfig(sc::config_service_lists)),
    rule("selection-config", Check::SigningConfig(sc::config_selection)),
    rule("not-in-trusted-root", Check::SigningConfig(sc::config_in_trusted_root)),
    // Each v0.2 service list.
    rule("services-present", Check::ServiceList(sc::services_present)),
    rule("services", Check::ServiceList(sc::services_each)),
    rule("not-sorted", Check::ServiceList(sc::services_sorted)),
    rule("no-current-instance", Check::ServiceList(sc::services_current)),
    // Each v0.2 service.
    rule("unknown-field", Check::Service(sc::service_fields)),
    rule("service-url", Check::Service(sc::service_url)),
    rule("api-version", Check::Service(sc::service_api_version)),
    rule("validity", Check::Service(sc::service_validity)),
    rule("operator", Check::Service(sc::service_operator_rule)),
    rule("duplicate", Check::Service(sc::service_duplicate)),
];

pub(super) fn run_trusted_root(cx: &mut Ctx, part: &mut RootDoc<'_>) {
    for r in RULES {
        if let Check::TrustedRoot(check) = r.check {
            check(cx, part);
        }
    }
}

pub(super) fn run_section(cx: &mut Ctx, part: &mut SectionPart<'_>) {
    for r in RULES {
        if let Check::Section(check) = r.check {
            check(cx, part);
        }
    }
}

pub(super) fn run_log(cx: &mut Ctx, part: &mut LogPart<'_>) {
    for r in RULES {
        if let Check::Log(check) = r.check {
            check(cx, part);
        }
    }
}

pub(super) fn run_authority(cx: &mut Ctx, part: &mut AuthorityPart<'_>) {
    for r in RULES {
        if let Check::Authority(check) = r.check {
            check(cx, part);
        }
    }
}

pub(super) fn run_signing_config(cx: &mut Ctx, part: &mut ConfigDoc<'_>) {
    for r in RULES {
        if let Check::SigningConfig(check) = r.check {
            check(cx, part);
        }
    }
}

pub(super) fn run_service_list(cx: &mut Ctx, part: &mut ServiceListPart<'_>) {
    for r in RULES {
        if let Check::ServiceList(check) = r.check {
            check(cx, part);
        }
    }
}

pub(super) fn run_service(cx: &mut Ctx, part: &mut ServiceListPart<'_>) {
    for r in RULES {
        if let Check::Service(check) = r.check {
            check(cx, part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Within one part, no two rules share an id: an id names one check.
    #[test]
    fn rule_ids_are_unique_per_part() {
        for (i, a) in RULES.iter().enumerate() {
            for b in &RULES[..i] {
                let same_part = std::mem::discriminant(&a.check) == std::mem::discriminant(&b.check);
                assert!(!(same_part && a.id == b.id), "rule {} twice", a.id);
            }
        }
    }
}
