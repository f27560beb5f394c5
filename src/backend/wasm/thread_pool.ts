/**
 * Worker threads for the wasm kernels: each worker instantiates the same kernel module against
 * the same shared WebAssembly.Memory, then waits for calls. A call is an export's index and up
 * to 16 i32 arguments written into a small control block (a SharedArrayBuffer, one 128-byte
 * stripe per worker); the caller wakes the worker with Atomics.notify, runs its own share of
 * the work, and waits for the others. Everything stays synchronous for the kernel interface.
 *
 * Waiting. Waking a thread out of Atomics.wait costs about 50 µs here, spinning on
 * Atomics.load about 5 µs; so each worker spins a little after a call before it sleeps (the
 * next kernel of a training step usually follows within microseconds), and the caller spins
 * while its workers finish (it has nothing else to do). Browsers forbid Atomics.wait on a
 * page's main thread; there the caller only spins.
 *
 * Starting. Workers start asynchronously (Node: ~40 ms; a browser may need the creating
 * thread's event loop to turn first). Until a worker says it is ready, its share runs on the
 * calling thread, so a call never blocks on a worker that cannot start.
 */

/** Control block layout, in i32 slots per worker stripe. */
const STRIPE = 32;
const SEQ = 0; // bumped by the caller for each call
const DONE = 1; // set by the worker to SEQ when the call is finished
const STATUS = 2; // 0 ok, 1 the kernel threw
const READY = 3; // 1 once the worker has instantiated the module
const FN = 4; // export index; -1 asks the worker to exit
const NARGS = 5;
const ARGS = 6;
const MAX_ARGS = STRIPE - ARGS;

/** Spin iterations of a worker before it sleeps, and of the caller between checks. */
const WORKER_SPIN = 20000;

/** One call to run on one thread: an export of the kernel module and its i32 arguments. */
export interface ThreadTask {
  fn: string;
  args: number[];
}

/** What the pool needs from the environment to start one worker running `source`. */
export type SpawnWorker = (source: string, data: WorkerInit) => { terminate(): void };

export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  index: number;
  names: string[];
}

/**
 * The worker's whole program. It is sent to the worker as source text (Function.toString), so
 * it must not use anything from this module's scope: the layout constants are repeated inline.
 */
function workerMain(init: WorkerInit): void {
  const ctl = new Int32Array(init.control);
  const base = init.index * 32;
  const inst = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
  const exps = inst.exports as Record<string, (...a: number[]) => void>;
  const fns = init.names.map((n) => exps[n]!);
  Atomics.store(ctl, base + 3, 1);
  Atomics.notify(ctl, base + 3);
  let seen = 0;
  for (;;) {
    let spins = 0;
    while (Atomics.load(ctl, base) === seen && spins < 20000) spins++;
    if (Atomics.load(ctl, base) === seen) Atomics.wait(ctl, base, seen);
    const seq = Atomics.load(ctl, base);
    if (seq === seen) continue;
    seen = seq;
    const fn = ctl[base + 4]!;
    if (fn < 0) return;
    const args: number[] = [];
    for (let i = 0; i < ctl[base + 5]!; i++) args.push(ctl[base + 6 + i]!);
    let status = 0;
    try {
      fns[fn]!(...args);
    } catch {
      status = 1;
    }
    ctl[base + 2] = status;
    Atomics.store(ctl, base + 1, seq);
    Atomics.notify(ctl, base + 1);
  }
}

/** Whether a worker has failed (warned once per process). */
let workerFailed = false;

/** Node: worker_threads with the program as an eval'd script; the process may exit under it. */
function spawnNode(source: string, data: WorkerInit): { terminate(): void } | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const wt = proc?.getBuiltinModule?.('node:worker_threads') as
    | typeof import('node:worker_threads')
    | undefined;
  if (!wt) return null;
  // The eval'd script is CommonJS or an ES module depending on the parent's flags (a parent
  // started with --input-type=module makes it a module, where `require` does not exist and the
  // worker died with "require is not defined", taking the process with it): so it reaches
  // worker_threads through process.getBuiltinModule, which both kinds have.
  const w = new wt.Worker(
    `const { workerData } = process.getBuiltinModule('node:worker_threads'); (${source})(workerData);`,
    { eval: true, workerData: data },
  );
  // A worker that fails to start never sets READY, so its share runs on the calling thread;
  // without a listener, its 'error' event would be thrown in the main thread and end the process.
  w.on('error', (e) => {
    if (!workerFailed) {
      workerFailed = true;
      console.warn(
        `receptive: a wasm worker thread failed (${e?.message ?? e}); its share of the work runs on the calling thread.`,
      );
    }
  });
  w.unref();
  return {
    terminate: () => {
      void w.terminate();
    },
  };
}

