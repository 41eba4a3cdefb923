/**
 * "Insert below" and "Insert and run" on the code blocks of agent replies, where a notebook
 * can take the code — as actions of the transcript's code-block registry (transcript/actions.ts),
 * which draws them on each block's bar beside its Copy button, in the lab's session tabs and in
 * the notebook widgets of the page alike.
 */
import type { ICodeBlockAction, ICodeBlockContext } from '../transcript/actions';

export interface ICodeTarget {
  /** Where the code goes, for the buttons' tooltips ("below the active cell"). */
  where: string;
  /** Insert (and run) the code of the block `from`; rejects with a message for the user. */
  insert(code: string, run: boolean, from: HTMLElement): Promise<void>;
}

const INSERTABLE = new Set(['', 'python', 'py', 'ipython', 'python3', 'sql', 'r', 'julia']);

/** The two actions, inserting through `target(context)` (none: not offered there). */
export function insertActions(target: (context: ICodeBlockContext) => ICodeTarget | null): ICodeBlockAction[] {
  return ([
    ['insert', 'Insert below', false],
    ['insert-run', 'Insert and run', true]
  ] as const).map(([name, label, run]) => ({
    id: `glue-jupyter:${name}`,
    label,
    title: context => `${run ? 'Insert and run' : 'Insert'} this code ${target(context)?.where ?? ''}`.trim(),
    isVisible: context => INSERTABLE.has(context.language.toLowerCase()) && target(context) !== null,
    run: async context => {
      const to = target(context);
      if (!to) {
        throw new Error('No notebook can take this code here: copy it instead.');
      }
      await to.insert(context.code, run, context.node);
      return run ? 'Inserted and running' : 'Inserted';
    }
  }));
}
