#!/usr/bin/python3
"""Headless notebook runner for the Deno Jupyter kernel (run it with Debian's /usr/bin/python3).

usage: nbrun.py IN.ipynb OUT.ipynb [--kernel NAME] [--timeout S] [--startup-timeout S] [--grace S]
                [--allow-errors] [--no-async-check] [--summary FILE.json] [--html FILE.html [--no-input]]
                [--events FILE|-]

Why not `jupyter nbconvert --execute`: the Deno kernel (2.9.x) publishes some outputs (execute_result, stream,
display_data) on IOPub *after* it has reported `status: idle`; nbclient stops reading at idle and drops them.
This runner
  * keeps reading IOPub after idle until the channel has been quiet for `--grace` seconds, and routes any
    message that still arrives later to the cell that produced it (by parent msg_id), so no output is lost;
  * kills the kernel when a cell runs longer than `--timeout` seconds (the Deno kernel ignores interrupts);
  * detects asynchronous errors (unhandled promise rejections, exceptions thrown from timers), which the kernel
    swallows: a hidden, silent prelude installs `unhandledrejection` / `error` listeners that record them with
    the number of the cell that was running, and a hidden check before every cell and once at the end throws
    them back; they are stored as an error output of that cell and fail the run;
  * writes the executed notebook (outputs included) even when a cell fails, and optionally a self-contained
    HTML report (nbconvert's lab template without the require.js / MathJax script tags).

On SIGTERM, SIGINT or SIGHUP it stops: the kernel's whole process group is killed (the kernel runs in a session
of its own, so a signal to the runner's group does not reach it, and nothing else would stop it), the running cell
keeps the outputs it had published plus an error output saying the run was interrupted, and the executed notebook,
HTML report and summary (status "interrupted") are written as for a failure.

Exit status: 0 ok | 1 a cell raised (synchronously or asynchronously) | 2 timeout, kernel died or did not start |
128 + N interrupted by signal N.
The kernel's working directory is the notebook's folder; the environment is inherited.
The summary file (--summary) is JSON: {status, ok, cell, executionCount, ename, evalue, traceback, seconds,
lateOutputs, cells: [{index, executionCount, seconds, outputs}]}; `cell` is the 0-based index in nb.cells.
The events file (--events, `-` for stdout) gets one JSON object per line, flushed at once, for a live view:
  {"event": "cell", "cell": i, "pos": k, "of": n, "line": "first line of the source"}   a cell starts
  {"event": "display", "cell": i, "text": "..."}   a display with a display_id is shown or updated in place
                                                   (text/plain; e.g. a progress bar), also after its cell ended
  {"event": "done", "cell": i, "pos": k, "of": n, "line": "...", "seconds": s, "status": "ok"|"error"|...}
  {"event": "kernel", "pid": p}   the kernel has started (its pid is also its process group's id)
`cell` is the index in nb.cells, `pos` the 1-based position among the n non-empty code cells.
"""
import argparse
import json
import os
import re
import signal
import sys
import tempfile
import time

import jupyter_client
import nbformat
import zmq
from nbformat.v4 import output_from_msg

ASYNC_PRELUDE = r"""
globalThis.__oodNbrun ??= (() => {
  const state = { cell: -1, errors: [] };
  const describe = (x) => (x instanceof Error ? (x.stack ?? `${x.name}: ${x.message}`) : String(x));
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    state.errors.push({ cell: state.cell, kind: "unhandled promise rejection", text: describe(e.reason) });
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    state.errors.push({ cell: state.cell, kind: "uncaught exception", text: describe(e.error ?? e.message) });
  });
  return state;
})();
"""


REPORT_CSS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "report.css")


