"""python-tuf's side of the signing benchmark (docs/benchmarks.md): builds a targets role
listing every line of LISTING (path<TAB>length<TAB>sha256) with the Metadata API, signs it
with a new ed25519 key (securesystemslib's CryptoSigner) and writes it to OUT.

usage: sign_python.py LISTING OUT
"""

import sys
from datetime import datetime, timedelta, timezone

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata, TargetFile, Targets


def main() -> int:
    listing, out = sys.argv[1], sys.argv[2]
    targets = {}
    with open(listing, encoding="utf-8") as f:
        for line in f:
            path, length, sha256 = line.rstrip("\n").split("\t")
            targets[path] = TargetFile(int(length), {"sha256": sha256}, path)
    expires = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=365)
    metadata = Metadata(Targets(version=1, expires=expires, targets=targets))
    signer = CryptoSigner.generate_ed25519()
    metadata.sign(signer)
    metadata.to_file(out)
    print(f"signed {len(targets)} targets", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
