//! Keys on PKCS#11 tokens (YubiKeys through libykcs11, network HSMs, SoftHSM2): signing,
//! reading public keys, generating keys on the token, listing what a module shows.
//!
//! One login per command: a [`Pkcs11Signer`] logs in when it is opened and keeps the
//! session for every signature it makes; the session closes when it is dropped.

mod material;
mod token;
mod uri;

use cryptoki::context::Pkcs11;
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use pkcs8::der::zeroize::Zeroizing;
use serde::Serialize;
use trustroot_core::Key;

pub use material::Algorithm;
pub use token::{MODULE_VARIABLE, PIN_VARIABLE};
pub use uri::{PinSource, Pkcs11Uri};

use crate::error::{PinTries, Result, TokenError};
use crate::keys::Signer;
use token::call_failed;

/// A private key on a token, with a logged-in session.
pub struct Pkcs11Signer {
    uri: Pkcs11Uri,
    // Field order matters: the session closes before the module's context goes.
    session: Session,
    _context: Pkcs11,
    key: ObjectHandle,
    algorithm: Algorithm,
    public: Key,
    /// The PIN, kept (zeroized on drop) only for a key that asks for it before each
    /// signature (CKA_ALWAYS_AUTHENTICATE): the keyholder types it once per command.
    context_pin: Option<Zeroizing<String>>,
    /// The mechanisms the token offers.
    mechanisms: Vec<cryptoki::mechanism::MechanismType>,
}

impl std::fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Signer").field("uri", &self.uri.text).finish()
    }
}

/// A session on the token a URI names, and the PIN it was logged in with.
struct Opened {
    context: Pkcs11,
    session: Session,
    pin: Option<Zeroizing<String>>,
    mechanisms: Vec<cryptoki::mechanism::MechanismType>,
}

fn open_session(uri: &Pkcs11Uri, ask: &mut dyn FnMut() -> Result<Zeroizing<String>>, login: bool) -> Result<Opened> {
    let module = token::module_path(uri)?;
    let context = token::load_module(&module)?;
    let (slot, info) = token::find_slot(&context, uri, &module)?;
    let session = context
        .open_rw_session(slot)
        .or_else(|_| context.open_ro_session(slot))
        .map_err(call_failed(uri, "opening a session", PinTries::Unknown))?;
    let pin = if login {
        token::login(&context, &session, slot, &info, uri, ask)?
    } else {
        None
    };
    let mechanisms = context.get_mechanism_list(slot).unwrap_or_default();
    Ok(Opened {
        context,
        session,
        pin,
        mechanisms,
    })
}

impl Pkcs11Signer {
    /// Logs in to the token the URI names and finds its one private key.
    pub fn open(uri: &Pkcs11Uri, ask: &mut dyn FnMut() -> Result<Zeroizing<String>>) -> Result<Pkcs11Signer> {
        let Opened {
            context,
            session,
            pin,
            mechanisms,
        } = open_session(uri, ask, true)?;
        let key = token::find_private_key(&session, uri)?;
        let (algorithm, public) = public_of_private(&session, uri, key)?;
        let context_pin = if token::always_authenticate(&session, key) {
            // Refused here, before anything is signed, rather than at the first signature.
            if context_login_mechanism(algorithm, &mechanisms).is_none() {
                return Err(TokenError::NoContextLoginMechanism {
                    uri: uri.text.clone(),
                    algorithm: algorithm.name(),
                }
                .into());
            }
            Some(pin.ok_or_else(|| TokenError::NoPinSource { uri: uri.text.clone() })?)
        } else {
            None
        };
        Ok(Pkcs11Signer {
            uri: uri.clone(),
            session,
            _context: context,
            key,
            algorithm,
            public,
            context_pin,
            mechanisms,
        })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// One C_Sign: raw CKM_ECDSA over the digest (the mechanism every ECDSA token has),
    /// or CKM_EDDSA over the message.
    fn sign_once(&self, msg: &[u8]) -> cryptoki::error::Result<Vec<u8>> {
        let mechanism = match self.algorithm {
            Algorithm::Ed25519 => Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
            Algorithm::EcdsaP256 | Algorithm::EcdsaP384 => Mechanism::Ecdsa,
        };
        let input = material::to_be_signed(self.algorithm, msg);
        self.session.sign(&mechanism, self.key, &input)
    }

    /// A key that wants the PIN again before each use: the PIN goes between C_SignInit and
    /// the signing (a context-specific login), and the signing then takes the multi-part
    /// calls, so the token must hash itself: CKM_ECDSA_SHA256 (which libykcs11 offers for
    /// a YubiKey's slot 9c key) or CKM_EDDSA.
    fn sign_with_context_login(&self, msg: &[u8], pin: &Zeroizing<String>) -> cryptoki::error::Result<Vec<u8>> {
        let mechanism =
            context_login_mechanism(self.algorithm, &self.mechanisms).ok_or(cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::MechanismInvalid,
                cryptoki::context::Function::SignInit,
            ))?;
        self.session.sign_init(&mechanism, self.key)?;
        self.session.login(
            cryptoki::session::UserType::ContextSpecific,
            Some(&cryptoki::types::AuthPin::from(pin.as_str())),
        )?;
        self.session.sign_update(msg)?;
        self.session.sign_final()
    }
}

