"""Verifies Sigstore bundles offline with sigstore-python, the reference verifier.

Usage: sigstore_verify.py DIR

DIR holds `cases.json`, a list of cases
`{"name", "bundle", "artifact", "trusted_root", "identity", "issuer"}` (file names relative
to DIR). Each bundle is checked with sigstore-python's `Verifier.verify_artifact` against
the case's `trusted_root.json` only (no network, no TUF refresh), under the policy "this
identity, from this OIDC issuer". Prints one JSON line per case: `{"name", "verified", "error"}`; exits 0 when
every case was run, whatever its outcome: the caller compares the outcomes.
"""

import json
import sys
from pathlib import Path

try:
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity
except ImportError as e:
    sys.exit(f"sigstore-python is not importable ({e}): install tests/interop/requirements.txt")


def verify(directory: Path, case: dict) -> str | None:
    """None if the bundle verifies, else why not."""
    try:
        root = TrustedRoot.from_file(str(directory / case["trusted_root"]))
        verifier = Verifier(trusted_root=root)
        bundle = Bundle.from_json((directory / case["bundle"]).read_bytes())
        verifier.verify_artifact(
            input_=(directory / case["artifact"]).read_bytes(),
            bundle=bundle,
            policy=Identity(identity=case["identity"], issuer=case["issuer"]),
        )
    except (SigstoreError, ValueError) as e:
        # VerificationError, InvalidBundle and the policy's errors are sigstore Errors; a
        # malformed structure is a ValueError (pydantic's ValidationError among them).
        return f"{type(e).__name__}: {e}"
    return None


def main() -> None:
    directory = Path(sys.argv[1])
    for case in json.loads((directory / "cases.json").read_text()):
        error = verify(directory, case)
        print(json.dumps({"name": case["name"], "verified": error is None, "error": error}), flush=True)


if __name__ == "__main__":
    main()
