#!/usr/bin/env python3
"""Compare what two `bulletin` binaries produce from the same inputs, byte for byte.

    scripts/compare-outputs.py OLD_BIN NEW_BIN [--postgres URL] [--keep DIR]

For a change that must not alter behaviour (a refactor): build the old binary from
the base commit (for example `git worktree add /tmp/base REV && cargo build
--release --manifest-path /tmp/base/Cargo.toml`), then run this with the two
binaries. Each binary, on a fresh data directory (SQLite, or a fresh database per
run with --postgres), imports the real corpus and a WordPress fixture from
`../shared` plus a generated archive, and then:

- the command line: export (JSON, text, filtered text, Markdown), redirects,
  search, check, gen (text and WXR), user and subscriber listings, and every
  command's --help;
- the site over TCP: every address in the sitemap, the feeds, archives, pages and
  answers linked from them, searches, the public API and its OpenAPI description,
  not-found pages, redirects, conditional requests, each as status, the headers
  that matter, and the body.

Left out of every comparison, as known nondeterminism of the code: the order of
tied "Related stories" (it differs between two processes of the same binary) and
random form tokens; times of imports and changes. The old binary runs twice, to
show that nothing else varies between runs. Exit 0 when every answer is identical;
1 with a list of differences (and a unified diff of the first few).
"""

import argparse
import difflib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "tag-archive-political-rights.txt"
WXR_DIR = SHARED / "fixtures" / "wxr"

# Volatile by nature: the wall-clock time of an import or request.
# "at" is a history entry's time; Last-Modified is the time of the last change.
VOLATILE_JSON_KEYS = {"created_at", "updated_at", "imported_at", "at"}
VOLATILE_HEADERS = {"date", "last-modified"}
KEPT_HEADERS = [
    "content-type", "cache-control", "etag", "last-modified", "location", "vary",
    "content-security-policy", "x-content-type-options", "referrer-policy",
    "x-frame-options", "access-control-allow-origin", "link", "allow",
    "content-language", "strict-transport-security", "permissions-policy",
]
# Known nondeterminism of the old code, left out of every comparison: the order of
# tied "Related stories" differs from process to process, and form tokens are
# random by design.
RELATED = re.compile(rb'<aside class="related".*?</aside>', re.S)
FORM_TOKEN = re.compile(rb'(name="(?:form_token|csrf)" value=")[^"]*"')
# Times a page shows that are the time of this run (sign-in, import, audit).
CLOCK = re.compile(rb"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?( UTC|Z)?")
# Signed links carry a signature under each data directory's own random secret.
SIGNED = re.compile(rb"v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
ADMIN_EMAIL = "compare@example.org"
ADMIN_PASSWORD = "a long passphrase for comparing"
MAX_PAGES = 2500


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, **kw)


