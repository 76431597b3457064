#!/usr/bin/env python3
"""Vendor the pages' third-party files from the npm registry into static/vendor/ (no CDN at run time).

For each package below: `npm pack NAME@VERSION` into a temporary folder, copy the listed files (and
the package's licence) into static/vendor/<name>/, and record name, version, licence, tarball
integrity and source files in static/vendor/vendored.json (VENDORED.md is written from it).
Run `python3 scripts/vendor.py` to refresh after changing a version here; it needs `npm`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"

# name, version, {source path in the package: destination path under static/vendor/<name>/}, why
PACKAGES = [
    ("barcode-detector", "3.2.2",
     {"dist/es/zxing-exported.js": "zxing-exported.js", "dist/es/ponyfill.js": "ponyfill.js"},
     "BarcodeDetector ponyfill for the guard's scanner (Chromium on Linux has no native one)"),
    ("zxing-wasm", "3.1.3",
     {"dist/reader/zxing_reader.wasm": "zxing_reader.wasm"},
     "the ZXing-C++ reader compiled to WebAssembly, loaded by barcode-detector from our own path"),
    ("echarts", "6.1.0",
     {"dist/echarts.simple.min.js": "echarts.simple.min.js", "NOTICE": "NOTICE"},
     "charts in the staff console (the 'simple' build: line, bar and pie only; sets globalThis.echarts)"),
]
LICENCE_FILES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "license")


def vendor_one(name: str, version: str, files: dict[str, str], purpose: str, work: Path) -> dict:
    """Fetch one package with npm pack and copy its files; return its record."""
    out = subprocess.run(["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", str(work)],
                         check=True, capture_output=True, text=True, cwd=work)
    info = json.loads(out.stdout)[0]
    tarball = work / info["filename"]
    unpacked = work / name
    with tarfile.open(tarball) as tar:
        tar.extractall(unpacked, filter="data")
    package = unpacked / "package"
    meta = json.loads((package / "package.json").read_text())
    target = VENDOR / name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for source, dest in files.items():
        shutil.copyfile(package / source, target / dest)
    licence_file = next((f for f in LICENCE_FILES if (package / f).is_file()), None)
    if licence_file:
        shutil.copyfile(package / licence_file, target / "LICENSE")
    return {"name": name, "version": meta["version"], "license": meta.get("license"),
            "integrity": info.get("integrity"), "purpose": purpose,
            "files": {f"{name}/{dest}": source for source, dest in files.items()},
            "licence_file": f"{name}/LICENSE" if licence_file else None}


def write_markdown(records: list[dict]) -> None:
    """static/vendor/VENDORED.md: the same records for people."""
    lines = ["# Vendored third-party files", "",
             "Written by `scripts/vendor.py` from the npm registry (`npm pack`); do not edit by hand.", "",
             "| package | version | licence | files (source in the package) | why |",
             "| --- | --- | --- | --- | --- |"]
    for r in records:
        files = "<br>".join(f"`{dest}` ← `{src}`" for dest, src in r["files"].items())
        lines.append(f"| {r['name']} | {r['version']} | {r['license']} | {files} | {r['purpose']} |")
    lines += ["", "zxing_reader.wasm is ZXing-C++ (Apache-2.0) compiled by zxing-wasm (MIT).", ""]
    (VENDOR / "VENDORED.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    VENDOR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        records = [vendor_one(*package, work=Path(tmp)) for package in PACKAGES]
    (VENDOR / "vendored.json").write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
    write_markdown(records)
    for r in records:
        print(f"vendored {r['name']}@{r['version']} ({r['license']})")


if __name__ == "__main__":
    main()