/// The mechanism a key that asks for its PIN before each use signs with: one that hashes on
/// the token, when the token offers it.
fn context_login_mechanism(
    algorithm: Algorithm,
    offered: &[cryptoki::mechanism::MechanismType],
) -> Option<Mechanism<'static>> {
    let mechanism = match algorithm {
        Algorithm::EcdsaP256 => Mechanism::EcdsaSha256,
        Algorithm::EcdsaP384 => Mechanism::EcdsaSha384,
        Algorithm::Ed25519 => Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
    };
    offered.contains(&mechanism.mechanism_type()).then_some(mechanism)
}

impl Signer for Pkcs11Signer {
    fn public_key(&self) -> Key {
        self.public.clone()
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>> {
        let raw = match &self.context_pin {
            None => self.sign_once(msg),
            Some(pin) => self.sign_with_context_login(msg, pin),
        }
        .map_err(call_failed(&self.uri, "signing", PinTries::Unknown))?;
        let bad = || TokenError::BadSignature {
            uri: self.uri.text.clone(),
        };
        let signature = material::tuf_signature(self.algorithm, &raw).ok_or_else(bad)?;
        // A token that returns garbage must not produce a signature file that fails later,
        // at the gate or in a client: check it here, where the token can be named.
        let verifies = self.public.public_key().is_ok_and(|key| key.verify(msg, &signature));
        if !verifies {
            return Err(bad().into());
        }
        Ok(signature)
    }

    fn describe(&self) -> String {
        self.uri.text.clone()
    }
}

/// The algorithm and TUF key of a private key: its point from the public key object with
/// the same id (or label), its curve from CKA_EC_PARAMS of either (some tokens keep the
/// parameters on the public object only).
fn public_of_private(session: &Session, uri: &Pkcs11Uri, key: ObjectHandle) -> Result<(Algorithm, Key)> {
    let mut selector = Pkcs11Uri {
        text: uri.text.clone(),
        ..Pkcs11Uri::default()
    };
    match token::bytes_attribute(session, key, AttributeType::Id) {
        Some(id) if !id.is_empty() => selector.id = Some(id),
        _ => selector.object = uri.object.clone(),
    }
    let publics = session
        .find_objects(&token::template(&selector, ObjectClass::PUBLIC_KEY))
        .map_err(call_failed(uri, "finding the public key", PinTries::Unknown))?;
    let no_public = || TokenError::NoPublicKey { uri: uri.text.clone() };
    let [public] = publics.as_slice() else {
        return Err(no_public().into());
    };
    let algorithm = algorithm_of(session, uri, key).or_else(|_| algorithm_of(session, uri, *public))?;
    public_key_object(session, *public, algorithm)
        .map(|key| (algorithm, key))
        .ok_or_else(|| no_public().into())
}

/// The algorithm of a key object, refusing RSA, other curves and other key types.
fn algorithm_of(session: &Session, uri: &Pkcs11Uri, object: ObjectHandle) -> Result<Algorithm> {
    let unsupported = |what: String| TokenError::UnsupportedKey {
        uri: uri.text.clone(),
        what,
    };
    let kind = token::key_type(session, object).ok_or_else(|| unsupported("of an unknown type".to_string()))?;
    if kind != KeyType::EC && kind != KeyType::EC_EDWARDS {
        return Err(unsupported(format!("of type {kind}")).into());
    }
    let params = token::bytes_attribute(session, object, AttributeType::EcParams)
        .ok_or_else(|| unsupported("an EC key without CKA_EC_PARAMS".to_string()))?;
    material::curve(&params)
        .ok_or_else(|| unsupported(format!("on the curve with parameters {}", hex::encode(&params))).into())
}

fn public_key_object(session: &Session, object: ObjectHandle, algorithm: Algorithm) -> Option<Key> {
    let point = token::bytes_attribute(session, object, AttributeType::EcPoint)?;
    material::tuf_key(algorithm, &point)
}

/// The public key a URI names, for registering it (`key add`) or showing it: a public
/// key object read without logging in when the token shows one, else through the private
/// key after a login.
pub fn read_public_key(uri: &Pkcs11Uri, ask: &mut dyn FnMut() -> Result<Zeroizing<String>>) -> Result<Key> {
    {
        let Opened { session, .. } = open_session(uri, ask, false)?;
        let publics = session
            .find_objects(&token::template(uri, ObjectClass::PUBLIC_KEY))
            .map_err(call_failed(uri, "finding the public key", PinTries::Unknown))?;
        if let [public] = publics.as_slice() {
            let algorithm = algorithm_of(&session, uri, *public)?;
            if let Some(key) = public_key_object(&session, *public, algorithm) {
                return Ok(key);
            }
        }
    }
    let signer = Pkcs11Signer::open(uri, ask)?;
    Ok(signer.public)
}

/// Generates a key pair on the token the URI names, labelled `object=` (and with `id=`, or
/// a random id). The private key never leaves the token: sensitive, not extractable.
/// Returns the new key's URI (with its id) and its public key.
pub fn generate(
    uri: &Pkcs11Uri,
    algorithm: Algorithm,
    ask: &mut dyn FnMut() -> Result<Zeroizing<String>>,
) -> Result<(String, Key)> {
    let Opened { session, .. } = open_session(uri, ask, true)?;
    let label = uri.object.clone().ok_or_else(|| TokenError::Uri {
        uri: uri.text.clone(),
        problem: crate::error::UriProblem::NoValue {
            attribute: "object (the new key's label)".to_string(),
        },
    })?;
    for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
        let by_label = Pkcs11Uri {
            object: Some(label.clone()),
            ..Pkcs11Uri::default()
        };
        let by_id = Pkcs11Uri {
            id: uri.id.clone(),
            ..Pkcs11Uri::default()
        };
        for selector in [by_label, by_id] {
            if selector.object.is_none() && selector.id.is_none() {
                continue;
            }
            let existing = session
                .find_objects(&token::template(&selector, class))
                .map_err(call_failed(uri, "finding objects", PinTries::Unknown))?;
            if !existing.is_empty() {
                return Err(TokenError::Exists { uri: uri.text.clone() }.into());
            }
        }
    }
    let id = match &uri.id {
        Some(id) => id.clone(),
        None => session
            .generate_random_vec(16)
            .map_err(call_failed(uri, "making a key id", PinTries::Unknown))?,
    };
    let (mechanism, kind) = match algorithm {
        Algorithm::Ed25519 => (Mechanism::EccEdwardsKeyPairGen, KeyType::EC_EDWARDS),
        Algorithm::EcdsaP256 | Algorithm::EcdsaP384 => (Mechanism::EccKeyPairGen, KeyType::EC),
    };
    let common = [
        Attribute::Token(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.clone()),
        Attribute::KeyType(kind),
    ];
    let mut public_template = common.to_vec();
    public_template.extend([
        Attribute::Verify(true),
        Attribute::EcParams(algorithm.ec_params().to_vec()),
    ]);
    let mut private_template = common.to_vec();
    private_template.extend([
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
    ]);
    let (public, _private) = session
        .generate_key_pair(&mechanism, &public_template, &private_template)
        .map_err(|e| match &e {
            cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::MechanismInvalid, _) => {
                TokenError::CannotGenerate {
                    uri: uri.text.clone(),
                    what: format!("{} keys", algorithm.name()),
                }
                .into()
            }
            _ => call_failed(uri, "generating the key", PinTries::Unknown)(e),
        })?;
    let key = public_key_object(&session, public, algorithm)
        .ok_or_else(|| TokenError::NoPublicKey { uri: uri.text.clone() })?;
    let token = uri.token.clone().unwrap_or_default();
    let mut new_uri = Pkcs11Uri::for_object(&token, Some(&label), Some(&id), "private");
    if let Some(module) = &uri.module_path {
        new_uri.push_str(&uri::module_query(module));
    }
    Ok((new_uri, key))
}