/** Browsers (and other hosts with Web Workers): a module-free worker from a Blob URL. */
function spawnWeb(source: string, data: WorkerInit): { terminate(): void } | null {
  const g = globalThis as {
    Worker?: new (url: string) => Worker;
    Blob?: typeof Blob;
    URL?: typeof URL;
  };
  if (!g.Worker || !g.Blob || !g.URL) return null;
  const code = `self.onmessage = (e) => { self.onmessage = null; (${source})(e.data); };`;
  const url = g.URL.createObjectURL(new g.Blob([code], { type: 'text/javascript' }));
  const w = new g.Worker(url);
  g.URL.revokeObjectURL(url);
  w.postMessage(data);
  return { terminate: () => w.terminate() };
}

/** Whether this thread may block in Atomics.wait (a browser page's main thread may not). */
function canBlock(): boolean {
  const g = globalThis as { window?: unknown; document?: unknown };
  return !(g.window !== undefined && g.document !== undefined);
}

/** Whether shared WebAssembly memory can exist here (browsers: cross-origin isolated pages). */
export function sharedMemorySupported(): boolean {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

export class ThreadPool {
  private readonly ctl: Int32Array;
  private readonly workers: { terminate(): void }[] = [];
  private readonly index: Map<string, number>;
  private readonly block = canBlock();
  private seq = 0;

  /**
   * Starts threads − 1 workers (the calling thread is the first thread). `run` calls an export
   * on the calling thread. Throws if the host cannot start workers.
   */
  constructor(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    readonly threads: number,
    private readonly runLocal: (task: ThreadTask) => void,
    names: string[],
    spawn?: SpawnWorker,
  ) {
    this.ctl = new Int32Array(new SharedArrayBuffer(threads * STRIPE * 4));
    this.index = new Map(names.map((n, i) => [n, i]));
    const source = workerMain.toString();
    for (let i = 1; i < threads; i++) {
      const data: WorkerInit = {
        module,
        memory,
        control: this.ctl.buffer as SharedArrayBuffer,
        index: i,
        names,
      };
      const w = spawn ? spawn(source, data) : (spawnNode(source, data) ?? spawnWeb(source, data));
      if (!w) {
        this.terminate();
        throw new Error('this host has neither worker_threads nor Web Workers');
      }
      this.workers.push(w);
    }
  }

  /** How many workers have started so far (tests). */
  readyWorkers(): number {
    let n = 0;
    for (let i = 1; i < this.threads; i++) if (Atomics.load(this.ctl, i * STRIPE + READY)) n++;
    return n;
  }

  /**
   * Waits (up to timeoutMs) until every worker has started; returns whether they all did.
   * Calls do not need this: they run a missing worker's share themselves.
   */
  waitReady(timeoutMs = 10000): boolean {
    const end = Date.now() + timeoutMs;
    for (let i = 1; i < this.threads; i++) {
      const at = i * STRIPE + READY;
      while (!Atomics.load(this.ctl, at)) {
        const left = end - Date.now();
        if (left <= 0) return false;
        if (this.block) Atomics.wait(this.ctl, at, 0, Math.min(left, 50));
      }
    }
    return true;
  }

  /**
   * Runs the tasks, tasks[0] on the calling thread and the others on ready workers (or here,
   * after tasks[0], where a worker has not started); returns when all are done. At most
   * `threads` tasks.
   */
  run(tasks: ThreadTask[]): void {
    if (tasks.length > this.threads) throw new Error('ThreadPool.run: more tasks than threads');
    const seq = ++this.seq;
    const sent: number[] = [];
    const local: ThreadTask[] = [];
    for (let t = 1; t < tasks.length; t++) {
      const base = t * STRIPE;
      const task = tasks[t]!;
      if (!Atomics.load(this.ctl, base + READY)) {
        local.push(task);
        continue;
      }
      const fn = this.index.get(task.fn);
      if (fn === undefined || task.args.length > MAX_ARGS) {
        throw new Error(`ThreadPool.run: cannot send ${task.fn} with ${task.args.length} args`);
      }
      this.ctl[base + FN] = fn;
      this.ctl[base + NARGS] = task.args.length;
      task.args.forEach((a, i) => {
        this.ctl[base + ARGS + i] = a;
      });
      Atomics.store(this.ctl, base + SEQ, seq);
      Atomics.notify(this.ctl, base + SEQ);
      sent.push(t);
    }
    if (tasks[0]) this.runLocal(tasks[0]);
    for (const task of local) this.runLocal(task);
    let failed = false;
    for (const t of sent) {
      const at = t * STRIPE + DONE;
      let spins = 0;
      while (Atomics.load(this.ctl, at) !== seq) {
        if (this.block && ++spins > WORKER_SPIN)
          Atomics.wait(this.ctl, at, Atomics.load(this.ctl, at), 1);
      }
      if (this.ctl[t * STRIPE + STATUS]) failed = true;
    }
    if (failed) throw new Error('a wasm kernel failed in a worker thread');
  }

  /** Stops the workers. */
  terminate(): void {
    for (let i = 1; i <= this.workers.length; i++) {
      const base = i * STRIPE;
      this.ctl[base + FN] = -1;
      Atomics.store(this.ctl, base + SEQ, ++this.seq);
      Atomics.notify(this.ctl, base + SEQ);
    }
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}
