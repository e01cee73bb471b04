import { runDriver } from '../../src/conform/driver.js';
import { ArcpCommand } from '../_base.js';

export default class ConformDriver extends ArcpCommand {
  static override summary = "This project's client as a conformance driver: runs ARCP_CONFORMANCE_SCENARIO";
  static override description = `Run under \`arcp conform client -- arcp conform driver\`: reads ARCP_URL, ARCP_TOKEN and
ARCP_CONFORMANCE_SCENARIO and plays that scenario with the reference client.

Exit codes: 0 the scenario ran to its end, 1 it did not, 2 the environment is missing.`;
  static override examples = ['<%= config.bin %> conform client -- <%= config.bin %> conform driver'];

  async run(): Promise<void> {
    await this.parse(ConformDriver);
    await runDriver();
  }
}
