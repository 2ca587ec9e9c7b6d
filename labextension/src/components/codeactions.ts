/**
 * What a code block in an answer can do: copy, insert below the active cell, replace the
 * selection. Nothing here runs code: inserting only edits the notebook.
 */
import { Clipboard } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';

export interface ICodeActions {
  copy(code: string): void;
  insertBelow(code: string): boolean;
  replaceSelection(code: string): boolean;
}

export function notebookCodeActions(tracker: INotebookTracker): ICodeActions {
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
      const editor = cell?.editor;
      if (!cell || !editor) {
        return false;
      }
      const range = editor.getSelection();
      const a = editor.getOffsetAt(range.start);
      const b = editor.getOffsetAt(range.end);
      cell.model.sharedModel.updateSource(Math.min(a, b), Math.max(a, b), code);
      return true;
    }
  };
}
