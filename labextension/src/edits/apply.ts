/**
 * Putting an accepted proposal into its cell: the smallest replacement (so a selection's
 * surroundings are untouched), as one step of the cell's undo history, never run.
 */
import { Cell } from '@jupyterlab/cells';

import { minimalChange } from './change';

/** The part of @jupyter/ydoc's undo manager used here. */
interface IUndoManager {
  stopCapturing(): void;
}

export type ApplyResult = 'applied' | 'same' | 'changed';

/**
 * Replace `cell`'s source, which must still be `original`, by `proposal`, as one undoable edit:
 * 'changed' (nothing done) when the cell was edited since the proposal was made.
 */
export function applyProposal(
  cell: Cell,
  original: string,
  proposal: string
): ApplyResult {
  const shared = cell.model.sharedModel;
  const now = shared.getSource();
  if (now !== original) {
    return 'changed';
  }
  const change = minimalChange(now, proposal);
  if (!change) {
    return 'same';
  }
  const undo = undoManagerOf(shared);
  // a step of its own: not merged with typing just before or after it
  undo?.stopCapturing();
  shared.updateSource(change.from, change.to, change.insert);
  undo?.stopCapturing();
  return 'applied';
}

function undoManagerOf(shared: unknown): IUndoManager | null {
  const cell = shared as {
    undoManager?: IUndoManager | null;
    notebook?: { undoManager?: IUndoManager | null } | null;
  };
  return cell.undoManager ?? cell.notebook?.undoManager ?? null;
}
