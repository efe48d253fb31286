#!/usr/bin/env python3
"""RAG benchmark driver (bench/rag/run.sh runs it): starts tests/fakes/fake_models.py with a
fixed generation delay and `lakehouse serve` on a temp data dir whose [generate] model is the
fake (the embedder is the built-in lexical one), ingests a seeded N-row resume dataset,
builds a vector index over it with POST /vectors/index (timed: rows, chunks, chunks/s), then
sends Q distinct seeded questions to POST /vectors/rag after a warm-up. Each answer's
"timings" split the request into embed / search / rerank / prompt / generate; the client
times the whole request. Overhead = client wall time - generate_ms (everything that is not
the model call), as a share of the wall time; goal < 5%. The model alone (the fake asked
directly, same delay) is timed too, so what our model client adds shows separately."""

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import lhserve  # noqa: E402

DATASET = "resumes"
INDEX = "resumes_idx"
PARTS = ["embed_ms", "search_ms", "rerank_ms", "prompt_ms", "generate_ms"]
# The fake answers every question with this; [9] names a passage that was never shown
# (k = 5), so every request also exercises the citation check.
REPLY = ("The strongest match is the first candidate [1], whose recent projects fit the "
         "role; the second [2] has the same skills with fewer years. Candidate [3] is worth "
         "a call as well [2, 3]. One more was mentioned [9].")

FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
         "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq",
         "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoë"]
LAST = ["Alvarez", "Brown", "Chen", "Dubois", "Eriksen", "Fischer", "García", "Hansen", "Ito",
        "Jensen", "Kowalski", "López", "Müller", "Nakamura", "Okafor", "Patel", "Rossi",
        "Schmidt", "Tanaka", "Usman", "Varga", "Weber", "Yilmaz", "Zhang"]
TITLES = ["backend engineer", "data engineer", "frontend developer", "site reliability engineer",
          "nurse", "warehouse supervisor", "forklift operator", "accountant", "payroll specialist",
          "recruiter", "project manager", "electrician", "welder", "truck driver",
          "customer support lead", "sales representative", "machine learning engineer",
          "QA analyst", "HR generalist", "logistics coordinator", "dental assistant",
          "chef de partie", "security analyst", "mobile developer", "plumber"]
SKILLS = ["Python", "Rust", "Go", "Java", "Kotlin", "TypeScript", "React", "SQL", "Kubernetes",
          "Terraform", "AWS", "Azure", "Spark", "Airflow", "dbt", "Excel", "SAP", "Salesforce",
          "forklift licence", "CDL class A", "OSHA 30", "ICU care", "phlebotomy", "TIG welding",
          "PLC programming", "payroll", "GAAP", "IFRS", "negotiation", "Spanish", "German",
          "Mandarin", "first aid", "inventory control", "lean six sigma", "Scrum", "Jira",
          "customer onboarding", "penetration testing", "SIEM", "Swift", "Android",
          "food safety", "HACCP", "blueprint reading", "conduit bending", "cold calling"]
CITIES = ["Austin", "Boston", "Chicago", "Denver", "Seattle", "Atlanta", "Phoenix", "Miami",
          "Portland", "Dallas", "Toronto", "Berlin", "Lisbon", "Madrid", "Warsaw", "Dublin",
          "Manchester", "Lyon", "Rotterdam", "Prague"]
COMPANIES = ["Acme Logistics", "Northwind", "Globex", "Initech", "Umbrella Health",
             "Stark Freight", "Wayne Foods", "Hooli", "Vandelay Imports", "Soylent Care",
             "Cyberdyne", "Tyrell Retail", "Oscorp Energy", "Wonka Foods", "Pied Piper"]
VERBS = ["led", "built", "ran", "improved", "automated", "migrated", "supervised", "trained",
         "cut costs on", "rolled out", "audited", "scaled"]
THINGS = ["the night shift", "a billing pipeline", "the onboarding flow", "inventory counts",
          "a patient intake process", "the data warehouse", "route planning", "a mobile app",
          "vendor contracts", "the payroll run", "a safety programme", "incident response",
          "the hiring funnel", "a reporting dashboard", "the CI system", "cold storage"]



def resume(rng, i):
    """One staffing-flavoured resume of 300-600 characters."""
    title = rng.choice(TITLES)
    city = rng.choice(CITIES)
    years = rng.randint(1, 25)
    skills = rng.sample(SKILLS, rng.randint(3, 6))
    sentences = [f"{rng.choice(FIRST)} {rng.choice(LAST)}, {title} in {city} with {years} "
                 f"years of experience.",
                 f"Skills: {', '.join(skills)}."]
    target = rng.randint(300, 600)
    text = " ".join(sentences)
    while len(text) < target:
        s = (f"At {rng.choice(COMPANIES)} ({rng.randint(1998, 2024)}) {rng.choice(VERBS)} "
             f"{rng.choice(THINGS)} using {rng.choice(SKILLS)}.")
        if rng.random() < 0.3:
            s += f" Open to {rng.choice(['remote', 'hybrid', 'on-site', 'relocation'])} work."
        if len(text) + 1 + len(s) > 600:
            if len(text) >= 300:
                break
            s = s[:600 - len(text) - 1].rstrip()
        text += " " + s
    return text