/// A token as `key list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TokenListing {
    pub slot: u64,
    pub label: String,
    pub manufacturer: String,
    pub model: String,
    pub serial: String,
    pub objects: Vec<ObjectListing>,
}

/// An object on a token as `key list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectListing {
    /// `private`, `public` or `cert`.
    pub kind: String,
    pub label: String,
    pub id: String,
    /// The key algorithm, when trustroot can sign with it.
    pub algorithm: Option<String>,
    /// The URI that names this object (with the module path).
    pub uri: String,
}

/// Every token the module shows and the objects on it (private keys only with `login`).
pub fn list(
    module: &std::path::Path,
    login: bool,
    ask: &mut dyn FnMut() -> Result<Zeroizing<String>>,
) -> Result<Vec<TokenListing>> {
    let context = token::load_module(module)?;
    let placeholder = Pkcs11Uri {
        text: format!("pkcs11:{}", uri::module_query(module)),
        module_path: Some(module.to_path_buf()),
        ..Pkcs11Uri::default()
    };
    let slots = token::slots_with_token(&context, &placeholder, module)?;
    let mut tokens = Vec::new();
    for slot in slots {
        let info = context.get_token_info(slot).map_err(call_failed(
            &placeholder,
            "reading token information",
            PinTries::Unknown,
        ))?;
        // SoftHSM2 and some HSMs keep a free slot with a token not yet initialised: it has
        // no objects, and opening a session on it fails.
        if !info.token_initialized() {
            continue;
        }
        let label = info.label().trim().to_string();
        let uri = Pkcs11Uri {
            text: format!("pkcs11:token={label}"),
            token: Some(label.clone()),
            ..placeholder.clone()
        };
        let session =
            context
                .open_ro_session(slot)
                .map_err(call_failed(&uri, "opening a session", PinTries::Unknown))?;
        if login {
            token::login(&context, &session, slot, &info, &uri, ask)?;
        }
        let objects = list_objects(&session, &label, module)?;
        tokens.push(TokenListing {
            slot: slot.id(),
            label,
            manufacturer: info.manufacturer_id().trim().to_string(),
            model: info.model().trim().to_string(),
            serial: info.serial_number().trim().to_string(),
            objects,
        });
    }
    Ok(tokens)
}

