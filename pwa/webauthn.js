// Passkeys. Chromium has PublicKeyCredential.parse*OptionsFromJSON and credential.toJSON()
// (WebAuthn Level 3); older browsers get the same JSON shapes by hand (base64url fields).

import { encode, decode } from './b64url.js';

export function supported() {
  return typeof window.PublicKeyCredential === 'function' && Boolean(navigator.credentials);
}

export async function createPasskey(optionsJSON) {
  const parse = PublicKeyCredential.parseCreationOptionsFromJSON;
  const publicKey = parse ? parse.call(PublicKeyCredential, optionsJSON) : creationFromJSON(optionsJSON);
  const cred = await navigator.credentials.create({ publicKey });
  return typeof cred.toJSON === 'function' ? cred.toJSON() : credentialToJSON(cred);
}

export async function getPasskey(optionsJSON) {
  const parse = PublicKeyCredential.parseRequestOptionsFromJSON;
  const publicKey = parse ? parse.call(PublicKeyCredential, optionsJSON) : requestFromJSON(optionsJSON);
  const cred = await navigator.credentials.get({ publicKey });
  return typeof cred.toJSON === 'function' ? cred.toJSON() : credentialToJSON(cred);
}

/** An assertion by a discoverable passkey of this site over `challenge` (bytes), with no server
 * round trip: used offline for record confirmations (EVIDENCE.md §5), checked on sync. */
export async function assertOver(challenge) {
  const cred = await navigator.credentials.get({ publicKey: {
    challenge, rpId: location.hostname, userVerification: 'required', timeout: 120_000,
  } });
  const json = typeof cred.toJSON === 'function' ? cred.toJSON() : credentialToJSON(cred);
  return JSON.parse(JSON.stringify(json)); // plain JSON only: it is signed into an event
}

// --- fallback conversions (WebAuthn L3 §5.1.8 / §5.1.9 JSON forms) ---

const descriptor = (d) => ({ ...d, id: decode(d.id) });

function creationFromJSON(o) {
  return {
    ...o,
    challenge: decode(o.challenge),
    user: { ...o.user, id: decode(o.user.id) },
    excludeCredentials: (o.excludeCredentials || []).map(descriptor),
  };
}

function requestFromJSON(o) {
  return {
    ...o,
    challenge: decode(o.challenge),
    allowCredentials: (o.allowCredentials || []).map(descriptor),
  };
}

function credentialToJSON(cred) {
  const r = cred.response;
  const response = { clientDataJSON: encode(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = encode(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = encode(r.authenticatorData);
    response.signature = encode(r.signature);
    if (r.userHandle) response.userHandle = encode(r.userHandle);
  }
  return {
    id: cred.id,
    rawId: encode(cred.rawId),
    type: cred.type,
    response,
    authenticatorAttachment: cred.authenticatorAttachment ?? undefined,
    clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
  };
}