def make_csv(path, rows, seed):
    rng = random.Random(seed)
    total = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["candidate_id", "city", "resume"])
        for i in range(rows):
            text = resume(rng, i)
            total += len(text)
            w.writerow([f"c{i:06d}", text.split(" in ", 1)[1].split(" with ", 1)[0], text])
    return total / max(rows, 1)


def questions(n, seed):
    rng = random.Random(seed + 1)
    forms = ["Who has {y}+ years of {s} experience in {c}?",
             "Which {t} candidates know {s} and {s2}?",
             "Find a {t} in {c} who has worked with {s}.",
             "Which candidates could lead {th} with {s}?",
             "Who is open to remote work and knows {s}?"]
    out, seen = [], set()
    while len(out) < n:
        q = rng.choice(forms).format(y=rng.randint(2, 15), s=rng.choice(SKILLS),
                                     s2=rng.choice(SKILLS), c=rng.choice(CITIES),
                                     t=rng.choice(TITLES), th=rng.choice(THINGS))
        if q not in seen:
            seen.add(q)
            out.append(q)
    return out


def build_index(sess, base, rows):
    """Submits the build and polls the job; wall time from submit to success, and when each
    phase was first seen (a coarse split: the poll interval is 0.2 s)."""
    t0 = time.perf_counter()
    r = sess.post(f"{base}/vectors/index", json={"dataset": DATASET, "text_column": "resume",
                                                 "id_column": "candidate_id", "index": INDEX,
                                                 "provider": "lexical"}, timeout=60)
    if r.status_code != 202:
        sys.exit(f"bench_rag: POST /vectors/index failed: {r.status_code} {r.text[:500]}")
    job = r.json()["job_id"]
    phases = {}
    while True:
        rec = sess.get(f"{base}/vectors/jobs/{job}", timeout=30).json()
        ph = (rec.get("progress") or {}).get("phase")
        if ph and ph not in phases:
            phases[ph] = time.perf_counter() - t0
        if rec["state"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    if rec["state"] != "succeeded":
        sys.exit(f"bench_rag: the index build {rec['state']}: {rec.get('error')}")
    res = rec["result"]
    if res["rows"] != rows:
        sys.exit(f"bench_rag: the index has {res['rows']} rows, the dataset {rows}")
    return wall, res, phases


def model_alone(sess, fake_url, n):
    """The fake asked directly, as our model client asks it: the model's own time."""
    body = {"model": "gen", "stream": False,
            "messages": [{"role": "system", "content": "Answer with citations."},
                         {"role": "user", "content": "Passages:\n[1] x\n\nQuestion: y"}]}
    out = []
    for _ in range(n + 1):
        t0 = time.perf_counter()
        r = sess.post(f"{fake_url}/api/chat", json=body, timeout=120)
        out.append((time.perf_counter() - t0) * 1000.0)
        if r.status_code != 200:
            sys.exit(f"bench_rag: the fake model failed: {r.status_code} {r.text[:300]}")
    return statistics.median(out[1:])


def rag_once(sess, base, q, k):
    t0 = time.perf_counter()
    r = sess.post(f"{base}/vectors/rag", json={"index": INDEX, "question": q, "k": k},
                  timeout=300)
    wall = (time.perf_counter() - t0) * 1000.0
    if r.status_code != 200:
        sys.exit(f"bench_rag: rag failed: {r.status_code} {r.text[:500]}")
    doc = r.json()
    if doc["mode"] != "generative" or doc["passages"] != k:
        sys.exit(f"bench_rag: unexpected answer: mode {doc['mode']}, passages {doc['passages']}")
    # [1] [2] [3] survive, [9] is dropped: three citations, each cited in the answer.
    if len(doc["citations"]) != 3 or "[9]" in doc["answer"]:
        sys.exit(f"bench_rag: citations not checked: {doc['answer']!r}")
    return wall, doc["timings"]


def pct(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fake", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--delay-ms", type=int, default=500, help="the fake's generation delay")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--quick", action="store_true", help="20K rows, 10 queries")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if a.quick:
        a.rows, a.queries, a.warmup = min(a.rows, 20_000), min(a.queries, 10), 2
    if a.k < 3:
        sys.exit("bench_rag: --k must be at least 3 (the fake's answer cites [1]..[3])")

    work = tempfile.mkdtemp(prefix="lh-bench-rag-")
    procs = []
    try:
        flog_path = os.path.join(work, "fake.log")
        flog = open(flog_path, "wb")
        fake = subprocess.Popen(["/usr/bin/python3", a.fake, "--port", "0", "--delay-ms",
                                 str(a.delay_ms), "--exit-on-stdin-eof"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=flog)
        procs.append(fake)
        line = fake.stdout.readline()
        if not line.strip().isdigit():
            sys.exit(f"bench_rag: the fake model server did not start; see {flog_path}")
        fake_url = f"http://127.0.0.1:{int(line)}"
        sess = requests.Session()
        r = sess.post(f"{fake_url}/_control", json={"reply": REPLY}, timeout=10)
        if r.status_code != 200:
            sys.exit(f"bench_rag: /_control failed: {r.text[:300]}")

        cfg = (f'[generate]\nprovider = "ollama"\nmodel = "gen"\nurl = "{fake_url}"\n'
               f'timeout_ms = {max(60000, a.delay_ms * 4)}\n')
        srv = lhserve.Server(a.bin, work, config=cfg)
        procs.append(srv.proc)
        base = srv.base

        csv_path = os.path.join(work, "resumes.csv")
        t0 = time.perf_counter()
        mean_len = make_csv(csv_path, a.rows, a.seed)
        gen_s = time.perf_counter() - t0
        mb = os.path.getsize(csv_path) / 1e6
        t0 = time.perf_counter()
        with open(csv_path, "rb") as f:
            r = sess.post(f"{base}/ingest/file", data={"name": DATASET},
                          files={"file": ("resumes.csv", f, "text/csv")}, timeout=900)
        ingest_s = time.perf_counter() - t0
        if r.status_code != 201:
            sys.exit(f"bench_rag: ingest failed: {r.status_code} {r.text[:500]}")
        build_wall, res, phases = build_index(sess, base, a.rows)

        alone_ms = model_alone(sess, fake_url, 5)
        qs = questions(a.warmup + a.queries, a.seed)
        for q in qs[:a.warmup]:
            rag_once(sess, base, q, a.k)
        walls, tims = [], []
        for q in qs[a.warmup:]:
            w, t = rag_once(sess, base, q, a.k)
            walls.append(w)
            tims.append(t)

        med = {p: statistics.median(t[p] for t in tims) for p in PARTS + ["total_ms"]}
        p90 = {p: pct([t[p] for t in tims], 90) for p in PARTS + ["total_ms"]}
        other = [t["total_ms"] - sum(t[p] for p in PARTS) for t in tims]
        http = [w - t["total_ms"] for w, t in zip(walls, tims)]
        over = [w - t["generate_ms"] for w, t in zip(walls, tims)]
        share = [o / w * 100.0 for o, w in zip(over, walls)]
        wall_med = statistics.median(walls)
        over_med = statistics.median(over)
        share_med = statistics.median(share)

        def row(name, m, p, note=""):
            return f"  {name:<30} {m:>10.3f} {p:>10.3f} {m / wall_med * 100.0:>8.2f}%  {note}"

        chunks_s = res["chunks"] / (res["build_ms"] / 1000.0) if res["build_ms"] else 0.0
        phase_txt = ", ".join(f"{k} from {v:.1f} s" for k, v in phases.items())
        load = " ".join(open("/proc/loadavg").read().split()[:3])
        lines = [
            f"# bench/rag: {a.rows} rows (seed {a.seed}), {a.queries} questions + {a.warmup} "
            f"warm-up, k={a.k}, fake model delay {a.delay_ms} ms, {os.path.basename(a.bin)}, "
            f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, {os.cpu_count()} cores, "
            f"load {load}",
            f"dataset   {a.rows} resumes, mean {mean_len:.0f} chars, {mb:.1f} MB CSV "
            f"(generated in {gen_s:.1f} s), ingest {ingest_s:.1f} s",
            f"index     lexical embedder, {res['chunks']} chunks from {res['rows']} rows: build "
            f"{res['build_ms'] / 1000.0:.1f} s ({chunks_s:,.0f} chunks/s; {build_wall:.1f} s "
            f"submit to done; {phase_txt})",
            f"model     the fake asked directly: {alone_ms:.1f} ms median (delay {a.delay_ms} ms)",
            "",
            f"  {'per RAG request':<30} {'median ms':>10} {'p90 ms':>10} {'of wall':>9}",
            row("embed (question)", med["embed_ms"], p90["embed_ms"]),
            row("search (HNSW)", med["search_ms"], p90["search_ms"]),
            row("rerank", med["rerank_ms"], p90["rerank_ms"], "(off)"),
            row("prompt building", med["prompt_ms"], p90["prompt_ms"]),
            row("generate (model call)", med["generate_ms"], p90["generate_ms"]),
            row("other in server", statistics.median(other), pct(other, 90),
                "(hits, citation check, JSON)"),
            row("server total_ms", med["total_ms"], p90["total_ms"]),
            row("HTTP + client", statistics.median(http), pct(http, 90),
                "(wall - total_ms)"),
            row("client wall", wall_med, pct(walls, 90)),
            "",
            f"overhead outside the model (wall - generate_ms): {over_med:.2f} ms median = "
            f"{share_med:.2f}% of the request (max {max(share):.2f}%; goal < 5%: "
            f"{'MET' if share_med < 5.0 else 'MISSED'})",
            f"our model client (generate_ms - the fake asked directly): "
            f"{med['generate_ms'] - alone_ms:.2f} ms",
        ]
        text = "\n".join(lines) + "\n"
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
        with open(a.out, "w") as f:
            f.write(text)
        print(text, end="")
    finally:
        for p in reversed(procs):
            lhserve.stop_process(p)
        if a.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
