/**
 * The "TinyAI" inline completion provider: ghost text from the local model as you type in a
 * code cell (JupyterLab 4.1+'s inline completer shows it; Tab accepts, Escape dismisses).
 * The notebook's cells go to `POST <base>/tinyai/complete`; the answer streams in.
 */
import {
  CompletionHandler,
  IInlineCompletionContext,
  IInlineCompletionItem,
  IInlineCompletionList,
  IInlineCompletionProvider,
  InlineCompletionTriggerKind
} from '@jupyterlab/completer';
import { URLExt } from '@jupyterlab/coreutils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { TranslationBundle } from '@jupyterlab/translation';

import {
  CompletionStream,
  completeRequest,
  DEFAULT_COMPLETION_SETTINGS,
  ICellSource,
  ICompletionSettings,
  RecentCells,
  shouldAsk,
  sleep
} from './wire';
import { tinyaiIcon } from '../icons';

export const COMPLETION_PROVIDER_ID = 'jupyter-tinyai';

export class TinyAICompletionProvider implements IInlineCompletionProvider {
  readonly identifier = COMPLETION_PROVIDER_ID;
  readonly name = 'TinyAI';
  readonly icon = tinyaiIcon;
  /** Defaults for JupyterLab's own settings of this provider: the debouncing is ours
   * (the TinyAI settings), and completing in the middle of a line works. */
  readonly schema: ISettingRegistry.IProperty = {
    default: {
      enabled: true,
      debouncerDelay: 0,
      timeout: 30000,
      autoFillInMiddle: true
    }
  };

  constructor(
    private _options: {
      settings: () => ICompletionSettings;
      trans: TranslationBundle;
      serverSettings?: ServerConnection.ISettings;
    }
  ) {}

  async fetch(
    request: CompletionHandler.IRequest,
    context: IInlineCompletionContext
  ): Promise<IInlineCompletionList<IInlineCompletionItem>> {
    const settings = {
      ...DEFAULT_COMPLETION_SETTINGS,
      ...this._options.settings()
    };
    const automatic =
      context.triggerKind === InlineCompletionTriggerKind.Automatic;
    const serial = ++this._serial;
    this._current?.abort(); // the request of the previous keystroke is stale now
    this._current = null;
    if (
      !shouldAsk(settings, automatic, request.text.slice(0, request.offset))
    ) {
      return { items: [] };
    }
    if (automatic && settings.completionDebounce > 0) {
      await sleep(settings.completionDebounce);
      if (serial !== this._serial) {
        return { items: [] }; // another keystroke came meanwhile
      }
    }
    const stream = this._start(request, context, settings);
    this._current = stream;
    const text = await stream.next();
    if (serial !== this._serial) {
      stream.abort();
      return { items: [] };
    }
    if (stream.error) {
      return { items: [{ insertText: '', error: { message: stream.error } }] };
    }
    if (!text) {
      return { items: [] };
    }
    const token = String(serial);
    this._streams.set(token, stream);
    return { items: [{ insertText: text, token, isIncomplete: !stream.done }] };
  }

  async *stream(
    token: string
  ): AsyncGenerator<{ response: IInlineCompletionItem }, undefined, unknown> {
    const stream = this._streams.get(token);
    if (!stream) {
      return;
    }
    try {
      while (!stream.done) {
        const text = await stream.next();
        yield {
          response: { insertText: text, token, isIncomplete: !stream.done }
        };
      }
    } finally {
      this._streams.delete(token);
    }
  }

  private _start(
    request: CompletionHandler.IRequest,
    context: IInlineCompletionContext,
    settings: ICompletionSettings
  ): CompletionStream {
    const serverSettings =
      this._options.serverSettings ?? ServerConnection.makeSettings();
    const body = this._body(request, context, settings);
    const abort = new AbortController();
    const url = URLExt.join(serverSettings.baseUrl, 'tinyai', 'complete');
    let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
    const decoder = new TextDecoder();
    const trans = this._options.trans;
    const read = async (): Promise<{ done: boolean; value?: string }> => {
      if (reader === null) {
        const response = await ServerConnection.makeRequest(
          url,
          { method: 'POST', body: JSON.stringify(body), signal: abort.signal },
          serverSettings
        );
        if (!response.ok || !response.body) {
          let message = trans.__(
            'The TinyAI server answered %1 %2.',
            response.status,
            response.statusText
          );
          try {
            const data = await response.json();
            message = data.message || message;
          } catch {
            // not JSON: the status line says it
          }
          throw new Error(message);
        }
        reader = response.body.getReader();
      }
      const { done, value } = await reader.read();
      return {
        done,
        value: value ? decoder.decode(value, { stream: true }) : ''
      };
    };
    return new CompletionStream(read, () => abort.abort());
  }

  private _body(
    request: CompletionHandler.IRequest,
    context: IInlineCompletionContext,
    settings: ICompletionSettings
  ) {
    const widget = context.widget;
    let cells: ICellSource[] = [{ cell_type: 'code', source: request.text }];
    let index = 0;
    let recent: number[] = [];
    let language = languageOf(request.mimeType ?? '');
    if (widget instanceof NotebookPanel && widget.model) {
      const models = Array.from(widget.model.cells);
      index = Math.max(0, widget.content.activeCellIndex);
      cells = models.map(cell => ({
        cell_type: cell.type,
        source: cell.sharedModel.getSource()
      }));
      const ids = models.map(cell => cell.id);
      const recentCells = this._recent.get(widget.id) ?? new RecentCells();
      this._recent.set(widget.id, recentCells);
      const active = ids[index];
      if (active !== undefined) {
        recentCells.touch(active);
      }
      recent = recentCells.indices(ids);
      const info = widget.model.getMetadata('language_info') as
        { name?: string } | undefined;
      language = info?.name ?? language;
    }
    return completeRequest({
      cells,
      index,
      text: request.text,
      offset: request.offset,
      recent,
      language,
      session: widget.id,
      settings
    });
  }

  private _serial = 0;
  private _current: CompletionStream | null = null;
  private _streams = new Map<string, CompletionStream>();
  private _recent = new Map<string, RecentCells>();
}

/** The language of an editor's MIME type ("text/x-ipython" → "python"). */
function languageOf(mimeType: string): string {
  const name = (mimeType || '').split('/').pop() ?? '';
  return name.replace(/^x-/, '').replace(/^ipython$/, 'python') || 'python';
}
