// An error meant for the person at the terminal: the CLI prints its message as one line.
export class UserError extends Error {
  readonly userFacing = true;
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
