//! Trusted roots: the media type, then each section's instances paired old to new.

use super::{
    Change, ChangeKind, Reformat, change, diff_extra, diff_opt_str, diff_window, pair, push_reformat, reorder_note,
    upper_first, window_words,
};
use crate::sigstore::keys;
use crate::sigstore::trusted_root::{CertificateAuthority, Section, TransparencyLogInstance, TrustedRoot};

/// Diffs two trusted roots.
pub fn diff_trusted_roots(old: &TrustedRoot, new: &TrustedRoot) -> Vec<Change> {
    let mut out = Vec::new();
    let mut rf = Reformat::default();
    if old.media_type != new.media_type {
        let to_v02 = new.is_v02() && !old.is_v02();
        out.push(change(
            ChangeKind::Changed,
            "$.mediaType".into(),
            format!(
                "Media type changed from {} to {}.{}",
                old.media_type.as_deref().unwrap_or("none"),
                new.media_type.as_deref().unwrap_or("none"),
                if to_v02 {
                    " Deployed clients read only the legacy v0.1 media type; publish v0.2 as a separate target."
                } else {
                    ""
                }
            ),
            to_v02,
        ));
    }
    diff_extra("The trusted root", "$", &old.extra, &new.extra, &mut out);
    for section in Section::ALL {
        if section.is_log() {
            diff_logs(section, old.logs(section), new.logs(section), &mut out, &mut rf);
        } else {
            diff_authorities(
                section,
                old.authorities(section),
                new.authorities(section),
                &mut out,
                &mut rf,
            );
        }
    }
    push_reformat(rf, &mut out);
    out
}

/// The log instances of one section, paired by log ID, then by key.
fn diff_logs(
    section: Section,
    o: &[TransparencyLogInstance],
    n: &[TransparencyLogInstance],
    out: &mut Vec<Change>,
    rf: &mut Reformat,
) {
    let field = section.field();
    let (pairs, removed, added) = pair(
        o,
        n,
        |l| l.log_id.as_ref().and_then(|i| i.key_id.clone()),
        |l| l.public_key.as_ref().and_then(|k| k.raw_bytes.clone()),
    );
    for i in removed {
        out.push(change(
            ChangeKind::Removed,
            format!("$.{field}[{i}]"),
            format!(
                "Removed {}, {}. Signatures and entries that rely on it can no longer be verified; retire instances instead of removing them.",
                log_words(section, &o[i]),
                window_words(o[i].public_key.as_ref().and_then(|k| k.valid_for.as_ref()))
            ),
            true,
        ));
    }
    for &j in &added {
        out.push(added_log(section, o, &n[j], j));
    }
    for &(i, j) in &pairs {
        diff_log(section, &o[i], &n[j], j, out, rf);
    }
    reorder_note(field, section.noun(), &pairs, out);
}

/// An added log; attention when it is the first key of a type deployed clients may not parse.
fn added_log(section: Section, o: &[TransparencyLogInstance], l: &TransparencyLogInstance, j: usize) -> Change {
    let kd = l
        .public_key
        .as_ref()
        .and_then(|k| k.key_details.as_deref())
        .unwrap_or("");
    let new_type = kd.starts_with("PKIX_ED25519") || kd.starts_with("ML_DSA") || kd.starts_with("LMS");
    let had_type = o
        .iter()
        .any(|x| x.public_key.as_ref().and_then(|k| k.key_details.as_deref()) == Some(kd));
    let attention = new_type && !had_type;
    change(
        ChangeKind::Added,
        format!("$.{}[{j}]", section.field()),
        format!(
            "Added {}, {}.{}",
            log_words(section, l),
            window_words(l.public_key.as_ref().and_then(|k| k.valid_for.as_ref())),
            if attention {
                format!(
                    " It is the first {} key of this list: deployed clients may not parse it, so it should go to staging first.",
                    keys::describe_key_details(kd)
                )
            } else {
                String::new()
            }
        ),
        attention,
    )
}

