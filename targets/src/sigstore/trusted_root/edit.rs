//! The edits trustroot makes to a trusted root: `add-tlog`/`add-ctlog`, `add-ca`/`add-tsa`
//! and `retire`.

use chrono::{DateTime, Utc};
use serde_json::Map;

use super::{
    AuthorityParams, CertChain, CertificateAuthority, DistinguishedName, LogId, LogIdKind, LogParams, Notes, PublicKey,
    Section, TimeRange, TransparencyLogInstance, TrustedRoot, X509Certificate,
};
use crate::sigstore::certs::{self, ChainOrder, ParsedCert};
use crate::sigstore::keys::{self, KeyKind};
use crate::sigstore::{PayloadError, TRUSTED_ROOT_MEDIA_TYPE_V02, time};

impl TrustedRoot {
    fn check_operator(&self, operator: &Option<String>) -> Result<(), PayloadError> {
        if operator.is_some() && !self.is_v02() {
            return Err(PayloadError::edit(format!(
                "`operator` needs the v0.2 media type ({TRUSTED_ROOT_MEDIA_TYPE_V02}); this file is {}. \
                 Deployed clients read the legacy media type only, so keep operators for a separate v0.2 file",
                self.media_type.as_deref().unwrap_or("without a media type")
            )));
        }
        Ok(())
    }

    /// Adds a transparency log (`Section::Tlogs`) or CT log (`Section::Ctlogs`), computing
    /// its log ID and key details. Returns the index it got and notes.
    pub fn add_log(&mut self, section: Section, p: &LogParams) -> Result<(usize, Notes), PayloadError> {
        if !section.is_log() {
            return Err(PayloadError::edit("add_log takes tlogs or ctlogs"));
        }
        self.check_operator(&p.operator)?;
        let mut notes = Notes::new();
        if p.base_url.trim().is_empty() {
            return Err(PayloadError::edit("the log URL is empty"));
        }
        if !keys::HASH_ALGORITHMS.contains(&p.hash_algorithm.as_str()) {
            return Err(PayloadError::edit(format!(
                "unknown hash algorithm `{}` (known: {})",
                p.hash_algorithm,
                keys::HASH_ALGORITHMS.join(", ")
            )));
        }
        check_window(p.start, p.end)?;
        let details = match &p.key_details {
            Some(d) => {
                keys::parse_raw(&p.key.raw, d).map_err(PayloadError::material)?;
                d.clone()
            }
            None => keys::default_key_details(&p.key.key.kind, p.key.pkcs1)
                .map_err(PayloadError::material)?
                .to_string(),
        };
        let (log_id, checkpoint) = match p.log_id {
            LogIdKind::Spki => (keys::spki_log_id(&p.key.key.spki_der), None),
            LogIdKind::Checkpoint => {
                if section != Section::Tlogs {
                    return Err(PayloadError::edit(
                        "checkpoint log IDs are for Rekor v2 transparency logs, not CT logs",
                    ));
                }
                let KeyKind::Ed25519(raw) = &p.key.key.kind else {
                    return Err(PayloadError::edit(format!(
                        "trustroot computes Rekor v2 checkpoint log IDs for Ed25519 keys; this key is {}",
                        p.key.key.kind.describe()
                    )));
                };
                let id = keys::checkpoint_log_id(keys::origin_of(&p.base_url), raw);
                let cp = self.is_v02().then(|| id[..4].to_vec());
                (id, cp)
            }
        };
        let log_id_b64 = keys::encode_b64(&log_id);
        let list = self.logs(section);
        if let Some(i) = list
            .iter()
            .position(|l| l.log_id.as_ref().and_then(|x| x.key_id.as_deref()) == Some(log_id_b64.as_str()))
        {
            return Err(PayloadError::edit(format!(
                "$.{}[{i}] already has log ID {log_id_b64} ({}); retire it or edit its dates instead of adding it twice",
                section.field(),
                list[i].base_url.as_deref().unwrap_or("no baseUrl")
            )));
        }
        if let Some(i) = list.iter().position(|l| {
            l.base_url.as_deref() == Some(p.base_url.as_str())
                && l.public_key
                    .as_ref()
                    .and_then(|k| k.valid_for.as_ref())
                    .is_some_and(|v| v.end.is_none())
        }) {
            notes.push(format!(
                "$.{}[{i}] has the same URL and is still open-ended; retire it with `retire` if the new key replaces it",
                section.field()
            ));
        }
        let inst = TransparencyLogInstance {
            base_url: Some(p.base_url.clone()),
            hash_algorithm: Some(p.hash_algorithm.clone()),
            public_key: Some(PublicKey {
                raw_bytes: Some(keys::encode_b64(&p.key.raw)),
                key_details: Some(details),
                valid_for: Some(window(p.start, p.end)),
                extra: Map::new(),
            }),
            log_id: Some(LogId {
                key_id: Some(log_id_b64),
                extra: Map::new(),
            }),
            checkpoint_key_id: checkpoint.map(|c| LogId {
                key_id: Some(keys::encode_b64(&c)),
                extra: Map::new(),
            }),
            operator: p.operator.clone(),
            extra: Map::new(),
        };
        let list = self.logs_mut(section);
        let at = insert_position(
            list.iter()
                .map(|l| l.public_key.as_ref().and_then(|k| k.valid_for.as_ref())),
            p.start,
        );
        list.insert(at, inst);
        Ok((at, notes))
    }

