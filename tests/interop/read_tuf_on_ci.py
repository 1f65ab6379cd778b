"""Reads a tuf-on-ci source layout with python-tuf's Metadata API, as tuf-on-ci does.

Usage: python read_tuf_on_ci.py DIR

Every metadata/**/*.json must parse with Metadata.from_bytes and serialise back to the same
bytes with JSONSerializer (the form tuf-on-ci writes); each root_history/N.root.json must be
root version N, and metadata/root.json the newest of them. Prints, as JSON, every custom
field (a key starting with "x-") found at any level of each file's "signed", by file.
"""

import json
import os
import sys

from tuf.api.metadata import Metadata, Root
from tuf.api.serialization.json import JSONSerializer


def custom_fields(value, path, out):
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else key
            if key.startswith("x-"):
                out[here] = item
            custom_fields(item, here, out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            custom_fields(item, f"{path}[{i}]", out)


def main():
    top = os.path.join(sys.argv[1], "metadata")
    found = {}
    newest = 0
    for dirpath, _, names in os.walk(top):
        for name in sorted(names):
            if not name.endswith(".json"):
                continue
            path = os.path.join(dirpath, name)
            data = open(path, "rb").read()
            md = Metadata.from_bytes(data)
            rel = os.path.relpath(path, top)
            if md.to_bytes(JSONSerializer()) != data:
                sys.exit(f"{rel}: python-tuf writes it back differently")
            if rel.startswith("root_history"):
                version = int(name.split(".")[0])
                if not isinstance(md.signed, Root) or md.signed.version != version:
                    sys.exit(f"{rel}: not root version {version}")
                newest = max(newest, version)
            fields = {}
            custom_fields(md.signed.to_dict(), "", fields)
            found[rel] = fields
    root = open(os.path.join(top, "root.json"), "rb").read()
    if root != open(os.path.join(top, "root_history", f"{newest}.root.json"), "rb").read():
        sys.exit(f"root.json is not root_history/{newest}.root.json")
    print(json.dumps(found, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