class Interrupted(BaseException):
    """Raised in the main thread by a termination signal (BaseException: no `except Exception` swallows it)."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def install_signal_handlers():
    """SIGTERM / SIGINT / SIGHUP raise Interrupted once; later ones are ignored so that the cleanup finishes."""
    def handler(signum, _frame):
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, handler)


def check_code(next_cell, settle_ms=0):
    """Hidden code: throw the recorded async errors (as JSON in the message), then mark the next cell."""
    wait = f"await new Promise((r) => setTimeout(r, {settle_ms}));\n" if settle_ms else ""
    return (
        wait + "{ const s = globalThis.__oodNbrun;\n"
        "  if (s && s.errors.length) { const e = s.errors.splice(0);\n"
        "    throw new Error('__OOD_ASYNC__' + JSON.stringify(e)); }\n"
        f"  if (s) s.cell = {next_cell}; }}\n"
    )


class Events:
    """The --events stream: one JSON object per line, flushed at once (a no-op without --events)."""

    def __init__(self, target):
        self.f = None if not target else sys.stdout if target == "-" else open(target, "w", encoding="utf-8")

    def emit(self, **event):
        if self.f is not None:
            self.f.write(json.dumps(event) + "\n")
            self.f.flush()

    def close(self):
        if self.f is not None and self.f is not sys.stdout:
            self.f.close()


def first_line(source):
    """The first non-blank line of a cell's source, stripped (at most 200 characters)."""
    return next((ln.strip() for ln in source.splitlines() if ln.strip()), "")[:200]


