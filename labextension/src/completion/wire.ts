/**
 * Inline completion without the DOM: what is sent for a cursor in a notebook, its settings,
 * and reading the streamed answer (`POST <base>/tinyai/complete`, one JSON object a line:
 * `{"text"}`… then `{"stats"}`, or `{"error": {"kind", "message"}}`).
 */

/** A cell as the server reads it. */
export interface ICellSource {
  cell_type: string;
  source: string;
}

/** The body of `POST /tinyai/complete`. */
export interface ICompleteRequest {
  cells: ICellSource[];
  /** The cursor's cell. */
  index: number;
  /** Its code before and after the cursor. */
  before: string;
  after: string;
  /** Recently edited cells, the most recent last (extra context for the model). */
  recent: number[];
  language: string;
  /** A new request of a session cancels its request in progress. */
  session: string;
  model?: string;
  max_lines?: number;
}

/** The settings of the completion provider (part of the plugin's settings). */
export interface ICompletionSettings {
  completionEnabled: boolean;
  completionTrigger: 'automatic' | 'manual';
  completionDebounce: number;
  completionMaxLines: number | null;
  completionModel: string;
}

export const DEFAULT_COMPLETION_SETTINGS: ICompletionSettings = {
  completionEnabled: true,
  completionTrigger: 'automatic',
  completionDebounce: 150,
  completionMaxLines: null,
  completionModel: ''
};

/**
 * The completion settings in the plugin's settings (`composite`), each checked: a value of
 * the wrong type (a hand-edited settings file) falls back to its default.
 */
export function completionSettings(composite: {
  [key: string]: unknown;
}): ICompletionSettings {
  const d = DEFAULT_COMPLETION_SETTINGS;
  const get = composite ?? {};
  const integer = (value: unknown, min: number, max: number) =>
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= min &&
    value <= max;
  return {
    completionEnabled:
      typeof get.completionEnabled === 'boolean'
        ? get.completionEnabled
        : d.completionEnabled,
    completionTrigger:
      get.completionTrigger === 'manual' ||
      get.completionTrigger === 'automatic'
        ? get.completionTrigger
        : d.completionTrigger,
    completionDebounce: integer(get.completionDebounce, 0, 5000)
      ? (get.completionDebounce as number)
      : d.completionDebounce,
    completionMaxLines: integer(get.completionMaxLines, 1, 1000)
      ? (get.completionMaxLines as number)
      : d.completionMaxLines,
    completionModel:
      typeof get.completionModel === 'string'
        ? get.completionModel.trim()
        : d.completionModel
  };
}

/**
 * Whether a trigger asks the server at all: not when completion is off, nor on typing when
 * it is manual (JupyterLab's "Invoke inline completer" command still asks), nor with no
 * code before the cursor.
 */
export function shouldAsk(
  settings: ICompletionSettings,
  automatic: boolean,
  before: string
): boolean {
  if (!settings.completionEnabled) {
    return false;
  }
  if (automatic && settings.completionTrigger === 'manual') {
    return false;
  }
  return before.trim().length > 0;
}

/** Most characters of notebook sent with one request: the cells nearest the cursor's first. */
export const MAX_SENT_CHARS = 200_000;

/**
 * The request for a cursor at `offset` of `text` in cell `index` of `cells`. Cells far from
 * the cursor are left out (sent empty) once MAX_SENT_CHARS is reached.
 */
export function completeRequest(options: {
  cells: ICellSource[];
  index: number;
  text: string;
  offset: number;
  recent: number[];
  language: string;
  session: string;
  settings: ICompletionSettings;
}): ICompleteRequest {
  const { index, text, offset, settings } = options;
  const cells = options.cells.map(cell => ({ ...cell }));
  cells[index] = { cell_type: 'code', source: text };
  let left = MAX_SENT_CHARS - text.length;
  for (let distance = 1; distance < cells.length; distance++) {
    for (const i of [index - distance, index + distance]) {
      if (i < 0 || i >= cells.length) {
        continue;
      }
      if (cells[i].source.length <= left) {
        left -= cells[i].source.length;
      } else {
        left = 0;
        cells[i] = { cell_type: cells[i].cell_type, source: '' };
      }
    }
  }
  const request: ICompleteRequest = {
    cells,
    index,
    before: text.slice(0, offset),
    after: text.slice(offset),
    recent: options.recent.filter(
      i => i !== index && i >= 0 && i < cells.length
    ),
    language: options.language,
    session: options.session
  };
  if (settings.completionModel) {
    request.model = settings.completionModel;
  }
  if (settings.completionMaxLines) {
    request.max_lines = settings.completionMaxLines;
  }
  return request;
}

/** One line of the streamed answer. */
export interface ICompleteEvent {
  text?: string;
  stats?: { finish_reason?: string; [key: string]: unknown };
  error?: { kind?: string; message?: string };
}

/** Splits a streamed body into its JSON lines (a line may arrive in pieces). */
export class LineReader {
  push(piece: string): ICompleteEvent[] {
    this._pending += piece;
    const lines = this._pending.split('\n');
    this._pending = lines.pop() ?? '';
    const events: ICompleteEvent[] = [];
    for (const line of lines) {
      if (line.trim()) {
        events.push(JSON.parse(line) as ICompleteEvent);
      }
    }
    return events;
  }

  private _pending = '';
}

/**
 * A completion as it streams in: `next()` resolves with the whole text so far each time it
 * grows, and with `done` at the end. Reading stops when `abort()` is called.
 */
export class CompletionStream {
  constructor(
    private _read: () => Promise<{ done: boolean; value?: string }>,
    private _abort: () => void = () => undefined
  ) {}

  /** The text so far. */
  text = '';
  /** The server's one-line message when it failed. */
  error: string | null = null;
  done = false;

  /** Read until the text grows or the stream ends; the text so far. */
  async next(): Promise<string> {
    const before = this.text;
    while (!this.done && this.text === before) {
      let chunk: { done: boolean; value?: string };
      try {
        chunk = await this._read();
      } catch (reason) {
        this.done = true;
        if ((reason as Error)?.name !== 'AbortError') {
          this.error = `The completion stopped: ${(reason as Error)?.message ?? reason}`;
        }
        break;
      }
      if (chunk.done) {
        this.done = true;
        break;
      }
      for (const event of this._lines.push(chunk.value ?? '')) {
        if (event.text) {
          this.text += event.text;
        }
        if (event.error) {
          this.error = event.error.message ?? 'The completion failed.';
          this.done = true;
        }
        if (event.stats) {
          this.done = true;
        }
      }
    }
    return this.text;
  }

  abort(): void {
    this.done = true;
    this._abort();
  }

  private _lines = new LineReader();
}

/** Recently edited cells of one notebook, by cell id: the most recent last. */
export class RecentCells {
  constructor(private _size = 4) {}

  touch(id: string): void {
    this._ids = this._ids.filter(other => other !== id);
    this._ids.push(id);
    this._ids.splice(0, Math.max(0, this._ids.length - this._size));
  }

  /** Their indices among `ids` (the notebook's cell ids in order), the most recent last. */
  indices(ids: string[]): number[] {
    return this._ids.map(id => ids.indexOf(id)).filter(i => i >= 0);
  }

  private _ids: string[] = [];
}

/** Resolves after `ms` milliseconds (0: at once). */
export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, Math.max(0, ms)));
}
