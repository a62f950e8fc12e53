/**
 * A classic Jupyter Notebook server (Debian's `jupyter-notebook`, Notebook 6.4) for the browser test of the
 * notebooks: started on 127.0.0.1 on a free port with a random token, without a browser, in its own process group
 * and with its own runtime folder (connection files), and stopped whatever happens, kernels included.
 *
 * {@linkcode notebookServerUnavailable} says why no server can start here (null when one can);
 * {@linkcode withNotebookServer} starts one, hands it to the callback and stops it.
 * @module
 */
import { join } from "node:path";

/** A running Notebook server. */
export interface NotebookServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  port: number;
  token: string;
  /** The folder it serves (its `notebook_dir`). */
  notebookDir: string;
  /** Its runtime folder: the kernels' connection files, whose paths are on their command lines. */
  runtimeDir: string;
  /** Pid of the server, also its process group id. */
  pid: number;
  /** The server's output so far (stdout and stderr). */
  log(): string;
  /** GET/POST/DELETE on the REST API (`/api/...`) with the token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Pids of the processes still alive that run a kernel of this server. */
  kernelPids(): number[];
}

/** Options of {@linkcode withNotebookServer}. */
export interface NotebookServerOptions {
  /** The folder to serve. */
  notebookDir: string;
  /** Extra environment for the server and so for its kernels (e.g. `OOD_PROFILE`). */
  env?: Record<string, string>;
  /** Seconds to wait for the server to answer. @default 60 */
  startupTimeoutS?: number;
  /**
   * Called once the server is stopped with the pids of kernel processes that outlived it and had to be killed
   * (none when the server shut its kernels down itself).
   */
  onStopped?: (report: { killedKernels: number[] }) => void;
}

/** The `jupyter` executable (`OOD_JUPYTER`, else the first `jupyter` on PATH), or null. */
export function findJupyter(): string | null {
  const env = Deno.env.get("OOD_JUPYTER");
  if (env) return env;
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    const p = join(dir || ".", "jupyter");
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not here */ }
  }
  return null;
}

/**
 * Why no Notebook server can start here (no `jupyter`, or `jupyter notebook` not installed), or null when one can.
 */
export function notebookServerUnavailable(): string | null {
  const jupyter = findJupyter();
  if (!jupyter) return "no `jupyter` on PATH; install Debian's jupyter-notebook (tools/setup.sh does)";
  try {
    const out = new Deno.Command(jupyter, { args: ["notebook", "--version"], stdout: "piped", stderr: "piped" })
      .outputSync();
    if (!out.success) {
      return "`jupyter notebook` is not installed (Debian's jupyter-notebook; tools/setup.sh installs it): " +
        new TextDecoder().decode(out.stderr).trim().split("\n").at(-1);
    }
    return null;
  } catch (e) {
    return `\`${jupyter} notebook --version\` failed: ${(e as Error).message}`;
  }
}

