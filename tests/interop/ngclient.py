"""Runs python-tuf's ngclient against a repository: init from a root, refresh, and
download targets. Exit 0 on success, 1 on any failure (the message on stderr).

usage: ngclient.py --root FILE --metadata-url URL --target-base-url URL
                   --metadata-dir DIR --target-dir DIR [--target NAME ...]
                   [--targets-file FILE]

--targets-file names more targets, one per line (the benchmark downloads thousands).
"""

import argparse
import sys

from tuf.ngclient import Updater


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--metadata-url", required=True)
    parser.add_argument("--target-base-url", required=True)
    parser.add_argument("--metadata-dir", required=True)
    parser.add_argument("--target-dir", required=True)
    parser.add_argument("--target", action="append", default=[])
    parser.add_argument("--targets-file")
    args = parser.parse_args()
    if args.targets_file:
        with open(args.targets_file, encoding="utf-8") as f:
            args.target += [line.strip() for line in f if line.strip()]
    with open(args.root, "rb") as f:
        root = f.read()
    try:
        updater = Updater(
            metadata_dir=args.metadata_dir,
            metadata_base_url=args.metadata_url,
            target_dir=args.target_dir,
            target_base_url=args.target_base_url,
            bootstrap=root,
        )
        updater.refresh()
        for name in args.target:
            info = updater.get_targetinfo(name)
            if info is None:
                print(f"ngclient: target {name!r} not found", file=sys.stderr)
                return 1
            path = updater.find_cached_target(info) or updater.download_target(info)
            print(f"ngclient: {name} -> {path}")
    except Exception as error:  # any failure is a test failure, with its reason
        print(f"ngclient: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"ngclient: root v{updater._trusted_set.root.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
