/**
 * What a code block in an answer can do: copy, insert below the active cell, replace the
 * selection, apply to the cell (through the command `tinyai:apply-code-to-cell`, when a
 * plugin provides it). Nothing here runs code: inserting only edits the notebook.
 */
import { Clipboard } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';

/** The part of JupyterLab's command registry used here. */
export interface ICommands {
  hasCommand(id: string): boolean;
  execute(id: string, args: { code: string }): Promise<unknown>;
}

/** The command that applies code to the active cell (registered by the edit plugin). */
export const APPLY_COMMAND = 'tinyai:apply-code-to-cell';

export interface ICodeActions {
  copy(code: string): void;
  insertBelow(code: string): boolean;
  /** Replace the selected text; false (nothing changed) when nothing is selected. */
  replaceSelection(code: string): boolean;
  /** Whether text is selected in the active cell (Replace selection needs some). */
  hasSelection(): boolean;
  /** Whether "Apply to cell" is available. */
  canApply(): boolean;
  apply(code: string): void;
}

/** The selected range of the active cell's editor, or null when nothing is selected. */
function selectedRange(
  tracker: INotebookTracker
): { start: number; end: number } | null {
  const editor = tracker.currentWidget?.content.activeCell?.editor;
  if (!editor) {
    return null;
  }
  const range = editor.getSelection();
  const a = editor.getOffsetAt(range.start);
  const b = editor.getOffsetAt(range.end);
  return a === b ? null : { start: Math.min(a, b), end: Math.max(a, b) };
}

export function notebookCodeActions(
  tracker: INotebookTracker,
  commands: ICommands | null = null
): ICodeActions {
  return {
    copy(code: string): void {
      Clipboard.copyToSystem(code);
    },
    insertBelow(code: string): boolean {
      const panel = tracker.currentWidget;
      if (!panel) {
        return false;
      }
      const notebook = panel.content;
      NotebookActions.insertBelow(notebook);
      const cell = notebook.activeCell;
      if (!cell) {
        return false;
      }
      if (cell.model.type !== 'code') {
        NotebookActions.changeCellType(notebook, 'code');
      }
      notebook.activeCell?.model.sharedModel.setSource(code);
      return true;
    },
    replaceSelection(code: string): boolean {
      const cell = tracker.currentWidget?.content.activeCell;
      const range = selectedRange(tracker);
      if (!cell || !range) {
        return false; // never glued onto the cursor's line
      }
      cell.model.sharedModel.updateSource(range.start, range.end, code);
      return true;
    },
    hasSelection(): boolean {
      return selectedRange(tracker) !== null;
    },
    canApply(): boolean {
      return !!commands?.hasCommand(APPLY_COMMAND);
    },
    apply(code: string): void {
      if (commands?.hasCommand(APPLY_COMMAND)) {
        void commands.execute(APPLY_COMMAND, { code });
      }
    }
  };
}
