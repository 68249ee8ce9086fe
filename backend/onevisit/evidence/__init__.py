"""The evidence chain's pure cryptographic cores (docs: EVIDENCE.md in the shared specs).

- `jcs`: RFC 8785 canonical JSON, and the stricter form every hashed evidence object uses
  (no floats, ASCII keys, NFC strings, integers within ±(2^53-1)).
- `events`: the signed event envelope of a device (§3): parsing, hashing, ECDSA P-256
  signatures in WebCrypto's raw r||s form, the per-device hash chain, the log leaf input.
- `merkle`: the RFC 6962 / RFC 9162 Merkle tree: hashes, proofs from stored perfect subtrees,
  proof verification.
- `note`: C2SP signed notes with Ed25519 and tlog-checkpoint texts.
- `errors`: the exceptions, each with a stable `code`.

Everything here is pure (no I/O, no database, no HTTP) so the server, the CLI verifier and
the test vectors share one implementation.
"""