    /// Adds a certificate authority or timestamp authority from a certificate chain.
    pub fn add_authority(&mut self, section: Section, p: &AuthorityParams) -> Result<(usize, Notes), PayloadError> {
        if section.is_log() {
            return Err(PayloadError::edit(
                "add_authority takes certificateAuthorities or timestampAuthorities",
            ));
        }
        self.check_operator(&p.operator)?;
        check_window(p.start, p.end)?;
        let mut notes = Notes::new();
        if p.chain.is_empty() {
            return Err(PayloadError::edit("the certificate chain is empty"));
        }
        let chain = leaf_first(&p.chain, &mut notes)?;
        let anchor = chain[chain.len() - 1];
        if !anchor.self_signed() {
            notes.push(format!(
                "the last certificate ({}) is not self-signed: clients will trust it as an intermediate anchor",
                anchor.subject
            ));
        }
        check_chain_dates(&chain, p, &mut notes)?;
        if section == Section::TimestampAuthorities && !chain[0].has_time_stamping_eku() {
            notes.push("the leaf certificate has no timeStamping extended key usage".into());
        }
        let inst = authority_record(&chain, p);
        let new_chain = &inst.cert_chain;
        if let Some(i) = self
            .authorities(section)
            .iter()
            .position(|a| &a.cert_chain == new_chain)
        {
            return Err(PayloadError::edit(format!(
                "$.{}[{i}] already has this certificate chain",
                section.field()
            )));
        }
        let list = self.authorities_mut(section);
        let at = insert_position(list.iter().map(|a| a.valid_for.as_ref()), p.start);
        list.insert(at, inst);
        Ok((at, notes))
    }

    /// Ends the validity window of instance `index` of `section` at `end`.
    pub fn retire(&mut self, section: Section, index: usize, end: DateTime<Utc>) -> Result<Notes, PayloadError> {
        let path = format!("$.{}[{index}]", section.field());
        let vf = match section {
            Section::Tlogs | Section::Ctlogs => self
                .logs_mut(section)
                .get_mut(index)
                .ok_or_else(|| PayloadError::edit(format!("{path} does not exist")))?
                .public_key
                .get_or_insert_with(PublicKey::default)
                .valid_for
                .get_or_insert_with(TimeRange::default),
            _ => self
                .authorities_mut(section)
                .get_mut(index)
                .ok_or_else(|| PayloadError::edit(format!("{path} does not exist")))?
                .valid_for
                .get_or_insert_with(TimeRange::default),
        };
        if let Some(old) = &vf.end {
            return Err(PayloadError::edit(format!(
                "{path} is already retired (its window ends {old}); trustroot does not move an end that was published"
            )));
        }
        if let Some(start) = vf.start.as_deref() {
            let (s, _) = time::parse(start).map_err(|e| PayloadError::edit(format!("{path}: {e}")))?;
            if end < s {
                return Err(PayloadError::edit(format!(
                    "the end {} is before the window's start {start}",
                    time::format(&end)
                )));
            }
        }
        vf.end = Some(time::format(&end));
        Ok(Notes::new())
    }
}