/** A free TCP port on 127.0.0.1 (asked from the OS, then released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Pids of live processes whose command line contains `needle` (from /proc; empty elsewhere). */
export function pidsWithArg(needle: string): number[] {
  const pids: number[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync("/proc")];
  } catch {
    return pids;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`);
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (cmd.includes(needle) && !/^\d+ \(.*\) Z /.test(stat)) pids.push(Number(e.name));
    } catch { /* gone */ }
  }
  return pids;
}

/** True while process `pid` exists and is not a zombie (from /proc; signal 0 elsewhere is not available). */
export function processAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `jupyter notebook` on 127.0.0.1 (free port, random token, `--no-browser`, its own config and runtime
 * folders so that no user setting or password applies), runs `f` with it, and stops it whatever happens: shuts
 * its kernels down through the API, sends SIGTERM then SIGKILL to the server's process group, and kills any
 * kernel process of this server that is still alive (kernels run in sessions of their own). The server's
 * environment is this process's plus `opts.env`; its kernels inherit it.
 * @throws Error with the server's log when it does not answer within the startup timeout.
 */
export async function withNotebookServer<T>(
  opts: NotebookServerOptions,
  f: (server: NotebookServer) => Promise<T>,
): Promise<T> {
  const jupyter = findJupyter();
  if (!jupyter) throw new Error(notebookServerUnavailable()!);
  const home = await Deno.makeTempDir({ prefix: "ood-jupyter-" });
  const runtimeDir = join(home, "runtime"), configDir = join(home, "config");
  await Deno.mkdir(runtimeDir);
  await Deno.mkdir(configDir);
  const port = freePort();
  const token = crypto.randomUUID().replaceAll("-", "");
  const url = `http://127.0.0.1:${port}`;
  // `setsid` makes the server the leader of a new process group, so that one signal reaches all of it.
  const child = new Deno.Command("setsid", {
    args: [
      jupyter,
      "notebook",
      "--no-browser",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0",
      `--NotebookApp.token=${token}`,
      "--NotebookApp.password=",
      `--notebook-dir=${opts.notebookDir}`,
      "--NotebookApp.open_browser=False",
      "--MappingKernelManager.cull_idle_timeout=0",
      // Notebook refuses to run as root without it (containers, CI).
      ...(Deno.uid() === 0 ? ["--allow-root"] : []),
    ],
    env: {
      ...Deno.env.toObject(),
      JUPYTER_RUNTIME_DIR: runtimeDir,
      JUPYTER_CONFIG_DIR: configDir,
      PYDEVD_DISABLE_FILE_VALIDATION: "1",
      ...opts.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const pid = child.pid;
  let log = "";
  const decoder = new TextDecoder();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) log += decoder.decode(chunk, { stream: true });
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]).catch(() => {});
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, { ...init, headers: { Authorization: `token ${token}`, ...init.headers } });
  const server: NotebookServer = {
    url,
    port,
    token,
    notebookDir: opts.notebookDir,
    runtimeDir,
    pid,
    log: () => log,
    api,
    kernelPids: () => pidsWithArg(runtimeDir).filter((p) => p !== pid),
  };
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  try {
    const deadline = performance.now() + (opts.startupTimeoutS ?? 60) * 1000;
    for (;;) {
      if (exited) throw new Error(`jupyter notebook exited at startup:\n${log}`);
      try {
        const r = await api("/api/status");
        await r.body?.cancel();
        if (r.ok) break;
      } catch { /* not listening yet */ }
      if (performance.now() > deadline) throw new Error(`jupyter notebook did not answer on ${url}:\n${log}`);
      await sleep(200);
    }
    return await f(server);
  } finally {
    const killedKernels = await stopServer(server, () => exited);
    await Promise.race([status, sleep(5000)]);
    opts.onStopped?.({ killedKernels });
    await Promise.race([pumps, sleep(1000)]);
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

/** Stops the server and its kernels; returns the pids of kernels that outlived the server (killed here). */
async function stopServer(server: NotebookServer, exited: () => boolean): Promise<number[]> {
  if (!exited()) {
    try {
      const r = await server.api("/api/kernels");
      const kernels = r.ok ? (await r.json()) as { id: string }[] : [];
      await Promise.all(
        kernels.map((k) =>
          server.api(`/api/kernels/${k.id}`, { method: "DELETE" }).then((d) => d.body?.cancel()).catch(() => {})
        ),
      );
    } catch { /* the server is gone or hung: the signals below stop it */ }
  }
  const signalGroup = (sig: Deno.Signal) => {
    try {
      Deno.kill(-server.pid, sig);
    } catch { /* the group is gone */ }
  };
  signalGroup("SIGTERM");
  for (let i = 0; i < 50 && processAlive(server.pid) && !exited(); i++) await sleep(100);
  signalGroup("SIGKILL");
  const strays = server.kernelPids();
  for (const p of strays) {
    try {
      Deno.kill(p, "SIGKILL");
    } catch { /* gone */ }
  }
  return strays;
}
