/**
 * "Get more models…": the catalog of models for this machine (GET tinyai/catalog) and the
 * pulls the server runs (tinyai/pulls), DOM-free.
 *
 * A pull runs in the Jupyter server, so it goes on while the page reloads; `refresh()`
 * finds the running ones again and polls them until they end. When a pull is done,
 * `onPulled` runs (the sidebar lists its models again, so the new one is in the picker).
 */
import { ISignal, Signal } from '@lumino/signaling';

import { ITrans, plainTrans } from '../trans';

/** How an entry fits this machine (`catalog.Fit` on the server). */
export interface IFit {
  badge: 'fits' | 'tight' | 'too large';
  need_bytes: number;
  weights_bytes: number;
  kv_bytes: number;
  n_ctx: number;
  available_bytes: number;
  total_bytes: number;
  usable_bytes: number;
  kv_estimated?: boolean;
}

/** One entry of GET tinyai/catalog. */
export interface ICatalogEntry {
  name: string;
  title: string;
  roles: string[];
  repo: string;
  format: string;
  quant: string;
  size_bytes: number;
  license: string;
  params: string;
  reasoning: boolean;
  fit: IFit;
  best_for: string[];
  pull: string;
  pulled: boolean;
}

export interface ICatalog {
  machine: {
    total_bytes: number;
    available_bytes: number;
    gpu_working_set_bytes: number;
    usable_bytes: number;
  };
  n_ctx: number;
  models: ICatalogEntry[];
  best: { [role: string]: string | null };
}

/** One pull of the server (tinyai/pulls). */
export interface IPull {
  id: string;
  name: string;
  quant: string | null;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  progress: {
    phase: string;
    done: number;
    total: number;
    fraction: number;
    message: string;
    speed?: number;
    eta_s?: number | null;
  } | null;
  error: { kind: string; message: string } | null;
  model: { id: string; name: string } | null;
  started: number;
}

/** The REST calls the catalog needs (request.ts's `catalogApi`; a fake in tests). */
export interface ICatalogApi {
  catalog(): Promise<ICatalog>;
  pulls(): Promise<{ pulls: IPull[] }>;
  startPull(name: string): Promise<{ pull: IPull }>;
  cancelPull(id: string): Promise<{ pull: IPull }>;
}

/** A timer the tests drive by hand. */
export interface IPollTimer {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const browserTimer: IPollTimer = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: handle => clearTimeout(handle as ReturnType<typeof setTimeout>)
};

export interface ICatalogOptions {
  api: ICatalogApi;
  /** Called once per pull that ends done (e.g. the sidebar lists the models again). */
  onPulled?: (pull: IPull) => void;
  trans?: ITrans;
  timer?: IPollTimer;
  /** Milliseconds between two looks at running pulls. */
  pollMs?: number;
}