fn window(start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> TimeRange {
    TimeRange {
        start: Some(time::format(&start)),
        end: end.map(|e| time::format(&e)),
        extra: Map::new(),
    }
}

fn check_window(start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> Result<(), PayloadError> {
    if let Some(end) = end
        && end < start
    {
        return Err(PayloadError::edit(format!(
            "the end {} is before the start {}",
            time::format(&end),
            time::format(&start)
        )));
    }
    Ok(())
}

/// Where to insert an instance so the list stays sorted by `validFor.start` (after equal
/// starts, and after instances whose start cannot be read).
fn insert_position<'a>(ranges: impl Iterator<Item = Option<&'a TimeRange>>, start: DateTime<Utc>) -> usize {
    let mut at = 0;
    for (i, r) in ranges.enumerate() {
        let s = r
            .and_then(|r| r.start.as_deref())
            .and_then(|s| time::parse(s).ok())
            .map(|(t, _)| t);
        match s {
            Some(t) if t > start => {}
            _ => at = i + 1,
        }
    }
    at
}

/// The chain leaf-most first, with a note when it was given in another order.
fn leaf_first<'a>(given: &'a [ParsedCert], notes: &mut Notes) -> Result<Vec<&'a ParsedCert>, PayloadError> {
    match certs::chain_order(given) {
        ChainOrder::AsListed => Ok(given.iter().collect()),
        ChainOrder::Reordered(order) => {
            notes.push(format!(
                "the certificates were given in another order; they are recorded leaf-most first (given order indices {order:?})"
            ));
            Ok(order.iter().map(|&i| &given[i]).collect())
        }
        ChainOrder::Broken(e) => Err(PayloadError::material(format!(
            "the certificates do not form a chain in any order: {e}"
        ))),
    }
}

/// The window against the chain: it must not outlast any certificate; starting before
/// every certificate is valid is only noted.
fn check_chain_dates(chain: &[&ParsedCert], p: &AuthorityParams, notes: &mut Notes) -> Result<(), PayloadError> {
    let latest_nb = chain.iter().map(|c| c.not_before).max().unwrap_or(p.start);
    let earliest_na = chain.iter().map(|c| c.not_after).min().unwrap_or(p.start);
    if p.start > earliest_na {
        return Err(PayloadError::edit(format!(
            "the start {} is after a certificate in the chain expires ({})",
            time::format(&p.start),
            time::format(&earliest_na)
        )));
    }
    if let Some(end) = p.end
        && end > earliest_na
    {
        return Err(PayloadError::edit(format!(
            "the end {} is after a certificate in the chain expires ({}); end the window by then",
            time::format(&end),
            time::format(&earliest_na)
        )));
    }
    if p.start < latest_nb {
        notes.push(format!(
            "the start {} is before a certificate in the chain becomes valid ({})",
            time::format(&p.start),
            time::format(&latest_nb)
        ));
    }
    Ok(())
}

/// The authority as recorded: the anchor's subject unless `p` overrides it, the chain
/// leaf-most first.
fn authority_record(chain: &[&ParsedCert], p: &AuthorityParams) -> CertificateAuthority {
    let anchor = chain[chain.len() - 1];
    let (org, cn) = match &p.subject {
        Some(s) => s.clone(),
        None => (
            anchor.subject.organization.clone().filter(|s| !s.is_empty()),
            anchor.subject.common_name.clone().filter(|s| !s.is_empty()),
        ),
    };
    CertificateAuthority {
        subject: Some(DistinguishedName {
            organization: org,
            common_name: cn,
            extra: Map::new(),
        }),
        uri: p.uri.clone(),
        cert_chain: Some(CertChain {
            certificates: Some(
                chain
                    .iter()
                    .map(|c| X509Certificate {
                        raw_bytes: Some(keys::encode_b64(&c.der)),
                        extra: Map::new(),
                    })
                    .collect(),
            ),
            extra: Map::new(),
        }),
        valid_for: Some(window(p.start, p.end)),
        operator: p.operator.clone(),
        extra: Map::new(),
    }
}