/// One log present in both versions, `b` at index `j` of the new list.
fn diff_log(
    section: Section,
    a: &TransparencyLogInstance,
    b: &TransparencyLogInstance,
    j: usize,
    out: &mut Vec<Change>,
    rf: &mut Reformat,
) {
    let what = log_name(section, b);
    let p = format!("$.{}[{j}]", section.field());
    let aid = a.log_id.as_ref().and_then(|x| x.key_id.as_deref());
    let bid = b.log_id.as_ref().and_then(|x| x.key_id.as_deref());
    if aid != bid {
        out.push(change(
            ChangeKind::Changed,
            format!("{p}.logId.keyId"),
            format!(
                "{} {}: log ID changed from {} to {} (same key). Clients look entries up by log ID: entries under the old ID no longer match.",
                upper_first(section.noun()),
                b.base_url.as_deref().unwrap_or("(no baseUrl)"),
                aid.unwrap_or("none"),
                bid.unwrap_or("none")
            ),
            true,
        ));
    }
    diff_opt_str(
        &what,
        "baseUrl",
        &p,
        a.base_url.as_deref(),
        b.base_url.as_deref(),
        out,
        false,
    );
    diff_opt_str(
        &what,
        "hashAlgorithm",
        &p,
        a.hash_algorithm.as_deref(),
        b.hash_algorithm.as_deref(),
        out,
        true,
    );
    diff_opt_str(
        &what,
        "operator",
        &p,
        a.operator.as_deref(),
        b.operator.as_deref(),
        out,
        false,
    );
    let ac = a.checkpoint_key_id.as_ref().and_then(|x| x.key_id.as_deref());
    let bc = b.checkpoint_key_id.as_ref().and_then(|x| x.key_id.as_deref());
    diff_opt_str(&what, "checkpointKeyId", &p, ac, bc, out, false);
    let (ak, bk) = (a.public_key.as_ref(), b.public_key.as_ref());
    let pk = format!("{p}.publicKey");
    diff_opt_str(
        &what,
        "rawBytes",
        &pk,
        ak.and_then(|k| k.raw_bytes.as_deref()),
        bk.and_then(|k| k.raw_bytes.as_deref()),
        out,
        true,
    );
    diff_opt_str(
        &what,
        "keyDetails",
        &pk,
        ak.and_then(|k| k.key_details.as_deref()),
        bk.and_then(|k| k.key_details.as_deref()),
        out,
        true,
    );
    diff_window(
        &what,
        &format!("{pk}.validFor"),
        ak.and_then(|k| k.valid_for.as_ref()),
        bk.and_then(|k| k.valid_for.as_ref()),
        out,
        rf,
    );
    diff_extra(&what, &p, &a.extra, &b.extra, out);
}

/// The certificate or timestamp authorities of one section, paired by certificate chain.
fn diff_authorities(
    section: Section,
    o: &[CertificateAuthority],
    n: &[CertificateAuthority],
    out: &mut Vec<Change>,
    rf: &mut Reformat,
) {
    let field = section.field();
    let (pairs, removed, added) = pair(o, n, |a| Some(chain_set(a)).filter(|v| !v.is_empty()), |_| None::<()>);
    for i in removed {
        out.push(change(
            ChangeKind::Removed,
            format!("$.{field}[{i}]"),
            format!(
                "Removed {}, {}. Signatures {} by it can no longer be verified; retire instances instead of removing them.",
                ca_words(section, &o[i]),
                window_words(o[i].valid_for.as_ref()),
                if section == Section::TimestampAuthorities { "timestamped" } else { "certified" }
            ),
            true,
        ));
    }
    for &j in &added {
        out.push(change(
            ChangeKind::Added,
            format!("$.{field}[{j}]"),
            format!(
                "Added {}, {}.",
                ca_words(section, &n[j]),
                window_words(n[j].valid_for.as_ref())
            ),
            false,
        ));
    }
    for &(i, j) in &pairs {
        diff_authority(section, &o[i], &n[j], j, out, rf);
    }
    reorder_note(field, section.noun(), &pairs, out);
}

