//! RFC 3161 signed timestamps: a timestamp authority of the trusted root signed the time at
//! which it saw the bundle's signature. Only the trusted root's TSA certificates are used;
//! a certificate embedded in the token is never trusted.

use chrono::{DateTime, Utc};
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::Certificate;
use x509_cert::der::asn1::OctetString;
use x509_cert::der::{Decode, Encode};
use x509_cert::spki::ObjectIdentifier;
use x509_tsp::{TimeStampResp, TstInfo};

use super::trust::{Authority, SigstoreTrust, window_contains};
use super::{Refusal, Step};
use crate::display::escape;
use crate::sigstore::certs::{
    OID_ECDSA_SHA256, OID_ECDSA_SHA384, OID_ECDSA_SHA512, OID_KP_TIME_STAMPING, verify_signature,
};
use crate::sigstore::keys::OID_EC_PUBLIC_KEY;

const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

fn refuse(detail: impl Into<String>) -> Refusal {
    Refusal::new(Step::Timestamp, detail)
}

fn der_error(what: &str) -> impl Fn(x509_cert::der::Error) -> Refusal + '_ {
    move |e| refuse(format!("{what}: {e}"))
}

fn hash(alg: ObjectIdentifier, bytes: &[u8]) -> Option<Vec<u8>> {
    Some(match alg {
        a if a == OID_SHA256 => Sha256::digest(bytes).to_vec(),
        a if a == OID_SHA384 => Sha384::digest(bytes).to_vec(),
        a if a == OID_SHA512 => Sha512::digest(bytes).to_vec(),
        _ => return None,
    })
}

/// Checks one `signedTimestamp` (a DER TimeStampResp) over `signature` (the bundle's
/// message signature, which is what a Sigstore TSA stamps). Returns the time it vouches for.
pub(super) fn check(trust: &SigstoreTrust, token: &[u8], signature: &[u8]) -> Result<DateTime<Utc>, Refusal> {
    let resp = TimeStampResp::from_der(token).map_err(der_error("not an RFC 3161 timestamp response"))?;
    // granted (0) or grantedWithMods (1).
    if resp.status.status as u8 > 1 {
        return Err(refuse("the timestamp authority did not grant the timestamp"));
    }
    let content: ContentInfo = resp
        .time_stamp_token
        .ok_or_else(|| refuse("the timestamp response holds no token"))?;
    if content.content_type != OID_SIGNED_DATA {
        return Err(refuse("the timestamp token is not CMS signed data"));
    }
    let signed: SignedData = content
        .content
        .decode_as()
        .map_err(der_error("the timestamp token's signed data"))?;
    if signed.encap_content_info.econtent_type != OID_TST_INFO {
        return Err(refuse("the timestamp token does not hold a TSTInfo"));
    }
    let econtent = signed
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| refuse("the timestamp token's TSTInfo is missing"))?;
    let tst_der = OctetString::from_der(&econtent.to_der().map_err(der_error("the TSTInfo"))?)
        .map_err(der_error("the TSTInfo is not an OCTET STRING"))?
        .into_bytes();
    let tst = TstInfo::from_der(&tst_der).map_err(der_error("the TSTInfo"))?;
    let imprint = &tst.message_imprint;
    let expected = hash(imprint.hash_algorithm.oid, signature)
        .ok_or_else(|| refuse("the timestamp's message imprint uses an unsupported hash"))?;
    if imprint.hashed_message.as_bytes() != expected {
        return Err(refuse("the timestamp is over another signature"));
    }
    let gen_time = {
        let secs = i64::try_from(tst.gen_time.to_unix_duration().as_secs())
            .map_err(|_| refuse("the timestamp's time is out of range"))?;
        DateTime::from_timestamp(secs, 0).ok_or_else(|| refuse("the timestamp's time is out of range"))?
    };
    let [signer] = signed.signer_infos.0.as_slice() else {
        return Err(refuse("the timestamp token has not exactly one signer"));
    };
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| refuse("the timestamp's signer has no signed attributes"))?;
    let attr = |oid: ObjectIdentifier| {
        attrs
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| match a.values.as_slice() {
                [one] => Some(one),
                _ => None,
            })
    };
    let content_type = attr(OID_CONTENT_TYPE).and_then(|v| v.decode_as::<ObjectIdentifier>().ok());
    if content_type != Some(OID_TST_INFO) {
        return Err(refuse("the timestamp's signed content type is not TSTInfo"));
    }
    let digest = attr(OID_MESSAGE_DIGEST).and_then(|v| v.decode_as::<OctetString>().ok());
    let expected = hash(signer.digest_alg.oid, &tst_der)
        .ok_or_else(|| refuse("the timestamp's signer uses an unsupported digest"))?;
    if digest.as_ref().map(OctetString::as_bytes) != Some(expected.as_slice()) {
        return Err(refuse("the timestamp's signed digest is not that of its TSTInfo"));
    }
    // The signature covers the attributes' DER as a SET OF (RFC 5652 section 5.4).
    let signed_attrs = attrs.to_der().map_err(der_error("the signed attributes"))?;
    let alg = signature_algorithm(signer.signature_algorithm.oid, signer.digest_alg.oid)
        .ok_or_else(|| refuse("the timestamp is signed with an unsupported algorithm"))?;
    let tsa = trust
        .tsas
        .iter()
        .find(|a| a.chain.first().is_some_and(|leaf| identifies(&signer.sid, &leaf.der)))
        .ok_or_else(|| refuse("no timestamp authority of the trusted root signed the timestamp"))?;
    verify_signature(tsa.chain[0].spki_der(), alg, &signed_attrs, signer.signature.as_bytes())
        .map_err(|e| refuse(format!("the signature of {} does not verify: {e}", escape(&tsa.name))))?;
    check_authority(tsa, gen_time)?;
    Ok(gen_time)
}

