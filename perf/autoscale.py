#!/usr/bin/env python3
"""The autoscaler following a load step: the ctr-ranker served with `autoscale` in its config.json,
driven by the project's open-loop load generator at a low rate, then a high one, then low again.
The instance count (lowlatency_engine_instances) is sampled every 250 ms, each autoscaler decision
is taken from the server's log, and the load's per-second rate and p99 come from the load
generator's windows. Writes perf/results/<name>.md, <name>/ (the runs' JSON, the samples, the log)
and <name>/autoscale.svg (load, p99 and instances over time, decisions marked).

  dotnet build LowLatency.sln -c Release
  python3 perf/autoscale.py [--low 300] [--high 4000] [--phases 20,25,30] [--target-us 300] [--out name]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOADGEN = "perf/LoadGen/bin/Release/net10.0/loadgen.dll"
SERVER = "host/bin/Release/net10.0/LowLatency.Host.dll"
BASE = "http://127.0.0.1:8002"
WARMUP = 1.0


def args():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="ctr-ranker", help="a model of models/")
    p.add_argument("--golden", default="batch1.json", help="its request, from models/<model>/golden/")
    p.add_argument("--low", type=int, default=300, help="req/s before and after the step")
    p.add_argument("--high", type=int, default=4000, help="req/s during the step")
    p.add_argument("--phases", default="20,25,30", help="seconds of low, high, low")
    p.add_argument("--target-us", type=int, default=300, help="autoscale.target_queue_delay_microseconds")
    p.add_argument("--max-instances", type=int, default=2)
    p.add_argument("--window", type=float, default=2)
    p.add_argument("--cooldown", type=float, default=4)
    p.add_argument("--stabilization", type=float, default=10, help="autoscale.scale_down_stabilization_seconds")
    p.add_argument("--out", default="")
    return p.parse_args()


def result_name(out):
    if out:
        return out
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    return f"autoscale-{time.strftime('%Y-%m-%d')}-{sha}"


def repository(a, into):
    """models/<model> with an autoscale section, in a folder of its own."""
    src = os.path.join(ROOT, "models", a.model)
    dst = os.path.join(into, a.model)
    shutil.copytree(src, dst)
    path = os.path.join(dst, "config.json")
    with open(path) as f:
        config = json.load(f)
    config["autoscale"] = {
        "min_instances": 1, "max_instances": a.max_instances, "target_queue_delay_microseconds": a.target_us,
        "window_seconds": a.window, "cooldown_seconds": a.cooldown, "idle_percent": 50, "scale_down_stabilization_seconds": a.stabilization,
    }
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
    return config["autoscale"]


def get(path):
    with urllib.request.urlopen(BASE + path, timeout=5) as r:
        return r.status, r.read().decode()


def main():
    a = args()
    os.chdir(ROOT)
    name = result_name(a.out)
    out = os.path.join("perf", "results", name)
    os.makedirs(out, exist_ok=True)
    low1, high, low2 = (float(x) for x in a.phases.split(","))
    repo = tempfile.mkdtemp(prefix="ll-autoscale-")
    autoscale = repository(a, repo)

    log_lines = []
    server = subprocess.Popen(
        ["dotnet", SERVER, "--urls", BASE, "--LowLatency:Grpc:Urls=", "--model-repository", repo,
         "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:LowLatency=Information",
         "--Logging:Console:FormatterName=simple", "--Logging:Console:FormatterOptions:SingleLine=true"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    t0 = time.monotonic()

    def read_log():
        for line in server.stdout:
            log_lines.append((time.monotonic() - t0, line.rstrip("\n")))

    threading.Thread(target=read_log, daemon=True).start()
    for _ in range(600):
        time.sleep(0.1)
        try:
            if get("/v2/health/ready")[0] == 200:
                break
        except Exception:
            pass
    else:
        server.kill()
        raise SystemExit("the server did not become ready")

    samples = []
    stop = threading.Event()
    pattern = re.compile(r'^lowlatency_engine_instances\{model="' + re.escape(a.model) + r'",version="1"\} (\d+)', re.M)

    def sample():
        while not stop.is_set():
            try:
                m = pattern.search(get("/metrics")[1])
                if m:
                    samples.append((time.monotonic() - t0, int(m.group(1))))
            except Exception:
                pass
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    phases = []
    for label, rate, seconds in (("low", a.low, low1), ("high", a.high, high), ("low-again", a.low, low2)):
        path = os.path.join(out, f"{label}.json")
        start = time.monotonic() - t0
        run = subprocess.run(["dotnet", LOADGEN, "--label", label, "--url", f"{BASE}/v2/models/{a.model}/infer", "--golden",
                              f"models/{a.model}/golden/{a.golden}", "--encoding", "msgpack", "--rate", str(rate),
                              "--duration", str(seconds), "--warmup", str(WARMUP), "--json", path], capture_output=True, text=True)
        line = [x for x in run.stdout.splitlines() if "req/s" in x][-1]
        print(f"{label}: {line}", flush=True)
        with open(path) as f:
            phases.append({"label": label, "rate": rate, "start": start, "json": json.load(f), "line": line})

    time.sleep(a.window + a.cooldown + 1)
    stop.set()
    sampler.join()
    _, metrics = get("/metrics")
    server.terminate()
    server.wait(timeout=60)
    shutil.rmtree(repo, ignore_errors=True)

    decisions = [(t, l) for t, l in log_lines if "autoscaler:" in l]
    with open(os.path.join(out, "metrics.txt"), "w") as f:
        f.write(metrics)
    counted = {}
    for line in metrics.splitlines():
        if line.startswith("lowlatency_engine_autoscaler_decisions") and f'model="{a.model}"' in line:
            counted[re.search(r'action="(\w+)"', line).group(1)] = line.rsplit(" ", 1)[1]
    with open(os.path.join(out, "samples.json"), "w") as f:
        json.dump({"phases": [{"label": p["label"], "rate": p["rate"], "start": p["start"]} for p in phases], "instances": samples, "decisions": decisions, "counted": counted, "autoscale": autoscale}, f, indent=1)
    with open(os.path.join(out, "server.log"), "w") as f:
        f.write("\n".join(f"{t:8.2f} {l}" for t, l in log_lines) + "\n")

    svg(os.path.join(out, "autoscale.svg"), phases, samples, decisions, a)
    write_md(name, a, autoscale, phases, samples, decisions, counted)


def svg(path, phases, samples, decisions, a):
    """Three stacked panels over time: load (req/s), p99 (ms, log-free linear), instances; decisions as vertical lines."""
    points = []  # (t, rate, p99 µs)
    for ph in phases:
        for w in ph["json"]["windows"]:
            points.append((ph["start"] + WARMUP + w["index"], w["throughput"], w["p99"]))
    t_end = max([p[0] for p in points] + [s[0] for s in samples]) + 1
    t_begin = phases[0]["start"]
    W, left, right = 900, 70, 20
    panels = [("answered, req/s (per second of the load generator)", 150), ("p99 latency, ms (per second)", 150), ("instances", 110)]
    H = sum(h for _, h in panels) + 40 * len(panels) + 30

    def x(t):
        return left + (t - t_begin) / (t_end - t_begin) * (W - left - right)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    top = 20
    series = [
        ([(p[0], p[1]) for p in points], max(p[1] for p in points) * 1.1, "#1f77b4"),
        ([(p[0], p[2] / 1000) for p in points], max(p[2] for p in points) / 1000 * 1.1, "#d62728"),
        (samples, a.max_instances + 0.5, "#2ca02c"),
    ]
    for (title, h), (data, ymax, colour) in zip(panels, series):
        out.append(f'<text x="{left}" y="{top - 5}">{title}</text>')
        out.append(f'<rect x="{left}" y="{top}" width="{W - left - right}" height="{h}" fill="none" stroke="#999"/>')
        ticks = list(range(0, a.max_instances + 1)) if title == "instances" else [ymax * k / 4 for k in range(5)]
        for v in ticks:
            y = top + h - v / ymax * h
            out.append(f'<text x="{left - 5}" y="{y + 4:.1f}" text-anchor="end">{v:.0f}</text>')
        for t, line in decisions:
            colour_d = "#2ca02c" if "add an instance" in line else "#ff7f0e"
            out.append(f'<line x1="{x(t):.1f}" y1="{top}" x2="{x(t):.1f}" y2="{top + h}" stroke="{colour_d}" stroke-dasharray="4,3"/>')
        if title == "instances":
            # A step line: the count holds until the next sample.
            path_d = ""
            for i, (t, v) in enumerate(data):
                y = top + h - v / ymax * h
                path_d += (f"M{x(t):.1f},{y:.1f}" if i == 0 else f"H{x(t):.1f}V{y:.1f}")
            out.append(f'<path d="{path_d}" fill="none" stroke="{colour}" stroke-width="2"/>')
        else:
            pts = " ".join(f"{x(t):.1f},{top + h - v / ymax * h:.1f}" for t, v in data)
            out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        top += h + 40
    for k in range(0, int(t_end - t_begin) + 1, 10):
        out.append(f'<text x="{x(t_begin + k):.1f}" y="{top - 22}" text-anchor="middle">{k} s</text>')
    out.append(f'<text x="{left}" y="{top}">dashed: autoscaler decisions (green add, orange remove); time from the start of the first load phase</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def write_md(name, a, autoscale, phases, samples, decisions, counted):
    t_begin = phases[0]["start"]
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    rows = []
    for ph in phases:
        j = ph["json"]
        errors = {k: v for k, v in j["statuses"].items() if k != "200"}
        rows.append(f"| {ph['label']} | {ph['rate']} | {j['throughput']:.0f} | {j['p50']} | {j['p99']} | {j['max']} | {j['statuses'].get('200', 0)} | {errors or 'none'} |")
    changes = []
    last = None
    for t, v in samples:
        if v != last:
            changes.append(f"{t - t_begin:.1f} s: {v}")
            last = v
    md = [
        f"# The autoscaler following a load step ({time.strftime('%Y-%m-%d')})",
        "",
        f"Command: `python3 perf/autoscale.py --model {a.model} --golden {a.golden} --low {a.low} --high {a.high} --phases {a.phases} --target-us {a.target_us} --max-instances {a.max_instances} --window {a.window} --cooldown {a.cooldown} --stabilization {a.stabilization}` (after `dotnet build LowLatency.sln -c Release`)",
        f"Machine: {cpu}, {os.cpu_count()} cores, load average {load} at the end (other tenants); the load generator shares the cores.",
        f"{a.model} ({a.golden}) over HTTP/MessagePack, open loop (latency from each request's intended start), {WARMUP} s warm-up per phase; `autoscale`: `{json.dumps(autoscale)}`.",
        "",
        "![load, p99 and instances over time](" + name + "/autoscale.svg)",
        "",
        "| phase | offered req/s | achieved req/s | p50 µs | p99 µs | max µs | answered 200 | other statuses |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Instances over time (from the first phase's start): " + ", ".join(changes),
        "",
        f"Decisions counted (`lowlatency_engine_autoscaler_decisions`): {counted}",
        "",
        "Decisions logged:",
        "",
        *[f"- {t - t_begin:.1f} s: {line[line.find('autoscaler:'):]}" for t, line in decisions],
        "",
        f"Raw: [{name}/](./{name}/) (each phase's JSON, samples.json, server.log).",
    ]
    with open(os.path.join("perf", "results", f"{name}.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
