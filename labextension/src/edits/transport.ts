/**
 * `POST <base>/tinyai/edit` through Jupyter's authenticated request (token, XSRF), its JSON
 * lines read as they arrive.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { IEditMessage, IEditRequest, IEditTransport } from './model';

/** Splits a stream of text into lines, each handed over whole. */
export class LineSplitter {
  constructor(private _onLine: (line: string) => void) {}

  push(text: string): void {
    this._rest += text;
    let end = this._rest.indexOf('\n');
    while (end >= 0) {
      const line = this._rest.slice(0, end).trim();
      this._rest = this._rest.slice(end + 1);
      if (line) {
        this._onLine(line);
      }
      end = this._rest.indexOf('\n');
    }
  }

  end(): void {
    const line = this._rest.trim();
    this._rest = '';
    if (line) {
      this._onLine(line);
    }
  }

  private _rest = '';
}

export function restEditTransport(
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): IEditTransport {
  return {
    async stream(
      request: IEditRequest,
      onMessage: (message: IEditMessage) => void,
      signal: AbortSignal
    ) {
      const url = URLExt.join(settings.baseUrl, 'tinyai', 'edit');
      const response = await ServerConnection.makeRequest(
        url,
        { method: 'POST', body: JSON.stringify(request), signal },
        settings
      );
      if (!response.ok) {
        let error: any = null;
        try {
          error = await response.json();
        } catch {
          error = null;
        }
        onMessage({
          type: 'error',
          kind: error?.kind,
          message:
            error?.message ||
            `the server answered ${response.status} ${response.statusText}`
        });
        return;
      }
      const lines = new LineSplitter(line =>
        onMessage(JSON.parse(line) as IEditMessage)
      );
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          break;
        }
        lines.push(decoder.decode(value, { stream: true }));
      }
      lines.end();
    }
  };
}
