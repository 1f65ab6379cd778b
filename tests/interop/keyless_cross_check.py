"""Cross-checks a keyless repository written by trustroot-test-support's
`sigstore_instance::keyless_repository` with sigstore-python (PyPI `sigstore` 4.4.0), an
independent Sigstore verifier: every signature of every role, against the instance's own
trusted_root.json, with the identity and issuer its key names, and each threshold.

Usage: python keyless_cross_check.py DIR   (DIR holds published/ and trusted_root.json)

Issue 21 (keyless keys): run by hand when the instance changed; wiring it into
scripts/test.sh (sigstore pinned in requirements.txt) is part of that issue's next step.
"""
import sys, json, glob
from securesystemslib.formats import encode_canonical
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier
from sigstore.verify.policy import Identity
d = sys.argv[1]
v = Verifier(trusted_root=TrustedRoot.from_file(f"{d}/trusted_root.json"))
def check(path, keys, role_keyids, threshold):
    md = json.load(open(path))
    msg = encode_canonical(md["signed"]).encode()
    ok = set()
    for s in md["signatures"]:
        if s["keyid"] not in role_keyids: continue
        k = keys[s["keyid"]]
        try:
            v.verify_artifact(msg, Bundle.from_json(json.dumps(s["bundle"])), Identity(identity=k["keyval"]["identity"], issuer=k["keyval"]["issuer"]))
            ok.add(s["keyid"])
        except Exception as e:
            print("  sig", s["keyid"][:8], "FAIL", e)
    print(path.split("/")[-1], len(ok), "of", threshold, "OK" if len(ok) >= threshold else "NOT MET")
roots = [json.load(open(f"{d}/published/{n}.root.json")) for n in (1,2,3)]
check(f"{d}/published/1.root.json", roots[0]["signed"]["keys"], roots[0]["signed"]["roles"]["root"]["keyids"], 2)
for n in (2,3):
    prev, cur = roots[n-2]["signed"], roots[n-1]["signed"]
    check(f"{d}/published/{n}.root.json", prev["keys"], prev["roles"]["root"]["keyids"], 2)
    check(f"{d}/published/{n}.root.json", cur["keys"], cur["roles"]["root"]["keyids"], 2)
r = roots[2]["signed"]
for role, f in [("targets","1.targets.json"),("snapshot","1.snapshot.json"),("timestamp","timestamp.json")]:
    check(f"{d}/published/{f}", r["keys"], r["roles"][role]["keyids"], 1)
