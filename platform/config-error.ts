/** A configuration that cannot run, naming each variable at fault and what is wrong with it. */
export class ConfigError extends Error {
  constructor(public readonly problems: { variable: string; message: string }[]) {
    super('Invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}