/// One authority present in both versions, `b` at index `j` of the new list.
fn diff_authority(
    section: Section,
    a: &CertificateAuthority,
    b: &CertificateAuthority,
    j: usize,
    out: &mut Vec<Change>,
    rf: &mut Reformat,
) {
    let what = format!(
        "{} {} ({})",
        upper_first(section.noun()),
        b.uri.as_deref().unwrap_or("(no uri)"),
        ca_subject(b)
    );
    let p = format!("$.{}[{j}]", section.field());
    diff_opt_str(&what, "uri", &p, a.uri.as_deref(), b.uri.as_deref(), out, false);
    diff_opt_str(
        &what,
        "operator",
        &p,
        a.operator.as_deref(),
        b.operator.as_deref(),
        out,
        false,
    );
    if a.subject != b.subject {
        out.push(change(
            ChangeKind::Changed,
            format!("{p}.subject"),
            format!("{what}: subject changed from {} to {}.", ca_subject(a), ca_subject(b)),
            false,
        ));
    }
    if chain_list(a) != chain_list(b) {
        out.push(change(
            ChangeKind::Reordered,
            format!("{p}.certChain.certificates"),
            format!("{what}: the same certificates, listed in another order."),
            false,
        ));
    }
    diff_window(
        &what,
        &format!("{p}.validFor"),
        a.valid_for.as_ref(),
        b.valid_for.as_ref(),
        out,
        rf,
    );
    diff_extra(&what, &p, &a.extra, &b.extra, out);
}

fn log_words(section: Section, l: &TransparencyLogInstance) -> String {
    let kd = l
        .public_key
        .as_ref()
        .and_then(|k| k.key_details.as_deref())
        .unwrap_or("");
    format!(
        "{} {} ({}, log ID {})",
        section.noun(),
        l.base_url.as_deref().unwrap_or("(no baseUrl)"),
        keys::describe_key_details(kd),
        l.log_id.as_ref().and_then(|i| i.key_id.as_deref()).unwrap_or("none")
    )
}

fn log_name(section: Section, l: &TransparencyLogInstance) -> String {
    let id = l.log_id.as_ref().and_then(|i| i.key_id.as_deref()).unwrap_or("none");
    format!(
        "{} {} (log ID {})",
        upper_first(section.noun()),
        l.base_url.as_deref().unwrap_or("(no baseUrl)"),
        id
    )
}

fn ca_subject(a: &CertificateAuthority) -> String {
    match &a.subject {
        Some(s) => format!(
            "O={}, CN={}",
            s.organization.as_deref().unwrap_or(""),
            s.common_name.as_deref().unwrap_or("")
        ),
        None => "no subject".into(),
    }
}

fn ca_words(section: Section, a: &CertificateAuthority) -> String {
    let n = a
        .cert_chain
        .as_ref()
        .and_then(|c| c.certificates.as_ref())
        .map_or(0, Vec::len);
    format!(
        "{} {} ({}, chain of {n} certificate{})",
        section.noun(),
        a.uri.as_deref().unwrap_or("(no uri)"),
        ca_subject(a),
        if n == 1 { "" } else { "s" }
    )
}

fn chain_set(a: &CertificateAuthority) -> Vec<String> {
    let mut v: Vec<String> = a
        .cert_chain
        .as_ref()
        .and_then(|c| c.certificates.as_ref())
        .map(|c| c.iter().filter_map(|x| x.raw_bytes.clone()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn chain_list(a: &CertificateAuthority) -> Vec<Option<String>> {
    a.cert_chain
        .as_ref()
        .and_then(|c| c.certificates.as_ref())
        .map(|c| c.iter().map(|x| x.raw_bytes.clone()).collect())
        .unwrap_or_default()
}