def plain_text(data):
    text = (data or {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


class Runner:
    def __init__(self, km, kc, grace, events=None):
        self.km, self.kc, self.grace = km, kc, grace
        self.events = events or Events(None)
        self.cell_of = {}  # msg_id -> index of the visible cell that sent it
        self.owner = {}  # msg_id -> output list of the cell it belongs to (None for hidden requests)
        self.displays = {}  # display_id -> outputs showing it (updates may come from later cells)
        self.late = 0
        self.current = []  # outputs of the request being executed (kept when a signal interrupts it)
        self.poller = zmq.Poller()
        self.poller.register(kc.shell_channel.socket, zmq.POLLIN)
        self.poller.register(kc.iopub_channel.socket, zmq.POLLIN)

    def _store(self, outputs, m):
        t, c = m["msg_type"], m["content"]
        did = c.get("transient", {}).get("display_id")
        if did and t in ("display_data", "update_display_data"):
            self.events.emit(event="display", cell=self.cell_of.get(m["parent_header"].get("msg_id")),
                             text=plain_text(c.get("data")))
        if t == "update_display_data":
            for o in self.displays.get(c.get("transient", {}).get("display_id"), []):
                o["data"], o["metadata"] = c["data"], c.get("metadata", {})
        elif t == "stream" and outputs and outputs[-1].get("output_type") == "stream" \
                and outputs[-1]["name"] == c["name"]:
            outputs[-1]["text"] += c["text"]
        elif t in ("execute_result", "display_data", "stream", "error"):
            o = output_from_msg(m)
            if did:
                self.displays.setdefault(did, []).append(o)
            outputs.append(o)

    def _poll(self, ms):
        """Waits up to `ms` for a message on shell or IOPub; returns the set of ready channel names."""
        ready = dict(self.poller.poll(ms))
        return {name for name, sock in (("shell", self.kc.shell_channel.socket),
                                        ("iopub", self.kc.iopub_channel.socket)) if sock in ready}

    def execute(self, code, timeout, silent=False, cell=None):
        """Runs one request; returns (outputs, reply content or None, failure or None).

        A visible cell is done when its execute_reply has arrived, the kernel has said idle, and IOPub has then
        been quiet for `grace` seconds (late outputs that come after that are still routed to the cell). A silent
        (hidden) request is done at its execute_reply, which carries the error, if any.
        """
        msg_id = self.kc.execute(code, silent=silent, store_history=not silent, allow_stdin=False)
        self.cell_of[msg_id] = cell
        outputs = []
        self.current = outputs
        self.owner[msg_id] = None if silent else outputs
        reply, idle, quiet_since = None, False, None
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            if now > deadline:
                return outputs, None, "timeout"
            if reply is not None and (silent or (idle and now - quiet_since > self.grace)):
                return outputs, reply, None
            ready = self._poll(10)
            if not ready:
                if not self.km.is_alive():
                    return outputs, None, "kernel died"
                continue
            if "shell" in ready:
                m = self.kc.get_shell_msg(timeout=0)
                if m["parent_header"].get("msg_id") == msg_id:
                    reply = m["content"]
                    quiet_since = time.monotonic()
            if "iopub" in ready:
                m = self.kc.get_iopub_msg(timeout=0)
                parent = m["parent_header"].get("msg_id")
                if parent != msg_id:
                    self._late(parent, m)
                    continue
                quiet_since = time.monotonic()
                if m["msg_type"] == "status":
                    idle = idle or m["content"]["execution_state"] == "idle"
                elif not silent:
                    self._store(outputs, m)

    def _late(self, parent, m):
        target = self.owner.get(parent)
        if target is not None and m["msg_type"] != "status":
            self.late += 1
            self._store(target, m)

    def drain(self, seconds):
        """Reads IOPub for a while, routing any late message to its cell."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if "iopub" in self._poll(10):
                m = self.kc.get_iopub_msg(timeout=0)
                self._late(m["parent_header"].get("msg_id"), m)


def async_errors(reply):
    """The async errors thrown back by a hidden check (from its execute_reply), or None."""
    evalue = (reply or {}).get("evalue") or ""
    if (reply or {}).get("status") != "error" or "__OOD_ASYNC__" not in evalue:
        return None
    payload = evalue.split("__OOD_ASYNC__", 1)[1]
    try:
        return json.loads(payload)
    except ValueError:
        return [{"cell": -1, "kind": "asynchronous error", "text": payload}]


def error_output(ename, evalue, traceback):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=traceback)


def export_html(nb, path, no_input, title):
    """nbconvert lab HTML without external scripts (require.js and MathJax are file:// paths on Debian), with the
    reports' shared CSS (tools/report.css: phone-width layout, scrolling tables, figures that scale)."""
    import jinja2
    from nbconvert import HTMLExporter

    with open(REPORT_CSS, encoding="utf-8") as f:
        css = f.read()

    template = (
        "{%- extends 'index.html.j2' -%}\n"
        "{% block html_head_js %}{% endblock html_head_js %}\n"
        "{% block html_head_js_mathjax %}{% endblock html_head_js_mathjax %}\n"
        "{% block jupyter_widgets %}{% endblock jupyter_widgets %}\n"
        "{% block extra_css %}<style>body.jp-Notebook{max-width:1200px;margin:0 auto;padding:1em}\n"
        "{% raw %}" + css + "{% endraw %}</style>{% endblock extra_css %}\n"
    )
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({"ood_report.html.j2": template})],
        template_file="ood_report.html.j2",
    )
    exporter.exclude_input = no_input
    exporter.exclude_input_prompt = no_input
    exporter.exclude_output_prompt = no_input
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = re.sub(r"<script\b[^>]*\bsrc=[^>]*>\s*</script>", "", body)  # defensive: no external scripts
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(body)
    os.replace(tmp, path)


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


def run(a):
    nb = nbformat.read(a.inp, 4)
    kernel = a.kernel or nb.metadata.get("kernelspec", {}).get("name", "deno")
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    for i in code_cells:
        nb.cells[i].outputs, nb.cells[i].execution_count = [], None
    summary = {"status": "ok", "ok": True, "cell": None, "executionCount": None, "ename": None, "evalue": None,
               "traceback": [], "seconds": 0.0, "lateOutputs": 0, "cells": [], "kernel": kernel}
    t_start = time.monotonic()
    status = 0

    def fail(code, kind, i, ename, evalue, traceback):
        nonlocal status
        status = max(status, code)
        if summary["ok"]:  # the first failure is the one reported
            summary.update(status=kind, ok=False, cell=i, ename=ename, evalue=evalue, traceback=traceback,
                           executionCount=nb.cells[i].execution_count if i is not None and i >= 0 else None)
        where = f"cell {i}" if i is not None and i >= 0 else "notebook"
        ec = nb.cells[i].execution_count if i is not None and i >= 0 else None
        print(f"{os.path.basename(a.inp)}: {where}{f' [{ec}]' if ec else ''}: {ename}: {evalue}", file=sys.stderr)
        if traceback:
            print("\n".join(traceback), file=sys.stderr)

    def record_async(errors):
        for e in errors:
            i = e.get("cell", -1)
            lines = str(e.get("text", "")).splitlines() or [""]
            ename, _, evalue = lines[0].partition(": ")
            evalue = evalue or ename
            out = error_output(f"Asynchronous {ename}", f"{evalue} ({e.get('kind')})", lines)
            if 0 <= i < len(nb.cells):
                nb.cells[i].outputs.append(out)
            fail(1, "async-error", i, out["ename"], out["evalue"], lines)

    events = Events(a.events)
    log = tempfile.NamedTemporaryFile("w+", prefix="nbrun-kernel-", suffix=".log", delete=False)
    km = kc = r = None
    running = None  # index of the visible cell being executed
    try:
        try:
            # What jupyter_client.start_new_kernel does, with `km` bound before the wait, so that a signal that
            # arrives while the kernel starts still finds it to stop.
            km = jupyter_client.KernelManager(kernel_name=kernel)
            km.start_kernel(cwd=a.cwd or os.path.dirname(os.path.abspath(a.inp)), stdout=log, stderr=log)
            kc = km.client()
            kc.start_channels()
            kc.wait_for_ready(timeout=a.startup_timeout)
        except Exception as e:  # noqa: BLE001 - any start failure is reported the same way
            fail(2, "kernel-start", None, type(e).__name__, f"kernel {kernel!r} did not start: {e}", [])
            return status
        process = getattr(getattr(km, "provisioner", None), "process", None)
        events.emit(event="kernel", pid=getattr(process, "pid", None))
        r = Runner(km, kc, a.grace, events)
        if not a.no_async_check:
            _, rep, why = r.execute(ASYNC_PRELUDE, a.startup_timeout, silent=True)
            if why or rep.get("status") != "ok":
                fail(2, "kernel-start", None, "PreludeError", why or rep.get("evalue", "?"), [])
                return status
        stopped = False

        def hidden_check(next_cell, settle_ms=0):
            """Throws back the async errors recorded since the last check; False when the run must stop."""
            _, reply, why = r.execute(check_code(next_cell, settle_ms), a.timeout, silent=True)
            if why:
                fail(2, "kernel-died" if why != "timeout" else "timeout", None, "NbrunError",
                     f"hidden async-error check: {why}", tail(log.name))
                return False
            errs = async_errors(reply)
            if errs:
                record_async(errs)
                return a.allow_errors
            if reply.get("status") != "ok":
                fail(2, "kernel-died", None, "NbrunError", f"hidden async-error check failed: {reply.get('evalue')}", [])
                return False
            return True

        visible = [i for i in code_cells if nb.cells[i].source.strip()]
        for i in code_cells:
            cell = nb.cells[i]
            if not a.no_async_check and not hidden_check(i):
                stopped = True
                break
            if not cell.source.strip():
                continue
            where = dict(cell=i, pos=visible.index(i) + 1, of=len(visible), line=first_line(cell.source))
            events.emit(event="cell", **where)
            t0 = time.monotonic()
            running = i
            outs, reply, why = r.execute(cell.source, a.timeout, cell=i)
            running = None
            cell.outputs = outs
            seconds = round(time.monotonic() - t0, 3)
            events.emit(event="done", **where, seconds=seconds, status=why or (reply or {}).get("status", "ok"))
            cell.metadata["nbrun"] = {"seconds": seconds}
            summary["cells"].append({"index": i, "seconds": seconds, "outputs": len(outs),
                                     "executionCount": reply.get("execution_count") if reply else None})
            if why == "timeout":
                outs.append(error_output("CellTimeoutError", f"cell {i} did not finish within {a.timeout:g} s "
                                         "(the kernel was killed)", []))
                fail(2, "timeout", i, "CellTimeoutError", f"did not finish within {a.timeout:g} s", [])
                stopped = True
                break
            if why:
                outs.append(error_output("DeadKernelError", "the kernel died while running this cell", []))
                fail(2, "kernel-died", i, "DeadKernelError", "the kernel died while running this cell",
                     tail(log.name))
                stopped = True
                break
            cell.execution_count = reply.get("execution_count")
            for o in outs:
                if o.get("output_type") == "execute_result":
                    o["execution_count"] = cell.execution_count
            if reply.get("status") == "error":
                err = next((o for o in outs if o.get("output_type") == "error"), None)
                if err is None:
                    err = error_output(reply.get("ename", "Error"), reply.get("evalue", ""),
                                       reply.get("traceback", []))
                    outs.append(err)
                fail(1, "error", i, err.get("ename"), err.get("evalue"), err.get("traceback", []))
                if not a.allow_errors:
                    stopped = True
                    break
        if not stopped and not a.no_async_check:
            hidden_check(-1, settle_ms=50)
        r.drain(a.grace)
        summary["lateOutputs"] = r.late
        if r.late:
            print(f"nbrun: {r.late} output(s) arrived after their cell had finished; kept", file=sys.stderr)
    except Interrupted as e:
        # Reported whatever happened before: the run did not finish, and that is what its report must say.
        status = 128 + e.signum
        where = f"while cell {running} ran" if running is not None else "between cells"
        evalue = f"the run was stopped by {e} {where}; the kernel was stopped"
        if running is not None:
            nb.cells[running].outputs = r.current if r is not None else []
            # The traceback is what nbconvert shows of an error output: one line, so the report says it too.
            nb.cells[running].outputs.append(error_output("Interrupted", evalue, [f"Interrupted: {evalue}"]))
        summary.update(status="interrupted", ok=False, cell=running, executionCount=None, ename="Interrupted",
                       evalue=evalue, traceback=[])
        print(f"{os.path.basename(a.inp)}: {evalue}", file=sys.stderr)
    finally:
        if kc is not None:
            kc.stop_channels()
        if km is not None and km.has_kernel:
            km.shutdown_kernel(now=True)
        log.close()
        os.unlink(log.name)
        events.close()
        summary["seconds"] = round(time.monotonic() - t_start, 3)
        nb.metadata["nbrun"] = {"status": summary["status"], "seconds": summary["seconds"], "kernel": kernel}
        tmp = a.out + ".tmp"
        nbformat.write(nb, tmp)
        os.replace(tmp, a.out)
        if a.html:
            export_html(nb, a.html, a.no_input, os.path.splitext(os.path.basename(a.out))[0])
        if a.summary:
            write_json(a.summary, summary)
    return status


def tail(path, n=20):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()[-n:]
    except OSError:
        return []


def main():
    install_signal_handlers()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--kernel", default=None, help="kernelspec name (default: the notebook's)")
    ap.add_argument("--cwd", default=None, help="kernel working directory (default: the notebook's folder)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per cell")
    ap.add_argument("--startup-timeout", type=float, default=60)
    ap.add_argument("--grace", type=float, default=0.05, help="quiet seconds on IOPub after idle")
    ap.add_argument("--allow-errors", action="store_true", help="keep running after a failing cell (rc stays 1)")
    ap.add_argument("--no-async-check", action="store_true")
    ap.add_argument("--summary", default=None)
    ap.add_argument("--html", default=None)
    ap.add_argument("--no-input", action="store_true", help="HTML report without code cells")
    ap.add_argument("--events", default=None, help="JSON-lines progress events to FILE (- for stdout)")
    return run(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