def record_cli(bin_path, data, database, out: Path):
    """Runs the command-line cases; writes one file per case."""
    base = [str(bin_path), "--data", str(data)]
    if database:
        base += ["--database", database]
    gen_text = data.parent / "generated.txt"
    wxr = sorted(WXR_DIR.glob("*.xml"))
    steps = [
        ("gen-text", ["gen", "--stories", "400", "--seed", "7", "-o", str(gen_text)]),
        ("import-corpus", ["import", str(CORPUS), str(gen_text)]),
        ("import-wxr", ["import", *map(str, wxr)]),
        ("export-json", ["export", "--format", "json"]),
        ("export-text", ["export", "--format", "text"]),
        ("export-text-tag", ["export", "--format", "text", "--tag", "political rights"]),
        ("redirects", ["redirects", "--json"]),
        ("search-json", ["search", "detained \"political prisoners\" -Uzbekistan", "--json"]),
        ("search-text", ["search", "elections", "--country", "KZ", "--newest"]),
        ("search-bad", ["search", "\"unclosed"]),
        ("check-corpus", ["check", str(CORPUS)]),
        ("gen-wxr", ["gen", "--format", "wxr", "--stories", "60", "--seed", "3", "-o", "-"]),
        ("users", ["user", "list", "--json"]),
        ("subscribers", ["subscribers", "list", "--json"]),
        ("help", ["--help"]),
    ]
    for sub in ["serve", "demo", "import", "check", "export", "gen", "search",
                "reindex", "user", "subscribers", "send", "redirects"]:
        steps.append((f"help-{sub}", [sub, "--help"]))
    p = run(base + ["user", "add", ADMIN_EMAIL, "--role", "admin"], input=ADMIN_PASSWORD.encode() + b"\n")
    if p.returncode != 0:
        raise SystemExit(f"user add failed: {p.stderr.decode()}")
    for name, args in steps:
        p = run(base + args, cwd=data.parent)
        stdout = p.stdout
        if name.startswith("import"):
            # Import reports end with speed and memory figures: not behaviour.
            stdout = re.sub(rb"[\d.,]+ (stories|posts)/s.*", b"<speed>", stdout)
            stderr = re.sub(rb"[\d.,]+ (stories|posts)/s.*", b"<speed>", p.stderr)
            stderr = re.sub(rb"peak memory[^\n]*", b"<memory>", stderr)
            stderr = re.sub(rb" in [\d.]+ ?m?s\b", b" in <time>", stderr)
            stdout = re.sub(rb" in [\d.]+ ?m?s\b", b" in <time>", stdout)
        else:
            stderr = p.stderr
        if name == "export-json":
            stdout = normalise_json(stdout)
        # Each run has a folder of its own; the answers must not depend on it.
        stdout = stdout.replace(bytes(data.parent), b"<work>")
        stderr = stderr.replace(bytes(data.parent), b"<work>")
        (out / f"cli-{name}").write_bytes(
            b"exit %d\n--- stdout\n" % p.returncode + stdout + b"\n--- stderr\n" + stderr
        )
    md = data.parent / "markdown"
    p = run(base + ["export", "--format", "markdown", "-o", str(md)])
    lines = [b"exit %d" % p.returncode]
    for f in sorted(md.rglob("*")) if md.exists() else []:
        if f.is_file():
            lines.append(b"=== " + str(f.relative_to(md)).encode() + b"\n" + f.read_bytes())
    (out / "cli-export-markdown").write_bytes(b"\n".join(lines))


