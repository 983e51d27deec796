"""Extracts kubernetes-validate's JSON schemas for some Kubernetes versions, made usable offline.

Usage: schemas.py WHEEL OUT_DIR VERSION...   (VERSION like 1.34.0)
Writes OUT_DIR/v<VERSION>-local[-strict]/*.json. Each shipped schema has an "$id" on kubernetes.io
and "$ref"s to "/api/_definitions.json#/..."; kubeconform would resolve both against the network.
Here the "$id" goes and each "$ref" points at the _definitions.json in the same folder.
"""
import json
import os
import shutil
import sys
import tempfile
import zipfile

PREFIX = "kubernetes_validate/kubernetes-json-schema/"


def fix(node):
    if isinstance(node, dict):
        node.pop("$id", None)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("/api/_definitions.json"):
            node["$ref"] = "_definitions.json" + ref[len("/api/_definitions.json"):]
        for value in node.values():
            fix(value)
    elif isinstance(node, list):
        for value in node:
            fix(value)


def main(wheel, out, versions):
    wanted = {f"v{v}-local{s}" for v in versions for s in ("", "-strict")}
    counts = {}
    os.makedirs(out, exist_ok=True)
    staging = tempfile.mkdtemp(dir=out, prefix=".staging-")
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if not name.startswith(PREFIX) or not name.endswith(".json"):
                continue
            folder, _, file = name[len(PREFIX):].partition("/")
            if folder not in wanted or "/" in file:
                continue
            schema = json.loads(z.read(name))
            fix(schema)
            tmp = os.path.join(staging, folder)
            os.makedirs(tmp, exist_ok=True)
            with open(os.path.join(tmp, file), "w") as f:
                json.dump(schema, f)
            counts[folder] = counts.get(folder, 0) + 1
    missing = wanted - counts.keys()
    if missing:
        sys.exit(f"the wheel has no schemas for {sorted(missing)}")
    for folder in sorted(wanted):
        final = os.path.join(out, folder)
        try:
            os.rename(os.path.join(staging, folder), final)
        except OSError:
            if not os.path.isdir(final):  # else another run put it there first
                raise
        print(f"  {folder}: {counts[folder]} schemas")
    shutil.rmtree(staging)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
