//! The signing certificate: issued by a certificate authority of the trusted root, for a
//! code-signing leaf, naming the key's identity and issuer exactly.

use chrono::{DateTime, Utc};
use x509_cert::Certificate;
use x509_cert::der::Decode;
use x509_cert::der::asn1::Utf8StringRef;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{KeyUsage, SubjectAltName};
use x509_cert::spki::ObjectIdentifier;

use super::trust::{Authority, SigstoreTrust, window_contains};
use super::{Refusal, Step};
use crate::display::escape;
use crate::keys::KeylessIdentity;
use crate::sigstore::certs::{ParsedCert, parse_cert};

const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const OID_KP_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// Fulcio's legacy OIDC issuer extension: the issuer URL as raw bytes.
const OID_ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
/// Fulcio's OIDC issuer extension: a DER UTF8String.
const OID_ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// A SAN OtherName Fulcio uses for identities that are neither emails nor URIs.
const OID_SAN_OTHER_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");

/// The bundle's leaf certificate, parsed twice: for the chain checks and for extensions.
pub(super) struct Leaf {
    pub cert: ParsedCert,
    pub x509: Certificate,
}

impl Leaf {
    pub fn parse(der: &[u8]) -> Result<Self, Refusal> {
        let refuse = |e: &dyn std::fmt::Display| Refusal::new(Step::Bundle, format!("the certificate: {e}"));
        Ok(Leaf {
            cert: parse_cert(der).map_err(|e| refuse(&e))?,
            x509: Certificate::from_der(der).map_err(|e| refuse(&e))?,
        })
    }

    fn extension(&self, oid: ObjectIdentifier) -> Option<&[u8]> {
        self.x509
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == oid)
            .map(|e| e.extn_value.as_bytes())
    }
}

/// Finds the certificate authority of `trust` that issued the leaf and whose window and
/// chain are valid at `time`; returns it (the SCT check needs the issuer's key).
pub(super) fn check_chain<'t>(
    trust: &'t SigstoreTrust,
    leaf: &Leaf,
    time: DateTime<Utc>,
) -> Result<&'t Authority, Refusal> {
    if leaf.cert.is_ca {
        return Err(Refusal::new(Step::Chain, "the signing certificate is a CA certificate"));
    }
    if !leaf.cert.ekus.contains(&OID_KP_CODE_SIGNING) {
        return Err(Refusal::new(
            Step::Chain,
            "the signing certificate is not for code signing",
        ));
    }
    let digital_signature = leaf
        .extension(OID_KEY_USAGE)
        .and_then(|v| KeyUsage::from_der(v).ok())
        .is_some_and(|ku| ku.digital_signature());
    if !digital_signature {
        return Err(Refusal::new(
            Step::Chain,
            "the signing certificate's key usage lacks digitalSignature",
        ));
    }
    let issuers: Vec<&Authority> = trust
        .authorities
        .iter()
        .filter(|a| {
            a.chain
                .first()
                .is_some_and(|issuer| leaf.cert.signed_by(issuer).is_ok())
        })
        .collect();
    if issuers.is_empty() {
        return Err(Refusal::new(
            Step::Chain,
            format!(
                "no certificate authority of the trusted root issued the certificate (issuer {})",
                escape(&leaf.cert.issuer.to_string())
            ),
        ));
    }
    let Some(authority) = issuers.iter().find(|a| window_contains(&a.window, time)) else {
        let a = issuers[0];
        return Err(Refusal::new(
            Step::CaWindow,
            format!(
                "the certificate was issued by {}, whose window is {} to {}, but was used at {time}",
                escape(&a.name),
                a.window.start,
                a.window.end.map_or("no end".to_string(), |e| e.to_string())
            ),
        ));
    };
    if let Some(expired) = authority
        .chain
        .iter()
        .find(|c| time < c.not_before || time > c.not_after)
    {
        return Err(Refusal::new(
            Step::Chain,
            format!(
                "the CA certificate {} is not valid at {time}",
                escape(&expired.subject.to_string())
            ),
        ));
    }
    if authority.chain.iter().any(|c| !c.is_ca) {
        return Err(Refusal::new(
            Step::Chain,
            "a certificate of the CA's chain is not a CA certificate",
        ));
    }
    Ok(authority)
}

/// Checks that the certificate names `who`: the identity among its SAN emails, URIs and
/// Fulcio OtherNames, and the OIDC issuer extension, both byte for byte.
pub(super) fn check_identity(leaf: &Leaf, who: &KeylessIdentity) -> Result<(), Refusal> {
    let names = san_names(leaf)?;
    if !names.contains(&who.identity) {
        return Err(Refusal::new(
            Step::Identity,
            format!(
                "the certificate is not for {}: it names {}",
                escape(&who.identity),
                if names.is_empty() {
                    "no identity".to_string()
                } else {
                    escape(&names.join(", ")).into_owned()
                },
            ),
        ));
    }
    let v1 = leaf
        .extension(OID_ISSUER_V1)
        .map(|raw| String::from_utf8(raw.to_vec()).map_err(|_| "the legacy OIDC issuer extension is not UTF-8"))
        .transpose();
    let v2 = leaf
        .extension(OID_ISSUER_V2)
        .map(|der| {
            Utf8StringRef::from_der(der)
                .map(|s| s.as_str().to_string())
                .map_err(|_| "the OIDC issuer extension is not a UTF8String")
        })
        .transpose();
    let (v1, v2) = (
        v1.map_err(|e| Refusal::new(Step::Issuer, e))?,
        v2.map_err(|e| Refusal::new(Step::Issuer, e))?,
    );
    let issuer = match (v1, v2) {
        (None, None) => return Err(Refusal::new(Step::Issuer, "the certificate names no OIDC issuer")),
        (Some(a), Some(b)) if a != b => {
            return Err(Refusal::new(
                Step::Issuer,
                format!("conflicting OIDC issuer extensions: {} and {}", escape(&a), escape(&b)),
            ));
        }
        (Some(a), _) | (None, Some(a)) => a,
    };
    if issuer != who.issuer {
        return Err(Refusal::new(
            Step::Issuer,
            format!(
                "the certificate's OIDC issuer is {}, not {}",
                escape(&issuer),
                escape(&who.issuer)
            ),
        ));
    }
    Ok(())
}

fn san_names(leaf: &Leaf) -> Result<Vec<String>, Refusal> {
    let Some(der) = leaf.extension(OID_SAN) else {
        return Ok(Vec::new());
    };
    let san = SubjectAltName::from_der(der)
        .map_err(|e| Refusal::new(Step::Identity, format!("the certificate's SAN cannot be read: {e}")))?;
    Ok(san
        .0
        .iter()
        .filter_map(|name| match name {
            GeneralName::Rfc822Name(s) | GeneralName::UniformResourceIdentifier(s) => Some(s.to_string()),
            GeneralName::OtherName(other) if other.type_id == OID_SAN_OTHER_NAME => other
                .value
                .decode_as::<Utf8StringRef<'_>>()
                .ok()
                .map(|s| s.as_str().to_string()),
            _ => None,
        })
        .collect())
}