/** '1.1 GB', as the server's human_size writes it. */
export function humanSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export class CatalogModel {
  constructor(options: ICatalogOptions) {
    this._api = options.api;
    this._onPulled = options.onPulled ?? (() => undefined);
    this._trans = options.trans ?? plainTrans;
    this._timer = options.timer ?? browserTimer;
    this._pollMs = options.pollMs ?? 500;
  }

  /** Emitted when the catalog, a pull or the error line change. */
  get changed(): ISignal<CatalogModel, void> {
    return this._changed;
  }

  get entries(): ReadonlyArray<ICatalogEntry> {
    return this._catalog?.models ?? [];
  }

  /** One line about this machine, above the list. */
  get machine(): string {
    const c = this._catalog;
    if (!c) {
      return '';
    }
    return this._trans.__(
      'This machine: %1 of memory, %2 free. Memory needed is at a context of up to %3 tokens.',
      humanSize(c.machine.total_bytes),
      humanSize(c.machine.available_bytes),
      c.n_ctx
    );
  }

  /** What went wrong with the last request, '' when nothing. */
  get error(): string {
    return this._error;
  }

  get loading(): boolean {
    return this._loading;
  }

  /** The latest pull of the entry `name` (running first), or null. */
  pullOf(name: string): IPull | null {
    const mine = this._pulls.filter(p => p.name === name);
    return (
      mine.find(p => p.state === 'running') ?? mine[mine.length - 1] ?? null
    );
  }

  get pulls(): ReadonlyArray<IPull> {
    return this._pulls;
  }

  /** What a row says besides its figures: the pull's line, or the badge's meaning. */
  describe(entry: ICatalogEntry): string {
    const trans = this._trans;
    const pull = this.pullOf(entry.name);
    if (pull?.state === 'running') {
      return pull.progress?.message ?? trans.__('starting…');
    }
    if (pull?.state === 'failed' || pull?.state === 'cancelled') {
      return pull.error?.message ?? trans.__('stopped');
    }
    if (pull?.state === 'done' || entry.pulled) {
      return trans.__('Downloaded: pick it in the model list.');
    }
    const needs = trans.__(
      'needs %1 of memory',
      humanSize(entry.fit.need_bytes)
    );
    if (entry.fit.badge === 'too large') {
      return trans.__('too large for this machine (%1)', needs);
    }
    return needs;
  }

  /** Load the catalog and the server's pulls; poll while any runs. */
  async refresh(): Promise<void> {
    this._loading = true;
    this._changed.emit();
    try {
      const [catalog, pulls] = await Promise.all([
        this._api.catalog(),
        this._api.pulls()
      ]);
      this._catalog = catalog;
      this._setPulls(pulls.pulls, false);
      this._error = '';
    } catch (error) {
      this._error = (error as Error).message;
    } finally {
      this._loading = false;
    }
    this._changed.emit();
    this._schedule();
  }

  /** Start pulling `name` (or join the server's running pull of it). */
  async download(name: string): Promise<void> {
    try {
      const { pull } = await this._api.startPull(name);
      this._pulls = this._pulls.filter(p => p.id !== pull.id).concat(pull);
      this._error = '';
    } catch (error) {
      this._error = (error as Error).message;
    }
    this._changed.emit();
    this._schedule();
  }

  /** Stop `name`'s running pull (what was downloaded is kept for the next Download). */
  async cancel(name: string): Promise<void> {
    const pull = this.pullOf(name);
    if (!pull || pull.state !== 'running') {
      return;
    }
    try {
      await this._api.cancelPull(pull.id);
    } catch (error) {
      this._error = (error as Error).message;
      this._changed.emit();
    }
    await this.poll();
  }

  /** Look at the server's pulls once (the timer calls this while any runs). */
  async poll(): Promise<void> {
    this._clearTimer();
    try {
      const { pulls } = await this._api.pulls();
      this._setPulls(pulls, true);
    } catch (error) {
      this._error = (error as Error).message;
    }
    this._changed.emit();
    this._schedule();
  }

  dispose(): void {
    this._disposed = true;
    this._clearTimer();
    Signal.clearData(this);
  }

  private _setPulls(pulls: IPull[], notify: boolean): void {
    const before = new Map(this._pulls.map(p => [p.id, p.state]));
    this._pulls = pulls;
    for (const pull of pulls) {
      const was = before.get(pull.id);
      // a pull seen running (here or before a reload) that is now done
      if (pull.state === 'done' && (was === 'running' || (!notify && false))) {
        this._onPulled(pull);
      }
    }
  }

  private _schedule(): void {
    if (
      this._disposed ||
      this._handle !== null ||
      !this._pulls.some(p => p.state === 'running')
    ) {
      return;
    }
    this._handle = this._timer.set(() => {
      this._handle = null;
      void this.poll();
    }, this._pollMs);
  }

  private _clearTimer(): void {
    if (this._handle !== null) {
      this._timer.clear(this._handle);
      this._handle = null;
    }
  }

  private _api: ICatalogApi;
  private _onPulled: (pull: IPull) => void;
  private _trans: ITrans;
  private _timer: IPollTimer;
  private _pollMs: number;
  private _catalog: ICatalog | null = null;
  private _pulls: IPull[] = [];
  private _error = '';
  private _loading = false;
  private _handle: unknown = null;
  private _disposed = false;
  private _changed = new Signal<CatalogModel, void>(this);
}