def normalise_json(raw: bytes) -> bytes:
    try:
        value = json.loads(raw)
    except ValueError:
        return raw

    def strip(v):
        if isinstance(v, dict):
            return {k: ("<time>" if k in VOLATILE_JSON_KEYS else strip(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    return json.dumps(strip(value), ensure_ascii=False, indent=1).encode()


class Server:
    def __init__(self, bin_path, data, database):
        cmd = [str(bin_path), "--data", str(data)]
        if database:
            cmd += ["--database", database]
        cmd += ["serve", "--addr", "127.0.0.1:0"]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        self.port = None
        for line in self.proc.stderr:
            m = re.search(rb"serving http://127\.0\.0\.1:(\d+)/", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            raise SystemExit(f"{bin_path} serve did not say where it listens")
        # Keep draining stderr so the server never blocks on a full pipe.
        self.drain = subprocess.Popen(["cat"], stdin=self.proc.stderr, stdout=subprocess.DEVNULL)

    def get(self, path, headers=None, method="GET", body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        body = r.read()
        conn.close()
        headers = {k.lower(): v for k, v in r.getheaders()}
        headers["set-cookie"] = "\n".join(v for k, v in r.getheaders() if k.lower() == "set-cookie")
        return r.status, headers, body

    def wait_until_indexed(self):
        # The index catches up at start; a search for a common word answers then.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status, headers, _ = self.get("/api/v1/search?q=the")
            if status == 200 and "etag" in headers:
                return
            time.sleep(0.2)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.drain.kill()


SEEDS = [
    "/", "/page/2/", "/issues/", "/tags/", "/robots.txt", "/sitemap.xml", "/feed/",
    "/feed/atom/", "/search?q=detained", "/search?q=%22political+prisoners%22+-Uzbekistan",
    "/search?q=elections&country=KZ&sort=newest", "/search?q=", "/search?q=%22unclosed",
    "/search?q=tax&page=999999", "/api/v1/search?q=detained&limit=5",
    "/api/v1/search?q=protest&country=KZ&from=2021&offset=0&limit=20",
    "/api/v1/search?q=%22unclosed", "/api/v1/search?q=x&limit=100000",
    "/api/v1/openapi.json", "/no/such/page/", "/?p=1", "/?p=2", "/subscribe/",
    "/account/sign-in/", "/account/", "/admin/", "/admin/login", "/style.css",
    "/tag/political-rights/", "/tag/political-rights/feed/",
]
HREF = re.compile(rb'(?:href|src)="(/[^"#]*)"')
LOC = re.compile(rb"<loc>https?://[^/<]+(/[^<]*)</loc>")


def crawl(server, out: Path):
    seen, queue, n = set(), list(SEEDS), 0
    while queue and n < MAX_PAGES:
        path = queue.pop(0)
        if path in seen or path.startswith("/admin/") and path not in SEEDS:
            continue
        seen.add(path)
        status, headers, body = server.get(path)
        n += 1
        write_answer(out, "GET " + path, status, headers, body)
        if status == 200 and (headers.get("content-type", "").startswith(("text/html", "application/xml", "text/xml", "application/rss", "application/atom"))):
            for m in HREF.findall(body) + LOC.findall(body):
                link = m.decode("utf-8", "replace").replace("&amp;", "&")
                if link not in seen:
                    queue.append(link)
        # Conditional requests on the first pages: the same validators, the same 304s.
        if n <= 20 and "etag" in headers:
            st, hd, bd = server.get(path, {"If-None-Match": headers["etag"]})
            write_answer(out, "GET-if-none-match " + path, st, hd, bd)
    return n


def sign_in(server):
    """A staff session cookie for the admin crawl."""
    status, headers, body = server.get("/admin/login")
    token = re.search(rb'name="form_token" value="([^"]*)"', body).group(1).decode()
    form_cookie = headers["set-cookie"].split(";", 1)[0]
    form = urllib.parse.urlencode(
        {"form_token": token, "next": "/admin/", "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    status, headers, _ = server.get(
        "/admin/login",
        {"Cookie": form_cookie, "Content-Type": "application/x-www-form-urlencoded",
         "Origin": f"http://127.0.0.1:{server.port}"},
        method="POST", body=form,
    )
    cookies = [c.split(";", 1)[0] for c in headers["set-cookie"].split("\n")]
    cookie = next((c for c in cookies if c.startswith("bulletin_session=")), "")
    if status != 303 or not cookie:
        raise SystemExit(f"sign-in for the admin crawl failed: {status} {headers}")
    return cookie


def crawl_admin(server, out: Path):
    """Every admin page reachable by GET links from /admin/, signed in as an admin."""
    cookie = sign_in(server)
    seen, queue, n, shapes = set(), ["/admin/"], 0, {}
    while queue and n < 400:
        path = queue.pop(0)
        if path in seen or not path.startswith("/admin/") or "logout" in path:
            continue
        seen.add(path)
        # A few pages of each kind (the story editor, an issue, a preview...).
        shape = re.sub(r"/[^/?]*[a-z0-9]-[^/?]*|/\d+", "/x", path)
        shapes[shape] = shapes.get(shape, 0) + 1
        if shapes[shape] > 4:
            continue
        status, headers, body = server.get(path, {"Cookie": cookie})
        n += 1
        write_answer(out, "ADMIN " + path, status, headers, body)
        if status == 200 and headers.get("content-type", "").startswith("text/html"):
            for m in HREF.findall(body):
                link = m.decode("utf-8", "replace").replace("&amp;", "&").replace("&#x2f;", "/")
                if link not in seen:
                    queue.append(link)
    for path in ["/api/v1/admin/stories", "/api/v1/admin/issues", "/api/v1/admin/audit"]:
        status, headers, body = server.get(path)
        write_answer(out, "GET " + path, status, headers, body)
    return n


def write_answer(out, key, status, headers, body):
    name = urllib.parse.quote(key, safe="")[:200]
    kept = "".join(
        f"{h}: {'<time>' if h in VOLATILE_HEADERS else headers[h]}\n"
        for h in KEPT_HEADERS + sorted(VOLATILE_HEADERS)
        if h in headers
    )
    (out / f"web-{name}").write_bytes(f"{key}\nstatus {status}\n{kept}\n".encode() + body)


def record(bin_path, postgres, out: Path, work: Path):
    out.mkdir(parents=True)
    data = work / "data"
    data.mkdir(parents=True)
    database = None
    if postgres:
        name = f"bulletin_compare_{os.getpid()}_{abs(hash(str(out))) % 10**8}"
        psql(postgres, f"CREATE DATABASE {name}")
        database = re.sub(r"/[^/?]*(\?|$)", f"/{name}\\1", postgres.split("://", 1)[1], count=1)
        database = postgres.split("://", 1)[0] + "://" + database
    record_cli(bin_path, data, database, out)
    server = Server(bin_path, data, database)
    try:
        server.wait_until_indexed()
        pages = crawl(server, out) + crawl_admin(server, out)
    finally:
        server.stop()
    if postgres:
        psql(postgres, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return pages


def psql(url, sql):
    p = run(["psql", url, "-qc", sql])
    if p.returncode != 0:
        raise SystemExit(f"psql failed: {p.stderr.decode()}")


def stable(answer: bytes) -> bytes:
    answer = RELATED.sub(b"<related/>", answer)
    answer = CLOCK.sub(b"<clock>", answer)
    answer = SIGNED.sub(b"<signed>", answer)
    return FORM_TOKEN.sub(rb'\1<token>"', answer)


def compare(a: Path, b: Path):
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    differ = []
    for name in names:
        fa, fb = a / name, b / name
        if not fa.exists() or not fb.exists():
            differ.append((name, "only in " + ("old" if fa.exists() else "new")))
            continue
        x, y = fa.read_bytes(), fb.read_bytes()
        x, y = stable(x), stable(y)
        if x != y:
            differ.append((name, "differs"))
    return names, differ


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--postgres", help="a server URL where databases may be created")
    ap.add_argument("--keep", help="keep the recorded answers in this folder")
    args = ap.parse_args()
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} is absent: put the shared folder beside the checkout")
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="bulletin-compare-"))
    runs = {}
    for label, binary in [("old", args.old), ("old-again", args.old), ("new", args.new)]:
        runs[label] = tmp / label / "answers"
        pages = record(Path(binary).resolve(), args.postgres, runs[label], tmp / label / "work")
        print(f"{label}: {pages} pages fetched, {len(list(runs[label].iterdir()))} answers recorded")
    # The old binary against itself: anything unstable there is a defect of this
    # script's normalisation (or new nondeterminism), not of the change.
    _, unstable = compare(runs["old"], runs["old-again"])
    for name, why in unstable:
        print(f"UNSTABLE in the old binary itself ({why}): {urllib.parse.unquote(name)}")
    names, differ = compare(runs["old"], runs["new"])
    print(f"compared {len(names)} answers: {len(differ)} differ; {len(unstable)} unstable between two runs of the old binary")
    for name, why in differ:
        print(f"DIFFERS ({why}): {urllib.parse.unquote(name)}")
    for name, why in differ[:5]:
        if why == "differs":
            x = (runs["old"] / name).read_bytes().decode("utf-8", "replace").splitlines()
            y = (runs["new"] / name).read_bytes().decode("utf-8", "replace").splitlines()
            sys.stdout.writelines(l + "\n" for l in list(difflib.unified_diff(x, y, "old", "new", lineterm=""))[:60])
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if differ or unstable else 0)


if __name__ == "__main__":
    main()
