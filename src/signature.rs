//! Webhook signatures: `x-webhook-signature` is the hex HMAC-SHA256 of the raw
//! request body, keyed with the webhook's secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The hex signature of `raw_body` under `secret`, as the sender computes it.
pub fn sign_webhook_body(raw_body: &[u8], secret: &[u8]) -> String {
    mac(raw_body, secret).map_or_else(String::new, |mac| hex::encode(mac.finalize().into_bytes()))
}

/// Whether `signature_hex` (upper or lower case, optionally prefixed
/// `sha256=`) is the HMAC-SHA256 of `raw_body` under `secret`. Compared in
/// constant time; malformed hex is simply not a valid signature.
pub fn verify_webhook_signature(raw_body: &[u8], signature_hex: &str, secret: &[u8]) -> bool {
    match (signature_mac(signature_hex), mac(raw_body, secret)) {
        (Some(expected), Some(mac)) => mac.verify_slice(&expected).is_ok(),
        _ => false,
    }
}

/// The MAC a signature header spells, whichever accepted spelling it uses
/// (hex in upper or lower case, optionally prefixed `sha256=`, surrounding
/// whitespace ignored): the same bytes for every spelling of one signature,
/// so a receiver can tell a replay from a new delivery. `None` when it is
/// not hex.
pub fn signature_mac(signature_hex: &str) -> Option<Vec<u8>> {
    let trimmed = signature_hex.trim();
    let hex_part = trimmed.strip_prefix("sha256=").unwrap_or(trimmed);
    hex::decode(hex_part).ok()
}

/// The keyed MAC over `raw_body`. HMAC takes keys of any length, so this is
/// always `Some`; the `Option` only spares a panic path.
fn mac(raw_body: &[u8], secret: &[u8]) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    mac.update(raw_body);
    Some(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2.
    #[test]
    fn rfc_4231_vector() {
        let sig = sign_webhook_body(b"what do ya want for nothing?", b"Jefe");
        assert_eq!(
            sig,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify_webhook_signature(
            b"what do ya want for nothing?",
            &sig,
            b"Jefe"
        ));
        assert!(verify_webhook_signature(
            b"what do ya want for nothing?",
            &sig.to_uppercase(),
            b"Jefe"
        ));
        assert!(verify_webhook_signature(
            b"what do ya want for nothing?",
            &format!("sha256={sig}"),
            b"Jefe"
        ));
    }

    /// RFC 4231 test case 1 (a 20-byte key of 0x0b).
    #[test]
    fn rfc_4231_vector_binary_key() {
        assert_eq!(
            sign_webhook_body(b"Hi There", &[0x0b; 20]),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    #[test]
    fn every_accepted_spelling_names_the_same_mac() {
        let sig = sign_webhook_body(b"body", b"whsec_1");
        let mac = signature_mac(&sig).unwrap();
        assert_eq!(mac.len(), 32);
        for spelling in [
            sig.to_uppercase(),
            format!("sha256={sig}"),
            format!(" sha256={} ", sig.to_uppercase()),
        ] {
            assert_eq!(signature_mac(&spelling).as_deref(), Some(&mac[..]));
        }
        assert_eq!(signature_mac("zz"), None);
    }

    #[test]
    fn rejects_tampering_and_garbage() {
        let body = br#"{"event":"response.created"}"#;
        let sig = sign_webhook_body(body, b"whsec_1");
        assert!(!verify_webhook_signature(
            br#"{"event":"response.updated"}"#,
            &sig,
            b"whsec_1"
        ));
        assert!(!verify_webhook_signature(body, &sig, b"whsec_2"));
        assert!(!verify_webhook_signature(body, &sig[..62], b"whsec_1"));
        assert!(!verify_webhook_signature(body, "zz", b"whsec_1"));
        assert!(!verify_webhook_signature(body, "", b"whsec_1"));
    }
}
