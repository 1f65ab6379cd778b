"""Writes a repository the way tuf-on-ci keeps one in git, for trustroot's import tests.

Usage: python tuf_on_ci_shaped.py OUT --time RFC3339 [--online-uri URI] [--collide]
                                  [--delegation-entry-field]

OUT gets tuf-on-ci's source layout: metadata/<role>.json (unversioned), every root in
metadata/root_history/N.root.json, targets/ under plain names, and the private keys the
test signs with in private/<name>.pem (PKCS#8, unencrypted: test keys only).

What it holds, as real tuf-on-ci repositories do:
- three keyholders (alice, bob, carol) named by x-tuf-on-ci-keyowner; root 2 of 3 over two
  versions, root v2 with a "sig": "" placeholder for carol (invited, not signed);
- targets 1 of 2 (alice, bob) and a delegation "team" (paths team/*) to dave, 1 of 1;
- an online key for snapshot and timestamp named by x-tuf-on-ci-online-uri;
- x-tuf-on-ci-expiry-period / -signing-period on root, targets, team and the online roles;
- custom fields trustroot does not model: x-tufrepo-note on a key, on root's roles.root
  entry and at the top level of targets (and, with --delegation-entry-field, inside the
  delegation entry, which tough refuses);
- with --collide, a fourth root key whose keyowner is "@Alice" (alice's, in other case).
"""

import argparse
import copy
import os
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from securesystemslib.signer import CryptoSigner, Signature
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Key,
    Metadata,
    MetaFile,
    Role,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer


def new_signer(out, name, fields):
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    os.makedirs(os.path.join(out, "private"), exist_ok=True)
    with open(os.path.join(out, "private", f"{name}.pem"), "wb") as f:
        f.write(pem)
    signer = CryptoSigner(private)
    key = copy.deepcopy(signer.public_key)
    key.unrecognized_fields.update(fields)
    # The key ID is the hash of the key as listed, custom fields and all (as tuf-on-ci's).
    listed = Key.from_dict("0" * 64, key.to_dict())
    key = Key.from_dict(_keyid(listed), key.to_dict())
    signer = CryptoSigner(private, key)
    return signer, key


def _keyid(key):
    import hashlib

    from securesystemslib.formats import encode_canonical

    return hashlib.sha256(encode_canonical(key.to_dict()).encode()).hexdigest()


def write(path, md):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(md.to_bytes(JSONSerializer()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--time", required=True)
    parser.add_argument(
        "--online-uri",
        default="gcpkms:projects/test/locations/global/keyRings/root/cryptoKeys/timestamp/cryptoKeyVersions/1",
    )
    parser.add_argument("--collide", action="store_true")
    parser.add_argument("--delegation-entry-field", action="store_true")
    args = parser.parse_args()
    out = args.out
    now = datetime.fromisoformat(args.time.replace("Z", "+00:00")).astimezone(timezone.utc)
    days = lambda n: (now + timedelta(days=n)).replace(microsecond=0)  # noqa: E731

    holders = {}
    for name in ["alice", "bob", "carol", "dave"]:
        fields = {"x-tuf-on-ci-keyowner": f"@{name}"}
        if name == "bob":
            fields["x-tufrepo-note"] = "bob's key, carried by every tool"
        holders[name] = new_signer(out, name, fields)
    online, online_key = new_signer(out, "online", {"x-tuf-on-ci-online-uri": args.online_uri})

    root = Root(expires=days(365), consistent_snapshot=True)
    root.unrecognized_fields.update({"x-tuf-on-ci-expiry-period": 365, "x-tuf-on-ci-signing-period": 60})
    for name in ["alice", "bob", "carol"]:
        root.add_key(holders[name][1], "root")
    for name in ["alice", "bob"]:
        root.add_key(holders[name][1], "targets")
    if args.collide:
        other, other_key = new_signer(out, "alice-upper", {"x-tuf-on-ci-keyowner": "@Alice"})
        root.add_key(other_key, "root")
    root.roles["root"].threshold = 2
    root.roles["root"].unrecognized_fields["x-tufrepo-note"] = "root's role entry"
    root.add_key(online_key, "timestamp")
    root.add_key(online_key, "snapshot")
    for role, (expiry, signing) in {"timestamp": (7, 6), "snapshot": (365, 60)}.items():
        root.roles[role].unrecognized_fields.update(
            {"x-tuf-on-ci-expiry-period": expiry, "x-tuf-on-ci-signing-period": signing}
        )

    # Root v1, signed by all three; root v2 (a renewal), signed by alice and bob, carol's
    # signature still the placeholder tuf-on-ci writes for an invited keyholder.
    root_md = Metadata(root)
    for name in ["alice", "bob", "carol"]:
        root_md.sign(holders[name][0], append=True)
    write(os.path.join(out, "metadata/root_history/1.root.json"), root_md)
    root_md.signed.version = 2
    root_md.signatures.clear()
    for name in ["alice", "bob"]:
        root_md.sign(holders[name][0], append=True)
    carol_id = holders["carol"][1].keyid
    root_md.signatures[carol_id] = Signature(carol_id, "")
    write(os.path.join(out, "metadata/root_history/2.root.json"), root_md)
    write(os.path.join(out, "metadata/root.json"), root_md)

    # Targets and the delegation.
    os.makedirs(os.path.join(out, "targets/team"), exist_ok=True)
    files = {"hello.txt": b"hello from the top level\n", "team/a.txt": b"a file the team signs\n"}
    for path, data in files.items():
        with open(os.path.join(out, "targets", path), "wb") as f:
            f.write(data)
    target = lambda path: TargetFile.from_data(path, files[path], ["sha256"])  # noqa: E731

    team = Targets(expires=days(365))
    team.unrecognized_fields.update({"x-tuf-on-ci-expiry-period": 365, "x-tuf-on-ci-signing-period": 60})
    team.targets["team/a.txt"] = target("team/a.txt")
    team_md = Metadata(team)
    team_md.sign(holders["dave"][0])
    write(os.path.join(out, "metadata/team.json"), team_md)

    targets = Targets(expires=days(365))
    targets.unrecognized_fields.update(
        {
            "x-tuf-on-ci-expiry-period": 365,
            "x-tuf-on-ci-signing-period": 60,
            "x-tufrepo-note": "targets' own field",
        }
    )
    targets.targets["hello.txt"] = target("hello.txt")
    dave = holders["dave"][1]
    delegated = DelegatedRole("team", [dave.keyid], 1, True, paths=["team/*"])
    if args.delegation_entry_field:
        delegated.unrecognized_fields["x-tufrepo-note"] = "inside the delegation entry"
    targets.delegations = Delegations({dave.keyid: dave}, roles={"team": delegated})
    targets_md = Metadata(targets)
    targets_md.sign(holders["alice"][0])
    write(os.path.join(out, "metadata/targets.json"), targets_md)

    snapshot = Snapshot(expires=days(365))
    snapshot.meta["targets.json"] = MetaFile(1)
    snapshot.meta["team.json"] = MetaFile(1)
    snapshot_md = Metadata(snapshot)
    snapshot_md.sign(online)
    write(os.path.join(out, "metadata/snapshot.json"), snapshot_md)

    timestamp = Timestamp(expires=days(7))
    timestamp.snapshot_meta = MetaFile(1)
    timestamp_md = Metadata(timestamp)
    timestamp_md.sign(online)
    write(os.path.join(out, "metadata/timestamp.json"), timestamp_md)


if __name__ == "__main__":
    main()
