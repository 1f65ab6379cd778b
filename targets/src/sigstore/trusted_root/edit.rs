//! The edits trustroot makes to a trusted root: `add-tlog`/`add-ctlog`, `add-ca`/`add-tsa`
//! and `retire`.

use chrono::{DateTime, Utc};
use serde_json::Map;

use super::{
    AuthorityParams, CertChain, CertificateAuthority, DistinguishedName, LogId, LogIdKind, LogParams, Notes, PublicKey,
    Section, TimeRange, TransparencyLogInstance, TrustedRoot, TrustedRootEdit, X509Certificate, file_name,
};
use crate::sigstore::certs::{self, ChainOrder, ParsedCert};
use crate::sigstore::keys::{self, KeyKind};
use crate::sigstore::{EditError, PayloadError, time};

fn check_operator(root: &TrustedRoot, operator: &Option<String>) -> Result<(), PayloadError> {
    if operator.is_some() && !root.is_v02() {
        return Err(EditError::OperatorNeedsV02 {
            media_type: root.media_type.clone(),
        }
        .into());
    }
    Ok(())
}

impl TrustedRootEdit for TrustedRoot {
    /// Adds a transparency log (`Section::Tlogs`) or CT log (`Section::Ctlogs`), computing
    /// its log ID and key details. Returns the index it got and notes.
    fn add_log(&mut self, section: Section, p: &LogParams) -> Result<(usize, Notes), PayloadError> {
        if !section.is_log() {
            return Err(EditError::NotALogSection.into());
        }
        check_operator(self, &p.operator)?;
        let mut notes = Notes::new();
        if p.base_url.trim().is_empty() {
            return Err(EditError::EmptyLogUrl.into());
        }
        if !keys::HASH_ALGORITHMS.contains(&p.hash_algorithm.as_str()) {
            return Err(EditError::UnknownHashAlgorithm {
                name: p.hash_algorithm.clone(),
            }
            .into());
        }
        check_window(p.start, p.end)?;
        let details = match &p.key_details {
            Some(d) => {
                keys::parse_raw(&p.key.raw, d)?;
                d.clone()
            }
            None => keys::default_key_details(&p.key.key.kind, p.key.pkcs1)?.to_string(),
        };
        let (log_id, checkpoint) = match p.log_id {
            LogIdKind::Spki => (keys::spki_log_id(&p.key.key.spki_der), None),
            LogIdKind::Checkpoint => {
                if section != Section::Tlogs {
                    return Err(EditError::CheckpointForCtLog.into());
                }
                let KeyKind::Ed25519(raw) = &p.key.key.kind else {
                    return Err(EditError::CheckpointNeedsEd25519 {
                        kind: p.key.key.kind.describe(),
                    }
                    .into());
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
            return Err(EditError::DuplicateLog {
                path: format!("$.{}[{i}]", section.field()),
                log_id: log_id_b64,
                url: list[i].base_url.clone(),
            }
            .into());
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
    fn add_authority(&mut self, section: Section, p: &AuthorityParams) -> Result<(usize, Notes), PayloadError> {
        if section.is_log() {
            return Err(EditError::NotAnAuthoritySection.into());
        }
        check_operator(self, &p.operator)?;
        check_window(p.start, p.end)?;
        let mut notes = Notes::new();
        if p.chain.is_empty() {
            return Err(EditError::EmptyChain.into());
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
            return Err(EditError::DuplicateChain {
                path: format!("$.{}[{i}]", section.field()),
            }
            .into());
        }
        let list = self.authorities_mut(section);
        let at = insert_position(list.iter().map(|a| a.valid_for.as_ref()), p.start);
        list.insert(at, inst);
        Ok((at, notes))
    }

    /// Ends the validity window of instance `index` of `section` at `end`; an end already
    /// set is moved (a broken date fixed, a retirement put off or brought forward).
    fn retire(&mut self, section: Section, index: usize, end: DateTime<Utc>) -> Result<Retired, PayloadError> {
        let path = format!("$.{}[{index}]", section.field());
        let vf = match section {
            Section::Tlogs | Section::Ctlogs => self
                .logs_mut(section)
                .get_mut(index)
                .ok_or_else(|| EditError::NoSuchInstance { path: path.clone() })?
                .public_key
                .get_or_insert_with(PublicKey::default)
                .valid_for
                .get_or_insert_with(TimeRange::default),
            _ => self
                .authorities_mut(section)
                .get_mut(index)
                .ok_or_else(|| EditError::NoSuchInstance { path: path.clone() })?
                .valid_for
                .get_or_insert_with(TimeRange::default),
        };
        let retired = match &vf.end {
            None => Retired::Ended,
            Some(old) => Retired::Moved {
                from: old.clone(),
                back_in_time: time::parse(old).is_ok_and(|(o, _)| end < o),
            },
        };
        if let Some(start) = vf.start.as_deref() {
            let (s, _) = time::parse(start).map_err(|reason| EditError::UnreadableStart {
                path: path.clone(),
                reason,
            })?;
            if end < s {
                return Err(EditError::EndBeforeWindowStart {
                    end,
                    start: start.to_string(),
                }
                .into());
            }
        }
        vf.end = Some(time::format(&end));
        Ok(retired)
    }

    /// Every instance's key or chain as PEM: (suggested file name, PEM text).
    fn extract_all(&self) -> Result<Vec<(String, String)>, PayloadError> {
        let mut out = Vec::new();
        for s in Section::ALL {
            let n = if s.is_log() {
                self.logs(s).len()
            } else {
                self.authorities(s).len()
            };
            for i in 0..n {
                out.push(self.extract(s, i)?);
            }
        }
        Ok(out)
    }

    /// One instance's key (logs) or chain (authorities) as PEM, with a suggested file name.
    fn extract(&self, section: Section, index: usize) -> Result<(String, String), PayloadError> {
        let path = format!("$.{}[{index}]", section.field());
        let missing = |what: &str| PayloadError::Missing {
            field: format!("{path}{what}"),
        };
        if section.is_log() {
            let l = self
                .logs(section)
                .get(index)
                .ok_or_else(|| EditError::NoSuchInstance { path: path.clone() })?;
            let pk = l.public_key.as_ref().ok_or_else(|| missing(".publicKey"))?;
            let raw = pk.raw_bytes.as_deref().ok_or_else(|| missing(".publicKey.rawBytes"))?;
            let raw = keys::decode_b64(raw).map_err(|reason| PayloadError::Base64 {
                field: format!("{path}.publicKey.rawBytes"),
                reason,
            })?;
            let details = pk.key_details.as_deref().unwrap_or("");
            let name = file_name(section, index, l.base_url.as_deref());
            Ok((name, keys::key_to_pem(&raw, details)?))
        } else {
            let a = self
                .authorities(section)
                .get(index)
                .ok_or_else(|| EditError::NoSuchInstance { path: path.clone() })?;
            let certs = a
                .cert_chain
                .as_ref()
                .and_then(|c| c.certificates.as_ref())
                .ok_or_else(|| missing(".certChain.certificates"))?;
            let ders = certs
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    let raw = c
                        .raw_bytes
                        .as_deref()
                        .ok_or_else(|| missing(&format!(".certChain.certificates[{j}].rawBytes")))?;
                    keys::decode_b64(raw).map_err(|reason| PayloadError::Base64 {
                        field: format!("{path}.certChain.certificates[{j}].rawBytes"),
                        reason,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let name = file_name(section, index, a.uri.as_deref());
            Ok((name, certs::certs_to_pem(&ders)?))
        }
    }
}

/// What [`TrustedRootEdit::retire`] did to a window's end.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retired {
    /// The window had no end: it now ends at the time given.
    Ended,
    /// The window's end was moved from `from` (as it was written) to the time given;
    /// `back_in_time` when the new end is earlier (what was signed in between by this
    /// instance stops verifying).
    Moved { from: String, back_in_time: bool },
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
        return Err(EditError::EndBeforeStart { end, start }.into());
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
        ChainOrder::Broken(e) => Err(PayloadError::Chain(e)),
    }
}

/// The window against the chain: it must not outlast any certificate; starting before
/// every certificate is valid is only noted.
fn check_chain_dates(chain: &[&ParsedCert], p: &AuthorityParams, notes: &mut Notes) -> Result<(), PayloadError> {
    let latest_nb = chain.iter().map(|c| c.not_before).max().unwrap_or(p.start);
    let earliest_na = chain.iter().map(|c| c.not_after).min().unwrap_or(p.start);
    if p.start > earliest_na {
        return Err(EditError::StartAfterChainExpiry {
            start: p.start,
            expiry: earliest_na,
        }
        .into());
    }
    if let Some(end) = p.end
        && end > earliest_na
    {
        return Err(EditError::EndAfterChainExpiry {
            end,
            expiry: earliest_na,
        }
        .into());
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
