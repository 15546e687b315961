// The one command of the baseline CLI.
import { Command, Flags } from '@oclif/core';

export default class Hello extends Command {
  static summary = 'Say hello.';
  static flags = { name: Flags.string({ summary: 'Who to greet.' }) };

  async run() {
    const { flags } = await this.parse(Hello);
    this.log(`hello ${flags.name ?? 'world'}`);
  }
}
