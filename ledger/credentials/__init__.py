"""Verifiable credentials: Open Badges 3.0 on the W3C VC 2.0 data model, secured as VC-JOSE
(`application/vc+jwt`, Ed25519), with Bitstring Status Lists (docs/credentials.md)."""
