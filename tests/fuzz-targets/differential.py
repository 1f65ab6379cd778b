"""Reference answers for tests/differential.rs, from python-tuf and securesystemslib.

Usage: python differential.py canonical|pattern LIST
LIST names one input file a line. For each, one JSON line on stdout:
  canonical: {"skip": reason} when the bytes are not UTF-8 JSON Python reads,
             {"error": message} when securesystemslib refuses to encode the value,
             {"ok": hex of the UTF-8 canonical bytes} otherwise;
  pattern:   {"skip": reason} when the bytes are not UTF-8,
             {"ok": true|false} whether python-tuf matches the target to the pattern
             (the input is "pattern NUL target", or one text as both).
"""

import json
import sys

from securesystemslib.formats import encode_canonical
from tuf.api.metadata import DelegatedRole


def canonical(data):
    try:
        text = data.decode("utf-8")
        value = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        return {"skip": type(e).__name__}
    try:
        out = encode_canonical(value)
        return {"ok": out.encode("utf-8").hex()}
    except Exception as e:  # noqa: BLE001 - any refusal is an answer
        return {"error": f"{type(e).__name__}: {e}"}


def pattern(data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return {"skip": type(e).__name__}
    if "\x00" in text:
        pat, _, target = text.partition("\x00")
    else:
        pat, target = text, text
    return {"ok": bool(DelegatedRole._is_target_in_pathpattern(target, pat))}


def main():
    check = {"canonical": canonical, "pattern": pattern}[sys.argv[1]]
    with open(sys.argv[2], encoding="utf-8") as f:
        paths = [line.rstrip("\n") for line in f if line.strip()]
    sys.setrecursionlimit(10000)
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        print(json.dumps(check(data)))


if __name__ == "__main__":
    main()
