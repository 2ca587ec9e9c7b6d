/**
 * Notebook context sent with a prompt: the active cell, the selection in it, the last error.
 */
import { Cell, CodeCell } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';

import { cellKind, cellName } from './state/include';
import { ContextSource, IContextPiece } from './tokens';

// eslint-disable-next-line no-control-regex -- an ANSI colour code starts with ESC (0x1b)
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** Terminal colour codes out of a traceback. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** "cell 3 [7]": the cell's number in the notebook, and its execution count if it ran. */
export function cellLabel(panel: NotebookPanel, cell: Cell): string {
  const index = panel.content.widgets.indexOf(cell) + 1;
  const count =
    cell.model.type === 'code' ? (cell as CodeCell).model.executionCount : null;
  return cellName(index, count);
}

/** The source of the active cell. */
export function activeCellContext(
  panel: NotebookPanel | null
): IContextPiece | null {
  const cell = panel?.content.activeCell;
  if (!panel || !cell) {
    return null;
  }
  const text = cell.model.sharedModel.getSource();
  return text.trim()
    ? {
        label: `${cellKind(cell.model.type)} (${cellLabel(panel, cell)})`,
        text
      }
    : null;
}

/** The text selected in the active cell's editor, or null when nothing is selected. */
export function selectionContext(
  panel: NotebookPanel | null
): IContextPiece | null {
  const cell = panel?.content.activeCell;
  const editor = cell?.editor;
  if (!panel || !cell || !editor) {
    return null;
  }
  const range = editor.getSelection();
  const start = editor.getOffsetAt(range.start);
  const end = editor.getOffsetAt(range.end);
  if (start === end) {
    return null;
  }
  const text = cell.model.sharedModel
    .getSource()
    .slice(Math.min(start, end), Math.max(start, end));
  return text.trim()
    ? { label: `Selection (${cellLabel(panel, cell)})`, text }
    : null;
}

/**
 * The error to work on: `cell`'s error output, else the notebook's last one; null when the
 * notebook has none.
 */
export function errorCell(
  panel: NotebookPanel,
  cell: Cell | null
): { cell: Cell; error: string } | null {
  const candidates = [
    ...(cell ? [cell] : []),
    ...[...panel.content.widgets].reverse()
  ];
  for (const c of candidates) {
    const error = cellError(c);
    if (error !== null) {
      return { cell: c, error };
    }
  }
  return null;
}

/** The error output of `cell`, as the traceback text, or null. */
export function cellError(cell: Cell): string | null {
  if (cell.model.type !== 'code') {
    return null;
  }
  const outputs = (cell as CodeCell).model.outputs;
  for (let i = outputs.length - 1; i >= 0; i--) {
    const output = outputs.get(i).toJSON() as any;
    if (output.output_type === 'error') {
      const traceback = Array.isArray(output.traceback)
        ? output.traceback.join('\n')
        : '';
      return stripAnsi(traceback || `${output.ename}: ${output.evalue}`);
    }
  }
  return null;
}

/** The last error of the notebook: the active cell's if it has one, else the last cell with one. */
export function lastErrorContext(
  panel: NotebookPanel | null
): IContextPiece | null {
  if (!panel) {
    return null;
  }
  const active = panel.content.activeCell;
  const cells = active
    ? [active, ...[...panel.content.widgets].reverse()]
    : [...panel.content.widgets].reverse();
  for (const cell of cells) {
    const error = cellError(cell);
    if (error) {
      return { label: `Error (${cellLabel(panel, cell)})`, text: error };
    }
  }
  return null;
}

/** The context pieces for `source` ('none': the selection when there is one, else nothing). */
export function gatherContext(
  panel: NotebookPanel | null,
  source: ContextSource
): IContextPiece[] {
  let piece: IContextPiece | null = null;
  switch (source) {
    case 'none':
      piece = selectionContext(panel);
      break;
    case 'cell':
      piece = activeCellContext(panel);
      break;
    case 'selection':
      piece = selectionContext(panel) ?? activeCellContext(panel);
      break;
    case 'error':
      piece = lastErrorContext(panel);
      break;
  }
  return piece ? [piece] : [];
}