/// The signature algorithm as `verify_signature` takes it: some TSAs name the key type
/// (`ecPublicKey`) and give the hash as the digest algorithm.
fn signature_algorithm(sig: ObjectIdentifier, digest: ObjectIdentifier) -> Option<ObjectIdentifier> {
    if sig != OID_EC_PUBLIC_KEY {
        return Some(sig);
    }
    match digest {
        d if d == OID_SHA256 => Some(OID_ECDSA_SHA256),
        d if d == OID_SHA384 => Some(OID_ECDSA_SHA384),
        d if d == OID_SHA512 => Some(OID_ECDSA_SHA512),
        _ => None,
    }
}

/// Whether the signer identifier names the certificate `der`.
fn identifies(sid: &SignerIdentifier, der: &[u8]) -> bool {
    let Ok(cert) = Certificate::from_der(der) else {
        return false;
    };
    let tbs = &cert.tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(is) => is.issuer == tbs.issuer && is.serial_number == tbs.serial_number,
        SignerIdentifier::SubjectKeyIdentifier(ski) => tbs
            .extensions
            .iter()
            .flatten()
            .filter(|e| e.extn_id == ObjectIdentifier::new_unwrap("2.5.29.14"))
            .any(|e| OctetString::from_der(e.extn_value.as_bytes()).is_ok_and(|v| v.as_bytes() == ski.0.as_bytes())),
    }
}

/// The TSA's window and chain are valid at `time`, and its leaf is for timestamping.
fn check_authority(tsa: &Authority, time: DateTime<Utc>) -> Result<(), Refusal> {
    if !window_contains(&tsa.window, time) {
        return Err(refuse(format!(
            "the timestamp's time {time} is outside the window of {} in the trusted root",
            escape(&tsa.name)
        )));
    }
    if let Some(c) = tsa.chain.iter().find(|c| time < c.not_before || time > c.not_after) {
        return Err(refuse(format!(
            "the TSA certificate {} is not valid at the timestamp's time {time}",
            escape(&c.subject.to_string())
        )));
    }
    // RFC 3161 2.3: the TSA's certificate has exactly one key purpose, timeStamping, in a
    // critical extension.
    let leaf = &tsa.chain[0];
    if leaf.ekus != [OID_KP_TIME_STAMPING] || !leaf.eku_critical {
        return Err(refuse(
            "the TSA certificate is not for timestamping only (RFC 3161: a critical extended key usage of timeStamping alone)",
        ));
    }
    Ok(())
}
