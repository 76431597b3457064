"""The static pages: served at /console/ and /m/ with a strict CSP; unknown names are 404."""

from server.api.pages import CAMERA_CSP, CSP


def test_console_and_mobile_pages_are_served_with_a_strict_csp(client):
    for url in ("/console/", "/m/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == "text/html"
        csp = response.headers["Content-Security-Policy"]
        assert csp == CSP
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "script-src 'self';" in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert b"<script type=\"module\" src=\"/static/js/" in response.data
        assert b"<script>" not in response.data and b"style=" not in response.data


def test_only_the_camera_pages_may_compile_webassembly(client):
    for url in ("/m/guard", "/m/checkin"):
        response = client.get(url)
        assert response.headers["Content-Security-Policy"] == CAMERA_CSP
        assert "script-src 'self' 'wasm-unsafe-eval';" in CAMERA_CSP and "'unsafe-eval'" not in CAMERA_CSP
        assert response.headers["Permissions-Policy"].startswith("camera=(self)")
    for url in ("/m/pass", "/m/delivery", "/console/"):
        response = client.get(url)
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["Permissions-Policy"].startswith("camera=()")


def test_unknown_or_unsafe_page_names_are_404(client):
    for url in ("/m/nope", "/console/nope", "/m/..%2Fconsole%2Findex", "/m/INDEX", "/m/index.html"):
        assert client.get(url).status_code == 404, url


def test_bare_prefixes_redirect_to_the_folder(client):
    assert client.get("/m").headers["Location"].endswith("/m/")
    assert client.get("/console").headers["Location"].endswith("/console/")


def test_vendored_wasm_is_served_as_wasm(client):
    response = client.get("/static/vendor/zxing-wasm/zxing_reader.wasm")
    assert response.status_code == 200 and response.mimetype == "application/wasm"
    assert response.data[:4] == b"\0asm"
    response.close()


def test_no_page_loads_anything_from_another_origin():
    from pathlib import Path

    static = Path(__file__).resolve().parents[2] / "static"
    for path in list(static.rglob("*.html")) + list((static / "js").rglob("*.js")) + list(static.rglob("*.css")):
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text, path


def test_the_vendored_wasm_is_the_one_the_barcode_ponyfill_was_built_for():
    import hashlib
    import json
    from pathlib import Path

    vendor = Path(__file__).resolve().parents[2] / "static" / "vendor"
    wasm = hashlib.sha256((vendor / "zxing-wasm" / "zxing_reader.wasm").read_bytes()).hexdigest()
    assert f'"{wasm}"' in (vendor / "barcode-detector" / "zxing-exported.js").read_text(encoding="utf-8")
    records = {r["name"]: r for r in json.loads((vendor / "vendored.json").read_text(encoding="utf-8"))}
    assert set(records) == {"barcode-detector", "zxing-wasm", "echarts"}
    assert {name: r["license"] for name, r in records.items()} == {
        "barcode-detector": "MIT", "zxing-wasm": "MIT", "echarts": "Apache-2.0"}
    assert all(r["version"] for r in records.values())
    for record in records.values():
        assert all((vendor / dest).is_file() for dest in record["files"])
