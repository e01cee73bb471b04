import { CommandHelp, Help } from '@oclif/core';
import { layout, reflow } from '../src/render/prose.js';

/** A command's help: its description laid out once, at the help's width (oclif's own wrap would re-wrap it and drop hanging indents). */
class ArcpCommandHelp extends CommandHelp {
  protected override description(): string | undefined {
    const { summary, description } = this.command;
    if (!description) return undefined;
    return layout(reflow(summary ? `${summary}\n\n${description}` : description), this.opts.maxWidth - 2);
  }
}

/**
 * arcp's help (for `arcp help X`, `arcp X --help` and `-h` alike): hard-wrapped descriptions
 * re-flowed and laid out once, two-column rows with a hanging indent; repeatable flags show no
 * `[default: ]`.
 */
export default class ArcpHelp extends Help {
  protected override CommandHelpClass = ArcpCommandHelp;

  protected override formatCommand(command: Parameters<Help['formatCommand']>[0]): string {
    const flags = Object.fromEntries(Object.entries(command.flags).map(([k, f]) => [k, Array.isArray(f.default) && f.default.length === 0 ? { ...f, default: undefined } : f]));
    return super.formatCommand({ ...command, flags });
  }
}
