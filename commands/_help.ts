import { Help, type Command } from '@oclif/core';
import { reflow } from '../src/render/prose.js';

/**
 * arcp's help (for `arcp help X`, `arcp X --help` and `-h` alike): descriptions re-flowed so
 * they wrap once, at the terminal's width; repeatable flags show no `[default: ]`.
 */
export default class ArcpHelp extends Help {
  protected override formatCommand(command: Command.Loadable): string {
    const flags = Object.fromEntries(Object.entries(command.flags).map(([k, f]) => [k, Array.isArray(f.default) && f.default.length === 0 ? { ...f, default: undefined } : f]));
    return super.formatCommand({ ...command, description: command.description && reflow(command.description), flags } as Command.Loadable);
  }
}
