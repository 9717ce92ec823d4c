"""The browser UI as the API app serves it: the page at `/`, its files under `/ui/` with a strict
Content-Security-Policy, the API's own answers unchanged, and the same text keys in every language."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx

from callboard.api.app import WEB_DIR

LANGUAGES = ("en", "es", "ru")


async def test_the_page_is_served_at_the_root_with_security_headers(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/ui/main.js">' in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    import_map = re.search(r'<script type="importmap">(.*?)</script>', page.text, re.DOTALL)
    assert import_map is not None
    digest = base64.b64encode(hashlib.sha256(import_map.group(1).encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}'" in policy  # the import map, and no other inline script
    assert "connect-src 'self' ws://callboard.test wss://callboard.test" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"


async def test_ui_files_and_vendored_libraries_are_served(client: httpx.AsyncClient) -> None:
    for path in ("/ui/main.js", "/ui/vendor/preact.module.js", "/ui/vendor/hooks.module.js", "/ui/styles.css"):
        answer = await client.get(path)
        assert answer.status_code == 200, path
        assert "content-security-policy" in answer.headers
    assert "javascript" in (await client.get("/ui/api.js")).headers["content-type"]
    assert (await client.get("/ui/nothing.js")).status_code == 404


async def test_the_api_keeps_its_paths_and_error_contract(client: httpx.AsyncClient) -> None:
    missing = await client.post("/api/v1/no-such-thing")
    assert missing.status_code in (404, 405)
    assert "error" in missing.json()
    assert "content-security-policy" not in missing.headers  # /docs loads Swagger UI from elsewhere
    assert (await client.get("/openapi.json")).status_code == 200
    assert "content-security-policy" not in (await client.get("/docs")).headers
    assert (await client.get("/api/v1/auth/me")).json()["error"]["id"] == "not_authenticated"


def test_every_language_has_every_text() -> None:
    keys = {}
    for lang in LANGUAGES:
        text = (WEB_DIR / "texts" / f"{lang}.js").read_text(encoding="utf-8")
        keys[lang] = re.findall(r'^\s*"([\w.]+)":', text, re.MULTILINE)
        assert len(keys[lang]) == len(set(keys[lang])), f"{lang}: a key twice"
    assert set(keys["es"]) == set(keys["en"]) == set(keys["ru"])
    used = set()
    for path in WEB_DIR.rglob("*.js"):
        if "vendor" not in path.parts and "texts" not in path.parts:
            used |= set(re.findall(r'\bt\("([\w.]+)"', path.read_text(encoding="utf-8")))
    assert used <= set(keys["en"]), f"texts missing: {sorted(used - set(keys['en']))}"


def test_no_inline_code_remote_loads_or_tokens_in_the_pages() -> None:
    page = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.DOTALL)
    assert all('type="importmap"' in attrs or (not body.strip() and "src=" in attrs) for attrs, body in scripts)
    assert not re.search(r"\son\w+=", page)  # no inline event handlers
    for path in WEB_DIR.rglob("*"):
        if path.suffix in (".html", ".js", ".css") and "vendor" not in path.parts:
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"(src|href)=\"?https?://", text), f"{path.name} loads from elsewhere"
            assert not re.search(r"cb_[A-Za-z0-9_-]{20,}", text), f"{path.name} holds an API token"