fn list_objects(session: &Session, token: &str, module: &std::path::Path) -> Result<Vec<ObjectListing>> {
    let mut objects = Vec::new();
    for (class, kind) in [
        (ObjectClass::PRIVATE_KEY, "private"),
        (ObjectClass::PUBLIC_KEY, "public"),
        (ObjectClass::CERTIFICATE, "cert"),
    ] {
        let handles = session.find_objects(&[Attribute::Class(class)]).unwrap_or_default();
        for handle in handles {
            let label = token::bytes_attribute(session, handle, AttributeType::Label)
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .unwrap_or_default();
            let id = token::bytes_attribute(session, handle, AttributeType::Id).unwrap_or_default();
            let algorithm = (kind != "cert")
                .then(|| token::bytes_attribute(session, handle, AttributeType::EcParams))
                .flatten()
                .and_then(|params| material::curve(&params))
                .map(|a| a.name().to_string());
            let mut uri = Pkcs11Uri::for_object(
                token,
                (!label.is_empty()).then_some(label.as_str()),
                (!id.is_empty()).then_some(id.as_slice()),
                kind,
            );
            uri.push_str(&uri::module_query(module));
            objects.push(ObjectListing {
                kind: kind.to_string(),
                label,
                id: hex::encode(&id),
                algorithm,
                uri,
            });
        }
    }
    Ok(objects)
}
